import { browserSuite } from './browser.ts'
import { smokeSuite } from './smoke.ts'

smokeSuite('fastify')
browserSuite('fastify')
