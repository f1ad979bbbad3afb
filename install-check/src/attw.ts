import type { Packed } from './pack.ts'
import type { Report } from './report.ts'
import { exec, tail } from './util.ts'

interface AttwProblem {
  kind: string
  entrypoint?: string
  resolutionKind?: string
}

/**
 * `attw` with its full ("strict") profile on the packed tarball: besides node16 and bundler, as
 * the packages' own `check:package` runs it, also `node10` resolution (`moduleResolution: node`,
 * still the default of many older setups), where subpath exports such as `@sse/core/node` are
 * invisible without `typesVersions` or stub folders.
 */
export async function checkAttw(
  root: string,
  packed: Packed,
  slot: <T>(task: () => Promise<T>) => Promise<T>,
  report: Report,
) {
  const result = await slot(() =>
    exec('pnpm', ['exec', 'attw', packed.tarball, '--format', 'json'], { cwd: root }),
  )
  report.time(`attw ${packed.pkg.name}`, result.ms)
  let problems: AttwProblem[]
  try {
    problems = (JSON.parse(result.stdout) as { analysis: { problems: AttwProblem[] } }).analysis
      .problems
  } catch {
    const message = `attw failed:\n${tail(result.stdout + result.stderr)}`
    report.fail({ subject: packed.pkg.name, area: 'attw', where: 'attw', message })
    return
  }
  const grouped = new Map<string, string[]>()
  for (const p of problems) {
    const key = `${p.kind} on ${packed.pkg.name}${(p.entrypoint ?? '.').slice(1)}`
    grouped.set(key, [...(grouped.get(key) ?? []), p.resolutionKind ?? 'all'])
  }
  for (const [message, configs] of grouped)
    report.fail({ subject: packed.pkg.name, area: 'attw', where: 'full profile', configs, message })
}
