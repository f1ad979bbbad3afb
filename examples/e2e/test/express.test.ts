import { browserSuite } from './browser.ts'
import { pageResumeSuite } from './page-resume.ts'
import { smokeSuite } from './smoke.ts'

smokeSuite('express')
browserSuite('express')
pageResumeSuite('express')
