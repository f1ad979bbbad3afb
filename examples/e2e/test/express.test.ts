import { browserSuite } from './browser.ts'
import { smokeSuite } from './smoke.ts'

smokeSuite('express')
browserSuite('express')
