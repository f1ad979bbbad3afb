/** What went wrong, said so that the README or manifest line to fix can be found at once. */
export interface Failure {
  /** The package (`@sse/express`) or, for a README outside packages, its path. */
  subject: string
  /** The step: install, manifest, link, compile, declarations, run, options, attw. */
  area: string
  /** Where: `packages/koa/README.md:22`, a manifest field, an entry point. */
  where: string
  /** Compile matrix entries (or other variants) that failed the same way. */
  configs?: string[]
  message: string
}

export class Report {
  readonly failures: Failure[] = []
  readonly notes: string[] = []
  readonly timings: Array<[string, number]> = []

  fail(failure: Failure): void {
    this.failures.push(failure)
  }

  note(text: string): void {
    this.notes.push(text)
  }

  time(step: string, ms: number): void {
    this.timings.push([step, ms])
  }

  /**
   * Time per kind of step (the first word of its name): how many, their summed duration and the
   * longest. Steps overlap (2 slots), so the sums add up to more than the total.
   */
  timingSummary(): string {
    const phases = new Map<string, number[]>()
    for (const [step, ms] of this.timings) {
      const phase = step.split(' ')[0]!
      phases.set(phase, [...(phases.get(phase) ?? []), ms])
    }
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`
    return [...phases]
      .map(([phase, list]) => {
        const sum = list.reduce((a, b) => a + b, 0)
        return list.length === 1
          ? `${phase} ${s(sum)}`
          : `${phase} ${list.length}x: ${s(sum)} (longest ${s(Math.max(...list))})`
      })
      .join('\n  ')
  }

  /** One section per subject, its failures grouped by area in the order of the steps. */
  format(): string {
    const out: string[] = []
    const subjects = [...new Set(this.failures.map((f) => f.subject))].sort()
    for (const subject of subjects) {
      const mine = this.failures.filter((f) => f.subject === subject)
      out.push(`\n${subject}: ${mine.length} failure${mine.length === 1 ? '' : 's'}`)
      for (const area of areaOrder) {
        for (const f of mine.filter((x) => x.area === area)) out.push(formatOne(f))
      }
      for (const f of mine.filter((x) => !areaOrder.includes(x.area))) out.push(formatOne(f))
    }
    return out.join('\n')
  }
}

const areaOrder = [
  'pack',
  'manifest',
  'link',
  'install',
  'declarations',
  'compile',
  'run',
  'options',
  'attw',
]

function formatOne(f: Failure): string {
  const configs = f.configs?.length ? ` [${f.configs.join(', ')}]` : ''
  const message = f.message.replace(/\n/g, '\n      ')
  return `  ${f.area.padEnd(12)} ${f.where}${configs}\n      ${message}`
}
