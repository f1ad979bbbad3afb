/**
 * `pnpm test:install`: the "install and go" check, as a new user would do it. See
 * install-check/README.md for what it checks and the README conventions it reads.
 *
 *   --only @sse/express,@sse/core   check these packages only
 *   --cold                          use an empty npm cache (to measure a first run)
 *   --jobs N                        heavy child processes at once (default 2)
 *   --keep                          keep the temporary projects, to rerun tsc by hand
 *   --no-attw                       skip attw's full profile
 *   --timings                       print the duration of every step
 *   --self-test                     show that the harness reports a broken fixture README
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { check } from './check.ts'
import { readmePaths } from './repo.ts'
import { selfTest } from './self-test.ts'
import { seconds } from './util.ts'

const { values } = parseArgs({
  options: {
    only: { type: 'string', default: '' },
    cold: { type: 'boolean', default: false },
    jobs: { type: 'string', default: '2' },
    keep: { type: 'boolean', default: false },
    'no-attw': { type: 'boolean', default: false },
    'self-test': { type: 'boolean', default: false },
    timings: { type: 'boolean', default: false },
  },
})

const root = resolve(import.meta.dirname, '../..')
// One npm cache for every fresh project and every run, outside the repository; --cold starts
// from an empty one to show what a first run costs.
const npmCache = values.cold
  ? mkdtempSync(join(tmpdir(), 'sse-install-check-cache-'))
  : (process.env.SSE_INSTALL_CHECK_CACHE ?? join(homedir(), '.cache/sse-install-check/npm'))
const log = (line: string) => console.log(`[install-check] ${line}`)

if (values['self-test']) {
  process.exitCode = await selfTest({ root, npmCache, log })
} else {
  const report = await check({
    root,
    docsRoot: root,
    readmes: readmePaths(root),
    only: values.only.split(',').filter(Boolean),
    npmCache,
    jobs: Number(values.jobs),
    keep: values.keep,
    attw: !values['no-attw'],
    log,
  })
  const total = report.timings.find(([step]) => step === 'total')?.[1] ?? 0
  console.log(report.format())
  if (values.timings)
    for (const [step, ms] of report.timings) console.log(`${seconds(ms).padStart(8)}  ${step}`)
  console.log(`\ntime by step:\n  ${report.timingSummary()}`)
  const count = report.failures.length
  console.log(`\n${count} failure${count === 1 ? '' : 's'} in ${seconds(total)}`)
  process.exitCode = count > 0 ? 1 : 0
}
if (values.cold) rmSync(npmCache, { recursive: true, force: true })
