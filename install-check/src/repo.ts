import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

export interface WorkspacePackage {
  name: string
  /** Relative to the repository root, e.g. `packages/express`. */
  dir: string
  private: boolean
  manifest: Record<string, unknown>
}

/** Workspace packages, read from disk each run since other work adds and renames them. */
export function workspacePackages(root: string): WorkspacePackage[] {
  const found: WorkspacePackage[] = []
  for (const group of ['packages', 'examples']) {
    const base = join(root, group)
    if (!existsSync(base)) continue
    for (const entry of readdirSync(base, { withFileTypes: true })) {
      const file = join(base, entry.name, 'package.json')
      if (!entry.isDirectory() || !existsSync(file)) continue
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
      found.push({
        name: String(manifest.name),
        dir: `${group}/${entry.name}`,
        private: manifest.private === true,
        manifest,
      })
    }
  }
  for (const dir of ['bench', 'reliability']) {
    const file = join(root, dir, 'package.json')
    if (!existsSync(file)) continue
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
    found.push({ name: String(manifest.name), dir, private: manifest.private === true, manifest })
  }
  return found
}

/** The published packages: workspace packages under packages/ that are not private. */
export function publishedPackages(root: string): WorkspacePackage[] {
  return workspacePackages(root).filter((p) => p.dir.startsWith('packages/') && !p.private)
}

/**
 * Every README the check reads: the root's, and those one and two levels down (packages/*,
 * examples/*, bench, ...), except dependencies, hidden folders and this harness's fixtures.
 */
export function readmePaths(root: string): string[] {
  const paths: string[] = []
  const visit = (dir: string, depth: number) => {
    if (existsSync(join(root, dir, 'README.md'))) paths.push(dir ? `${dir}/README.md` : 'README.md')
    if (depth === 2) return
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      if (!entry.isDirectory() || skipped.has(entry.name) || entry.name.startsWith('.')) continue
      visit(dir ? `${dir}/${entry.name}` : entry.name, depth + 1)
    }
  }
  visit('', 0)
  return paths.sort()
}

const skipped = new Set(['node_modules', 'dist', 'install-check', 'test-output', 'coverage'])

/** The package whose README this is, if it is a package's own README. */
export function readmeOwner(
  path: string,
  packages: WorkspacePackage[],
): WorkspacePackage | undefined {
  return packages.find((p) => `${p.dir}/README.md` === path)
}
