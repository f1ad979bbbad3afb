import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { installCommands, parseMarkdown } from './markdown.ts'
import type { Packed } from './pack.ts'
import type { Report } from './report.ts'
import { cleanEnv, exec, tail } from './util.ts'

export interface Project {
  /** The folder name of the package (`express`), also the project's folder name. */
  key: string
  packed: Packed
  dir: string
}

export interface NpmSettings {
  cache: string
  /** As in a shell outside the repository (see cleanEnv). */
  env: NodeJS.ProcessEnv
}

export function npmSettings(cache: string): NpmSettings {
  return { cache, env: cleanEnv({ NO_UPDATE_NOTIFIER: '1' }) }
}

/** `--prefer-offline`: a warm cache answers without asking the registry again for metadata. */
function npm(args: string[], cwd: string, settings: NpmSettings) {
  const flags = ['--cache', settings.cache, '--prefer-offline', '--no-audit', '--no-fund']
  return exec('npm', [...args, ...flags], { cwd, env: settings.env, timeoutMs: 240_000 })
}

/**
 * TypeScript, @types/node and tsx, installed once into the work folder, above every fresh
 * project: Node and TypeScript find them by walking up, so each project holds only what its
 * README installs. TypeScript is the repository's own version; the others use its catalog ranges.
 */
export async function installToolchain(root: string, work: string, settings: NpmSettings) {
  const ts = JSON.parse(readFileSync(join(root, 'node_modules/typescript/package.json'), 'utf8'))
  const catalog = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8')
  const range = (name: string, fallback: string) =>
    new RegExp(`^\\s+"?${name.replace('/', '\\/')}"?:\\s*"?([^"\\n]+)"?$`, 'm').exec(
      catalog,
    )?.[1] ?? fallback
  writeFileSync(join(work, 'package.json'), '{ "name": "toolchain", "private": true }\n')
  const specs = [
    `typescript@${ts.version}`,
    `@types/node@${range('@types/node', '^20')}`,
    `tsx@${range('tsx', '^4')}`,
  ]
  const result = await npm(['install', '--save-dev', ...specs], work, settings)
  if (result.code !== 0) throw new Error(`toolchain install failed:\n${tail(result.stderr, 15)}`)
  return { ms: result.ms, specs }
}

/** Where the fresh project of a package lives: `<work>/projects/<folder name>`. */
export function projectFor(work: string, packed: Packed): Project {
  const key = basename(packed.pkg.dir)
  return { key, packed, dir: join(work, 'projects', key) }
}

/**
 * A fresh npm project for one package, installed the way its README says: each `npm install`
 * line of its install block, run as written except that `@sse/*` names become tarball paths.
 */
export async function createProject(
  project: Project,
  tarballs: Map<string, string>,
  settings: NpmSettings,
  slot: <T>(task: () => Promise<T>) => Promise<T>,
  report: Report,
): Promise<void> {
  const { key, dir, packed } = project
  for (const [sub, type] of [
    ['esm', 'module'],
    ['cjs', 'commonjs'],
  ] as const) {
    mkdirSync(join(dir, sub), { recursive: true })
    writeFileSync(join(dir, sub, 'package.json'), `{ "type": "${type}" }\n`)
  }
  writeFileSync(join(dir, 'package.json'), `{ "name": "fresh-${key}", "private": true }\n`)
  const readme = `${packed.pkg.dir}/README.md`
  const name = packed.pkg.name
  const fail = (where: string, message: string) =>
    report.fail({ subject: name, area: 'install', where, message })
  const commands = installCommands(
    parseMarkdown(readFileSync(join(packed.dir, 'README.md'), 'utf8')),
    name,
  )
  if (commands.length === 0) {
    fail(readme, `no \`\`\`sh block with \`npm install ${name}\`; installing the tarball alone`)
    commands.push({ line: 0, args: ['install', name], typescript: false })
  }
  const named = new Set(commands.flatMap((c) => c.args).map((a) => a.replace(/(.)@[^/]*$/, '$1')))
  const peers = (packed.manifest.peerDependencies ?? {}) as Record<string, string>
  const optional = (packed.manifest.peerDependenciesMeta ?? {}) as Record<
    string,
    { optional?: boolean }
  >
  for (const peer of Object.keys(peers)) {
    if (!optional[peer]?.optional && !named.has(peer))
      fail(
        `${readme}:${commands[0]?.line}`,
        `the install line does not name the peer dependency ${peer} (npm 7+ adds it by itself; yarn, and pnpm with auto-install-peers=false, do not)`,
      )
  }
  for (const command of commands) {
    const args = command.args.map((arg) => {
      const bare = arg.replace(/(.)@[^/]*$/, '$1')
      return tarballs.get(bare) ?? arg
    })
    const result = await slot(() => npm(args, dir, settings))
    report.time(`install ${key}: npm ${command.args.join(' ')}`, result.ms)
    if (result.code !== 0)
      fail(
        `${readme}:${command.line}`,
        `npm ${command.args.join(' ')} failed:\n${tail(result.stderr, 8)}`,
      )
  }
}
