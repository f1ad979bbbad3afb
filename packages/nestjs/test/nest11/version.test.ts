import { expect, it } from 'vitest'
import { nestVersions } from '../helpers'

it('runs on NestJS 11: the suites of this folder load its packages, which peer with each other', async () => {
  const versions = await nestVersions()
  expect(versions).toEqual({ common: 11, core: 11, platformExpress: 11, platformFastify: 11 })
})
