import { writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import type { Block } from './blocks.ts'
import type { Project } from './projects.ts'
import type { Report } from './report.ts'
import { exec, tail } from './util.ts'

/**
 * The matrix. Each block is written twice into its package's fresh project, under esm/ (a
 * `"type": "module"` package.json) and cjs/ (`"type": "commonjs"`); NodeNext compiles each copy
 * in its own program (one program holding both would load the .d.mts and the .d.cts of a
 * package together, whose augmentations then clash). Bundler resolution ignores the package
 * type, so it compiles the esm/ copy.
 */
const matrix = [
  { name: 'nodenext-esm', module: 'NodeNext', moduleResolution: 'NodeNext', dir: 'esm' },
  { name: 'nodenext-cjs', module: 'NodeNext', moduleResolution: 'NodeNext', dir: 'cjs' },
  { name: 'bundler-esnext', module: 'ESNext', moduleResolution: 'Bundler', dir: 'esm' },
  { name: 'bundler-preserve', module: 'Preserve', moduleResolution: 'Bundler', dir: 'esm' },
] as const

/**
 * The user settings the issue asks for: strict, every package's declaration files checked, each
 * block a module. TypeScript's own lib files are not re-checked (`skipDefaultLibCheck`): they
 * are the same in every program and never the packages' fault, and checking them took 40% of
 * each program's time.
 */
const base = {
  strict: true,
  skipLibCheck: false,
  skipDefaultLibCheck: true,
  noEmit: true,
  target: 'ES2022',
  moduleDetection: 'force',
}

interface Diagnostic {
  file: string
  line: number
  code: string
  message: string
  config: string
}

const diagnosticPattern = /^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$/

/** Writes the project's blocks, each as its own module, into its esm/ and cjs/ folders. */
export function writeBlocks(project: Project, blocks: Block[]): void {
  for (const block of blocks.filter((b) => b.project === project.key)) {
    for (const dir of ['esm', 'cjs'])
      writeFileSync(join(project.dir, dir, block.file), block.code.code)
  }
}

/**
 * Compiles every project's blocks, plus per project an `entries.ts` importing each entry point
 * of its package (so the declarations are checked even with no block), with `tsc` under each
 * matrix entry. One tsc program per entry holds the files of all projects: each file still
 * resolves from its own project's node_modules, and TypeScript loads identical package versions
 * once, so @types/node and the lib files are checked 8 times instead of 8 times per package.
 * Blocks with their own `<!-- tsconfig: -->` options get programs of their own.
 */
export async function compileAll(
  work: string,
  projects: Project[],
  blocks: Block[],
  slot: <T>(task: () => Promise<T>) => Promise<T>,
  report: Report,
): Promise<void> {
  const variants = new Map<string, string[]>([['{}', []]])
  for (const project of projects) {
    const entries = Object.keys((project.packed.manifest.exports ?? { '.': '' }) as object)
      .filter((e) => !e.endsWith('.json'))
      .map((e, i) => `import type * as e${i} from '${project.packed.pkg.name}${e.slice(1)}'`)
    for (const dir of ['esm', 'cjs']) {
      writeFileSync(join(project.dir, dir, 'entries.ts'), `${entries.join('\n')}\n`)
    }
    variants.get('{}')!.push(`${relative(work, project.dir)}/DIR/entries.ts`)
  }
  for (const block of blocks) {
    const project = projects.find((p) => p.key === block.project)
    if (!project) continue
    for (const dir of ['esm', 'cjs'])
      writeFileSync(join(project.dir, dir, block.file), block.code.code)
    const key = JSON.stringify(block.extra)
    variants.set(key, [
      ...(variants.get(key) ?? []),
      `${relative(work, project.dir)}/DIR/${block.file}`,
    ])
  }
  const tsc = join(work, 'node_modules/typescript/bin/tsc')
  const runs: Array<Promise<Diagnostic[]>> = []
  ;[...variants].forEach(([key, files], variant) => {
    for (const entry of matrix) {
      for (const exact of [false, true]) {
        const config = `${entry.name}${exact ? '+exact' : ''}`
        const name = `tsconfig.${entry.name}${exact ? '.exact' : ''}${variant ? `.v${variant}` : ''}.json`
        const compilerOptions = {
          ...base,
          module: entry.module,
          moduleResolution: entry.moduleResolution,
          exactOptionalPropertyTypes: exact,
          ...(JSON.parse(key) as object),
        }
        const tsconfig = {
          compilerOptions,
          files: files.map((f) => f.replace('/DIR/', `/${entry.dir}/`)),
        }
        writeFileSync(join(work, name), `${JSON.stringify(tsconfig, null, 2)}\n`)
        runs.push(slot(() => runTsc(tsc, work, name, config, report)))
      }
    }
  })
  const diagnostics = (await Promise.all(runs)).flat()
  reportDiagnostics(projects, blocks, diagnostics, report)
}

async function runTsc(tsc: string, work: string, tsconfig: string, config: string, report: Report) {
  const result = await exec('node', [tsc, '-p', tsconfig, '--pretty', 'false'], { cwd: work })
  report.time(`tsc ${tsconfig}`, result.ms)
  const found: Diagnostic[] = []
  for (const line of result.stdout.split('\n')) {
    const match = diagnosticPattern.exec(line)
    if (match) {
      const [, file = '', row, , code = '', message = ''] = match
      found.push({ file, line: Number(row), code, message, config })
    } else if (/^\s/.test(line) && found.length > 0) {
      found[found.length - 1]!.message += `\n${line.trim()}`
    }
  }
  if (result.code !== 0 && found.length === 0)
    report.fail({
      subject: 'compile',
      area: 'compile',
      where: tsconfig,
      message: `tsc failed without a diagnostic:\n${tail(result.stdout + result.stderr)}`,
    })
  return found
}

const blockFile = /^projects\/([^/]+)\/(?:esm|cjs)\/([^/]+)$/

/** Per block, the matrix entries grouped by their first error, so one cause reads as one line. */
function reportDiagnostics(
  projects: Project[],
  blocks: Block[],
  diagnostics: Diagnostic[],
  report: Report,
) {
  const byBlock = new Map<Block, Diagnostic[]>()
  const others: Diagnostic[] = []
  for (const d of diagnostics) {
    const [, key, file] = blockFile.exec(d.file) ?? []
    const block = blocks.find((b) => b.project === key && b.file === file)
    if (block) byBlock.set(block, [...(byBlock.get(block) ?? []), d])
    else others.push(d)
  }
  for (const [block, mine] of byBlock) {
    const toReadme = (d: Diagnostic) =>
      `${block.readme}:${block.code.line + d.line} ${d.code} ${d.message.split('\n')[0]}`
    groupByFirst(mine, toReadme, (first, configs, more) =>
      report.fail({
        subject: block.subject,
        area: 'compile',
        where: `${block.readme}:${block.code.line} (project ${block.project})`,
        configs,
        message: `${first}${more ? ` (+${more} more error${more > 1 ? 's' : ''})` : ''}`,
      }),
    )
  }
  // Errors outside the blocks: in entries.ts (the package's own entry points) or in declaration
  // files, which `skipLibCheck: false` checks as a user's build would.
  const seen = new Map<string, { subject: string; configs: string[] }>()
  for (const d of others) {
    const key = /^projects\/([^/]+)\//.exec(d.file)?.[1]
    const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(d.file)
    const subject =
      (inModules?.[1]?.startsWith('@sse/') && inModules[1]) ||
      projects.find((p) => p.key === key)?.packed.pkg.name ||
      'compile'
    const file = inModules ? `${inModules[1]}/${inModules[2]}` : d.file
    const text = `${file}:${d.line} ${d.code} ${d.message.split('\n')[0]}`
    const entry = seen.get(text) ?? { subject, configs: [] }
    entry.configs.push(d.config)
    seen.set(text, entry)
  }
  for (const [message, { subject, configs }] of seen) {
    report.fail({
      subject,
      area: 'declarations',
      where: 'types',
      configs: [...new Set(configs)],
      message,
    })
  }
}

function groupByFirst(
  diagnostics: Diagnostic[],
  describe: (d: Diagnostic) => string,
  emit: (first: string, configs: string[], more: number) => void,
) {
  const byConfig = new Map<string, Diagnostic[]>()
  for (const d of diagnostics) byConfig.set(d.config, [...(byConfig.get(d.config) ?? []), d])
  const groups = new Map<string, { configs: string[]; more: number }>()
  for (const [config, list] of byConfig) {
    const first = describe(list[0]!)
    const group = groups.get(first) ?? { configs: [], more: 0 }
    group.configs.push(config)
    group.more = Math.max(group.more, list.length - 1)
    groups.set(first, group)
  }
  for (const [first, { configs, more }] of groups) emit(first, configs.sort(), more)
}
