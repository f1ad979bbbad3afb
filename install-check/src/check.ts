import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkAttw } from './attw.ts'
import { planBlocks } from './blocks.ts'
import { compileAll, writeBlocks } from './compile.ts'
import { checkTables, planTables } from './options.ts'
import { build, checkManifest, checkReadmeLinks, type Packed, pack } from './pack.ts'
import { createProject, installToolchain, npmSettings, projectFor } from './projects.ts'
import { publishedPackages, workspacePackages } from './repo.ts'
import { Report } from './report.ts'
import { runBlock } from './run.ts'
import { freePort, limiter } from './util.ts'

export interface CheckOptions {
  /** The repository: packages are built and packed from here. */
  root: string
  /** Where the READMEs are read (the repository, or the self-test's fixtures). */
  docsRoot: string
  readmes: string[]
  /** Package names to check; all published ones when empty. */
  only: string[]
  npmCache: string
  jobs: number
  keep: boolean
  attw: boolean
  log: (line: string) => void
}

/**
 * The whole check: build and pack, manifests and README links, toolchain, then for each package
 * at once its fresh project, the compile matrix of its README blocks, the programs run, the
 * options tables; attw alongside. Heavy child processes share `jobs` slots.
 */
export async function check(options: CheckOptions): Promise<Report> {
  const { root, log } = options
  const report = new Report()
  const started = performance.now()
  const workspace = workspacePackages(root)
  const privateNames = new Set(workspace.filter((p) => p.private).map((p) => p.name))
  const all = publishedPackages(root)
  const chosen = options.only.length ? all.filter((p) => options.only.includes(p.name)) : all
  const work = mkdtempSync(join(tmpdir(), 'sse-install-check-'))
  const slot = limiter(options.jobs)
  const npm = npmSettings(options.npmCache)
  log(`work folder ${work}, npm cache ${options.npmCache}`)
  let redis: ChildProcess | undefined
  try {
    const [built, toolchain] = await Promise.all([
      build(root, all, report),
      installToolchain(root, work, npm),
    ])
    report.time('toolchain', toolchain.ms)
    log(`toolchain: ${toolchain.specs.join(' ')}`)
    if (!built) return report
    // Every published package is packed (its tarball stands in for its name in install lines,
    // also when --only checks a few); manifests and links are checked for the chosen ones.
    const packed: Packed[] = []
    for (const pkg of all) {
      const result = await slot(() => pack(root, pkg, work, report))
      if (!result) continue
      packed.push(result)
      if (!chosen.includes(pkg)) continue
      checkManifest(result, privateNames, report)
      checkReadmeLinks(join(result.dir, 'README.md'), pkg.name, `${pkg.dir}/README.md`, report)
    }
    // Every published package's tarball stands in for its name, also when only some are checked.
    const tarballs = new Map(packed.map((p) => [p.pkg.name, p.tarball]))
    const mine = packed.filter((p) => chosen.includes(p.pkg))
    log(`packed ${packed.length} packages`)
    const blocks = planBlocks(options.docsRoot, options.readmes, workspace, all, report)
    const keys = new Set(mine.map((p) => p.pkg.dir.split('/')[1]))
    const wanted = blocks.filter((b) => keys.has(b.project))
    let redisUrl: string | undefined
    if (wanted.some((b) => b.run && b.code.code.includes('REDIS_URL'))) {
      const started = await startRedis()
      redis = started.child
      redisUrl = started.url
    }
    const typescript = join(work, 'package.json')
    const projects = mine.map((p) => projectFor(work, p))
    const tables = planTables(options.docsRoot, options.readmes, workspace, projects)
    // Compiling waits for every install (one tsc program spans all projects); the runs and
    // the options tables of a package only wait for its own install.
    const installs = projects.map(async (project) => {
      await createProject(project, tarballs, npm, slot, report)
      writeBlocks(project, wanted)
      return project
    })
    await Promise.all([
      ...(options.attw ? mine.map((p) => checkAttw(root, p, slot, report)) : []),
      Promise.all(installs).then(() => checkTables(tables, typescript, slot, report)),
      Promise.all(installs).then(async () => {
        const started = performance.now()
        await compileAll(work, projects, wanted, slot, report)
        report.time('compile-matrix (wall)', performance.now() - started)
      }),
      ...installs.map(async (installed) => {
        const project = await installed
        const programs = wanted.filter((b) => b.project === project.key && b.run)
        for (const block of programs)
          await runBlock(project, block, { slot, report, ...(redisUrl && { redisUrl }) })
        log(`${project.key}: ${programs.length} programs run`)
      }),
    ])
    log(`compiled ${wanted.length} blocks`)
    report.time('total', performance.now() - started)
    return report
  } finally {
    redis?.kill()
    if (options.keep) log(`kept ${work}`)
    else rmSync(work, { recursive: true, force: true })
  }
}

/** A throwaway redis-server on a free port that writes nothing to disk. */
async function startRedis(): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort()
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)))
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      if (d.includes('Ready to accept connections')) resolve()
    })
  })
  return { child, url: `redis://127.0.0.1:${port}` }
}
