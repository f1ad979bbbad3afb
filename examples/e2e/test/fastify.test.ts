import { smokeSuite } from './smoke.ts'

smokeSuite('fastify')
