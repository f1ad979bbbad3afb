import { createServer } from 'node:http'
import { describe, expect, it } from 'vitest'
import { CaseContext, type ConformanceTarget, conformanceCases, listen } from '../src/index'

/**
 * A server that gets the head wrong in every way the suite checks: charset missing, no
 * no-transform, no X-Accel-Buffering, the preset header dropped, refusals ignored, and no first
 * frame. The suite must fail on it; a suite that passes a broken server proves nothing.
 */
const broken: ConformanceTarget = {
  name: 'a broken server',
  start: () =>
    listen(
      createServer((_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' })
        res.flushHeaders()
      }),
    ),
}

function caseNamed(prefix: string) {
  const found = conformanceCases.find((c) => c.name.startsWith(prefix))
  if (!found) throw new Error(`no case ${prefix}`)
  return found
}

describe('the suite fails a broken server', () => {
  for (const prefix of [
    'C01',
    'C02 sends the head and a first retry',
    'C03',
    'C05',
    'C06 refuses with 401',
  ]) {
    it(prefix, async () => {
      const context = new CaseContext(broken)
      try {
        await expect(caseNamed(prefix).run(context)).rejects.toThrow()
      } finally {
        await context.cleanup()
      }
    })
  }

  it('has one case or more for every rule C01-C24, each named with its rule first', () => {
    for (let rule = 1; rule <= 24; rule++) {
      const id = `C${String(rule).padStart(2, '0')} `
      expect(
        conformanceCases.some((c) => c.name.startsWith(id)),
        id,
      ).toBe(true)
    }
    for (const c of conformanceCases) expect(c.name).toMatch(/^C\d\d /)
  })
})
