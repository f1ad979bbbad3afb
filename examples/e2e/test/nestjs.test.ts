import { browserSuite } from './browser.ts'
import { smokeSuite } from './smoke.ts'

smokeSuite('nestjs')
browserSuite('nestjs')
