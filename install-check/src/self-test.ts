import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { check } from './check.ts'
import { checkReadmeLinks } from './pack.ts'
import type { Failure } from './report.ts'

interface Expectation {
  area: string
  text: string
  /** The README line the failure must point at. */
  line: number
}

const fixtures = join(import.meta.dirname, '../fixtures/self-test')

/**
 * Shows the harness can fail: runs the real pipeline (pack, fresh project, tsc matrix, runs,
 * options) on fixtures/self-test/README.md, whose `<!-- expect: area text -->` comments list
 * the failures it must report. Exit code 0 only if exactly those are reported.
 */
export async function selfTest(options: {
  root: string
  npmCache: string
  log: (line: string) => void
}): Promise<number> {
  const readme = 'README.md'
  const report = await check({
    ...options,
    docsRoot: fixtures,
    readmes: [readme],
    only: ['@sse/core'],
    jobs: 2,
    keep: false,
    attw: false,
  })
  checkReadmeLinks(join(fixtures, readme), readme, readme, report)
  // Failures of the real @sse/core (its manifest, say) are not the fixture's business.
  const found = report.failures.filter((f) => f.subject === readme)
  const expected = expectations(readFileSync(join(fixtures, readme), 'utf8'))
  const matches = (f: Failure, e: Expectation) =>
    f.area === e.area &&
    new RegExp(`^${readme}:${e.line}\\b`).test(f.where) &&
    `${f.message} ${f.configs?.join(' ') ?? ''}`.includes(e.text)
  const missed = expected.filter((e) => !found.some((f) => matches(f, e)))
  const unexpected = found.filter((f) => !expected.some((e) => matches(f, e)))
  for (const f of found) options.log(`reported: ${f.area} ${f.where}: ${f.message.split('\n')[0]}`)
  for (const e of missed) options.log(`MISSED: line ${e.line}: ${e.area} "${e.text}"`)
  for (const f of unexpected) options.log(`UNEXPECTED: ${f.area} ${f.where}: ${f.message}`)
  const ok = missed.length === 0 && unexpected.length === 0
  options.log(
    `self-test ${ok ? 'passed' : 'FAILED'}: ${found.length} failures reported, ${expected.length} expected`,
  )
  return ok ? 0 : 1
}

/** `<!-- expect: area text -->` applies to the next line that is not blank nor a comment. */
function expectations(text: string): Expectation[] {
  const lines = text.split('\n')
  const found: Expectation[] = []
  lines.forEach((line, index) => {
    const match = /^<!--\s*expect:\s*(\S+)\s+(.*?)\s*-->$/.exec(line.trim())
    if (!match) return
    let target = index + 1
    while (target < lines.length && /^(\s*|<!--.*-->)$/.test(lines[target]!.trim())) target++
    found.push({ area: match[1]!, text: match[2]!, line: target + 1 })
  })
  return found
}
