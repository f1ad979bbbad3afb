import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseMarkdown } from './markdown.ts'
import type { WorkspacePackage } from './repo.ts'
import type { Report } from './report.ts'
import { exec, tail } from './util.ts'

export interface Packed {
  pkg: WorkspacePackage
  tarball: string
  /** The tarball unpacked: `<dir>/package.json`, `<dir>/README.md`, `<dir>/dist/...`. */
  dir: string
  manifest: Record<string, unknown>
}

/** Builds the packages with turbo (cached when nothing changed), the way `pnpm build` does. */
export async function build(root: string, packages: WorkspacePackage[], report: Report) {
  const filters = packages.map((p) => `--filter=${p.name}`)
  const result = await exec('pnpm', ['exec', 'turbo', 'run', 'build', ...filters], {
    cwd: root,
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
  })
  report.time('build', result.ms)
  if (result.code !== 0) {
    report.fail({
      subject: 'build',
      area: 'pack',
      where: 'turbo run build',
      message: tail(result.stdout + result.stderr, 15),
    })
    return false
  }
  return true
}

/** `pnpm pack` (which rewrites `workspace:` and `catalog:` ranges), then unpack for reading. */
export async function pack(
  root: string,
  pkg: WorkspacePackage,
  work: string,
  report: Report,
): Promise<Packed | undefined> {
  const destination = join(work, 'packs')
  mkdirSync(destination, { recursive: true })
  const result = await exec('pnpm', ['pack', '--pack-destination', destination, '--json'], {
    cwd: join(root, pkg.dir),
  })
  report.time(`pack ${pkg.name}`, result.ms)
  if (result.code !== 0) {
    report.fail({
      subject: pkg.name,
      area: 'pack',
      where: 'pnpm pack',
      message: tail(result.stderr),
    })
    return undefined
  }
  const tarball = (JSON.parse(result.stdout) as { filename: string }).filename
  const dir = join(work, 'unpacked', pkg.name.replace('/', '+'))
  mkdirSync(dir, { recursive: true })
  await exec('tar', ['-xzf', tarball, '-C', dir, '--strip-components=1'], { cwd: work })
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  return { pkg, tarball, dir, manifest }
}

const dependencyFields = [
  'dependencies',
  'peerDependencies',
  'optionalDependencies',
  'devDependencies',
] as const

/**
 * What npm shows and needs: where the code lives (`repository` with the package's `directory`,
 * so npm links to the right folder of the monorepo), `homepage`, `bugs`, `license` with the
 * LICENSE text itself, and only dependencies a user can install.
 */
export function checkManifest(packed: Packed, privateNames: Set<string>, report: Report): void {
  const { manifest, pkg } = packed
  const fail = (where: string, message: string) =>
    report.fail({ subject: pkg.name, area: 'manifest', where, message })
  const repository = manifest.repository as { url?: unknown; directory?: unknown } | undefined
  if (!repository) fail('repository', 'missing (npm shows no link to the source)')
  else if (typeof repository !== 'object' || typeof repository.url !== 'string')
    fail('repository', 'should be { "type": "git", "url": ..., "directory": ... }')
  else if (repository.directory !== pkg.dir)
    fail('repository.directory', `is ${JSON.stringify(repository.directory)}, want "${pkg.dir}"`)
  if (typeof manifest.homepage !== 'string' || !/^https?:\/\//.test(manifest.homepage))
    fail('homepage', manifest.homepage ? 'not an http(s) URL' : 'missing')
  const bugs = manifest.bugs as string | { url?: string } | undefined
  if (!bugs || (typeof bugs === 'object' && !bugs.url)) fail('bugs', 'missing (no issue link)')
  if (typeof manifest.license !== 'string' || !manifest.license) fail('license', 'missing')
  if (!readdirSync(packed.dir).some((f) => /^licen[cs]e(\.|$)/i.test(f)))
    fail('LICENSE', 'no LICENSE file in the tarball (add one to the package or to "files")')
  if (!existsSync(join(packed.dir, 'README.md'))) fail('README.md', 'not in the tarball')
  for (const field of dependencyFields) {
    const deps = (manifest[field] ?? {}) as Record<string, string>
    for (const [name, range] of Object.entries(deps)) {
      if (/^(workspace|catalog):/.test(range))
        fail(`${field}.${name}`, `range "${range}" was not rewritten by pnpm pack`)
      if (privateNames.has(name))
        fail(`${field}.${name}`, 'a private workspace package, not on npm')
    }
  }
}

/**
 * npm renders the README on its own site, where a relative link has nothing to point at: links
 * must be absolute (https://github.com/<owner>/<repo>/blob/main/...) or anchors of this README.
 */
export function checkReadmeLinks(file: string, subject: string, shownAs: string, report: Report) {
  if (!existsSync(file)) return
  const markdown = parseMarkdown(readFileSync(file, 'utf8'))
  for (const link of markdown.links) {
    const where = `${shownAs}:${link.line}`
    if (link.url.startsWith('#')) {
      if (!markdown.anchors.has(decodeURIComponent(link.url.slice(1)).toLowerCase()))
        report.fail({
          subject,
          area: 'link',
          where,
          message: `anchor ${link.url} matches no heading of this README`,
        })
    } else if (!/^[a-z][a-z\d+.-]*:/i.test(link.url) && !link.url.startsWith('//')) {
      report.fail({
        subject,
        area: 'link',
        where,
        message: `relative link ${link.url} is broken on npmjs.com; use an absolute repository URL`,
      })
    }
  }
}
