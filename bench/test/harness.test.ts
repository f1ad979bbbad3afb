import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const bench = fileURLToPath(new URL('..', import.meta.url))

// Not a benchmark: a few clients for half a second, to check the harness still works end to
// end (server process, client process, counting, latency, storm, JSON). No figure is asserted
// beyond "everything sent was delivered".
describe('benchmark harness', () => {
  it('runs a smoke round against the floor and one of ours, delivering every event', async () => {
    const out = mkdtempSync(join(tmpdir(), 'sse-bench-'))
    await run(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/run.ts',
        '--smoke',
        '--only=raw node:http,@sse/core (node:http)',
        `--out=${out}`,
      ],
      { cwd: bench, timeout: 90_000 },
    )
    const results = JSON.parse(readFileSync(join(out, 'smoke.json'), 'utf8'))
    expect(results.summary.map((row: { contestant: string }) => row.contestant)).toEqual([
      'raw node:http',
      '@sse/core (node:http)',
    ])
    for (const row of results.summary) {
      expect(row.errors).toEqual([])
      const [fanOut] = row.scenarios
      expect(fanOut.deliveryRatio).toBe(1)
      expect(fanOut.cpuUsPerEvent).toBeGreaterThan(0)
      expect(fanOut.latencyP50Ms).toBeGreaterThanOrEqual(0)
      expect(row.ttfbP50Ms).toBeGreaterThan(0)
      expect(row.stormMs).toBeGreaterThan(0)
    }
  }, 120_000)
})
