import { smokeSuite } from './smoke.ts'

smokeSuite('express')
