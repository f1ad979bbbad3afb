import { browserSuite } from './browser.ts'
import { pageResumeSuite } from './page-resume.ts'
import { smokeSuite } from './smoke.ts'

smokeSuite('hono')
browserSuite('hono')
pageResumeSuite('hono')
