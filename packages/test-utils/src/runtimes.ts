import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { arch, platform } from 'node:os'
import { dirname, join } from 'node:path'

/** A runtime besides Node that the smoke tests run. */
export type Runtime = 'bun' | 'deno'

const os = platform()
const cpu = arch()

// Each runtime's npm package ships its binary in a platform package (an optional dependency),
// so the tests need no install script and no download.
const shipped: Record<Runtime, { platformPkg: string; file: string }> = {
  bun: { platformPkg: `@oven/bun-${os}-${cpu === 'arm64' ? 'aarch64' : cpu}`, file: 'bin/bun' },
  deno: {
    platformPkg: `@deno/${os}-${cpu}${os === 'linux' ? '-glibc' : ''}`,
    file: os === 'win32' ? 'deno.exe' : 'deno',
  },
}

/**
 * The binary of `name` for the tests of the package in `packageDir` (which has the npm package
 * `name` among its devDependencies): the one its platform package ships, else one on the PATH.
 *
 * @returns its path or command, or undefined when there is none (see {@link noRuntime})
 */
export function runtimeBinary(name: Runtime, packageDir: string): string | undefined {
  try {
    const require = createRequire(join(packageDir, 'package.json'))
    const wrapper = createRequire(require.resolve(`${name}/package.json`))
    const { platformPkg, file } = shipped[name]
    const path = join(dirname(wrapper.resolve(`${platformPkg}/package.json`)), file)
    if (existsSync(path)) return path
  } catch {
    // Not installed for this platform: try the PATH.
  }
  return spawnSync(name, ['--version']).status === 0 ? name : undefined
}

/** Why a case that needs `name` is skipped when {@link runtimeBinary} found none. */
export function noRuntime(name: Runtime): string {
  return `no ${name} binary (npm package "${name}" not installed for ${os}-${cpu}, none on PATH)`
}
