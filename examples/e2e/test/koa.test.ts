import { smokeSuite } from './smoke.ts'

smokeSuite('koa')
