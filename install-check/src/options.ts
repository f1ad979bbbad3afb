import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseMarkdown, type Table } from './markdown.ts'
import type { Project } from './projects.ts'
import { readmeOwner, type WorkspacePackage } from './repo.ts'
import type { Report } from './report.ts'
import { exec, tail } from './util.ts'

export interface TypeRef {
  name: string
  module: string
}

/** One options table, as the worker (options-worker.ts) receives it. */
export interface TableJob {
  /** The esm/ folder of the fresh project whose installed packages hold the types. */
  dir: string
  subject: string
  where: string
  documented: string[]
  /** From `<!-- options: ... -->`; empty when the table does not say which type it documents. */
  types: TypeRef[]
  except: TypeRef[]
  exceptNames: string[]
  /** Entry points searched for the closest `...Options` type when `types` is empty. */
  hintModules: string[]
}

export interface TableResult {
  where: string
  subject: string
  problems: string[]
}

/**
 * Tables whose first column header is `option` (any case) document an options type. The comment
 * `<!-- options: SseOptions from @sse/express -->` before the table names it; several types are
 * separated by commas (their properties together), and `; except: HubDefaults, \`name\``
 * removes properties documented elsewhere. A type without `from` is looked up in the README's
 * own package (`@sse/core` outside packages/).
 */
export function planTables(
  root: string,
  readmes: string[],
  workspace: WorkspacePackage[],
  projects: Project[],
): TableJob[] {
  const jobs: TableJob[] = []
  const projectOf = (module: string) =>
    [...projects.values()].find(
      (p) => p.packed.pkg.name === module.split('/').slice(0, 2).join('/'),
    )
  for (const readme of readmes) {
    const owner = readmeOwner(readme, workspace)
    // A private package's README documents types that are not packed: nothing to compare with.
    if (owner?.private) continue
    const home = owner && !owner.private ? owner.name : '@sse/core'
    const subject = owner && !owner.private ? owner.name : readme
    for (const table of parseMarkdown(readFileSync(join(root, readme), 'utf8')).tables) {
      if (!/^`?options?`?$/i.test(table.header[0] ?? '')) continue
      const where = `${readme}:${table.line}`
      const spec = table.directives.find((d) => d.name === 'options')?.value ?? ''
      const [typesPart = '', exceptPart = ''] = spec.split(';')
      const refs = (text: string) =>
        text
          .replace(/^\s*except:/, '')
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s && !s.startsWith('`'))
          .map((s) => {
            const [name = '', module = home] = s.split(/\s+from\s+/)
            return { name: name.trim(), module: module.trim() }
          })
      const types = refs(typesPart)
      const project = projectOf(types[0]?.module ?? home)
      if (!project) continue // its package is not among those checked (--only)
      const entries = Object.keys((project.packed.manifest.exports ?? { '.': '' }) as object)
      jobs.push({
        dir: join(project.dir, 'esm'),
        subject,
        where,
        documented: documentedNames(table),
        types,
        except: refs(exceptPart),
        exceptNames: [...exceptPart.matchAll(/`([^`]+)`/g)].map((m) => m[1]!),
        hintModules: entries
          .filter((e) => !e.endsWith('.json'))
          .map((e) => `${project.packed.pkg.name}${e.slice(1)}`),
      })
    }
  }
  return jobs
}

/** The option names of the first column: each `code` span (`hub` / `topics`), else the text. */
function documentedNames(table: Table): string[] {
  return table.rows.flatMap(({ cells }) => {
    const cell = cells[0] ?? ''
    const names = [...cell.matchAll(/`([A-Za-z_$][\w$]*)`/g)].map((m) => m[1]!)
    return names.length > 0 ? names : [cell.split(/\s/)[0]!].filter(Boolean)
  })
}

/**
 * Reads the types in a child process (options-worker.ts), one TypeScript program for all
 * tables: building it is CPU work for a while.
 */
export async function checkTables(
  jobs: TableJob[],
  typescript: string,
  slot: <T>(task: () => Promise<T>) => Promise<T>,
  report: Report,
) {
  if (jobs.length === 0) return
  const worker = join(import.meta.dirname, 'options-worker.ts')
  const input = JSON.stringify({ typescript, jobs })
  const result = await slot(() =>
    exec(process.execPath, ['--import', 'tsx', worker, input], { cwd: import.meta.dirname }),
  )
  report.time('options', result.ms)
  if (result.code !== 0) {
    const message = `type reader failed:\n${tail(result.stderr, 10)}`
    report.fail({ subject: 'options', area: 'options', where: 'options-worker.ts', message })
    return
  }
  for (const table of JSON.parse(result.stdout) as TableResult[]) {
    for (const message of table.problems)
      report.fail({ subject: table.subject, area: 'options', where: table.where, message })
  }
}
