/**
 * Reads the property names of exported options types from the packed packages' declaration
 * files, as installed in a fresh project (resolved from its esm/ folder, so the `.d.mts`), and
 * compares them with an options table both ways. Run by options.ts as a child process with one
 * JSON argument; prints the results as JSON.
 */
import { writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type * as TS from 'typescript'
import type { TableJob, TableResult, TypeRef } from './options.ts'

const input = JSON.parse(process.argv[2]!) as { typescript: string; jobs: TableJob[] }
const ts = createRequire(input.typescript)('typescript') as typeof TS

// One probe file per fresh project importing every module the tables name, all in one program:
// each resolves from its own project, and shared declaration files are read once.
const probes = new Map<string, string[]>()
for (const job of input.jobs) {
  const modules = [...job.types, ...job.except].map((t) => t.module).concat(job.hintModules)
  probes.set(job.dir, [...new Set([...(probes.get(job.dir) ?? []), ...modules])])
}
const roots = [...probes].map(([dir, modules]) => {
  const probe = join(dir, 'options-probe.ts')
  writeFileSync(probe, modules.map((m, i) => `import type * as m${i} from '${m}'\n`).join(''))
  return probe
})
const program = ts.createProgram(roots, {
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  skipLibCheck: true,
  noEmit: true,
})
const checker = program.getTypeChecker()
/** Exports by `<project esm folder>|<module specifier>`. */
const exportsOf = new Map<string, TS.Symbol[]>()
for (const root of roots) {
  for (const statement of program.getSourceFile(root)?.statements ?? []) {
    if (!ts.isImportDeclaration(statement)) continue
    const specifier = (statement.moduleSpecifier as TS.StringLiteral).text
    const symbol = checker.getSymbolAtLocation(statement.moduleSpecifier)
    exportsOf.set(`${dirname(root)}|${specifier}`, symbol ? checker.getExportsOfModule(symbol) : [])
  }
}
function find(dir: string, ref: TypeRef): TS.Symbol | undefined {
  const symbol = exportsOf.get(`${dir}|${ref.module}`)?.find((s) => s.name === ref.name)
  if (!symbol) return undefined
  return symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol
}

/** Property names of a type; for a union (options or a function returning them), of each member. */
function propertiesOf(symbol: TS.Symbol): Set<string> {
  const names = new Set<string>()
  const visit = (type: TS.Type) => {
    if (type.isUnion()) for (const member of type.types) visit(member)
    else for (const p of checker.getPropertiesOfType(type)) names.add(p.name)
  }
  visit(checker.getDeclaredTypeOfSymbol(symbol))
  return names
}

const list = (names: Iterable<string>) => [...names].map((n) => `\`${n}\``).join(', ')

function compare(documented: Set<string>, actual: Set<string>, excluded: Set<string>) {
  const unknown = [...documented].filter((n) => !actual.has(n))
  const missing = [...actual].filter((n) => !documented.has(n) && !excluded.has(n))
  return { unknown, missing }
}

const results: TableResult[] = input.jobs.map((job) => {
  const dir = job.dir
  const problems: string[] = []
  const documented = new Set(job.documented)
  if (job.types.length === 0) {
    // Say which exported type it most likely documents, and how it differs, to make the fix easy.
    let best: { ref: TypeRef; score: number; props: Set<string> } | undefined
    for (const module of job.hintModules) {
      for (const symbol of exportsOf.get(`${dir}|${module}`) ?? []) {
        if (!symbol.name.endsWith('Options')) continue
        const target = find(dir, { name: symbol.name, module })
        if (!target || !(target.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias)))
          continue
        const props = propertiesOf(target)
        const shared = [...documented].filter((n) => props.has(n)).length
        const score = shared / new Set([...documented, ...props]).size
        if (!best || score > best.score) best = { ref: { name: symbol.name, module }, score, props }
      }
    }
    let hint = ''
    if (best) {
      const { unknown, missing } = compare(documented, best.props, new Set())
      hint = ` Closest exported type: ${best.ref.name} from ${best.ref.module}`
      if (unknown.length) hint += `; documented but not in it: ${list(unknown)}`
      if (missing.length) hint += `; in it but not documented: ${list(missing)}`
    }
    problems.push(`names no type: add \`<!-- options: TypeName from module -->\` before it.${hint}`)
    return { where: job.where, subject: job.subject, problems }
  }
  const actual = new Set<string>()
  for (const ref of job.types) {
    const symbol = find(dir, ref)
    if (!symbol) problems.push(`${ref.name} is not exported by ${ref.module}`)
    else for (const name of propertiesOf(symbol)) actual.add(name)
  }
  const excluded = new Set(job.exceptNames)
  for (const ref of job.except) {
    const symbol = find(dir, ref)
    if (!symbol) problems.push(`${ref.name} (except) is not exported by ${ref.module}`)
    else for (const name of propertiesOf(symbol)) excluded.add(name)
  }
  if (problems.length > 0) return { where: job.where, subject: job.subject, problems }
  const type = job.types.map((t) => t.name).join(' & ')
  const { unknown, missing } = compare(documented, actual, excluded)
  if (unknown.length) problems.push(`documented but not in ${type}: ${list(unknown)}`)
  if (missing.length) problems.push(`in ${type} but not documented: ${list(missing)}`)
  return { where: job.where, subject: job.subject, problems }
})
process.stdout.write(JSON.stringify(results))
