import { smokeSuite } from './smoke.ts'

smokeSuite('hono')
