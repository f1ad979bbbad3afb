import { smokeSuite } from './smoke.ts'

smokeSuite('nestjs')
