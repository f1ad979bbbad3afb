import { readFile, realpath } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { Plugin } from 'vitest/config'

const pkg = fileURLToPath(new URL('../', import.meta.url))
/** Test files under this folder, and every module of this package they import, run on Nest 11. */
const scope = `${pkg}test/nest11/`
/** Where the Nest 11 copies of `src/` and `test/` modules live: `~/src/stream.ts` and so on. */
const mirror = `${scope}~/`
const nestPackage = /^@nestjs\/[\w-]+(\/.*)?$/

/**
 * Runs the package's tests on NestJS 11 as well as 12, in the one vitest project the workspace
 * gives each package. A test file under `test/nest11/` imports a suite (`import '../hub.test'`);
 * this plugin gives it, and every module of this package it imports in turn (`src/*` included),
 * a copy of its own at `test/nest11/~/...`, in which `@nestjs/*` resolves to the Nest 11 that
 * the `nest11-fixture` devDependency installs. `@sse/core` and everything else stay shared.
 *
 * Nest 11 comes from a fixture package rather than npm aliases (`@nestjs/common11`): pnpm
 * resolves a peer by its name from the parent, so an aliased `@nestjs/core@11` would get the
 * parent's `@nestjs/common@12`. Inside the fixture, Nest 11's packages peer with each other.
 */
export function nest11(): Plugin {
  let nest11Require: NodeJS.Require | undefined
  const resolveNest11 = async (specifier: string) => {
    nest11Require ??= createRequire(
      `${await realpath(`${pkg}node_modules/nest11-fixture`)}/package.json`,
    )
    return nest11Require.resolve(specifier)
  }
  const real = (id: string) => (id.startsWith(mirror) ? pkg + id.slice(mirror.length) : id)
  return {
    name: 'sse:nest11',
    enforce: 'pre',
    async resolveId(source, importer) {
      if (!importer?.startsWith(scope)) return null
      if (nestPackage.test(source)) return resolveNest11(source)
      const resolved = await this.resolve(source, real(importer), { skipSelf: true })
      if (!resolved || resolved.external) return resolved
      const file = resolved.id
      const own =
        file.startsWith(pkg) && !file.startsWith(scope) && !file.includes('/node_modules/')
      return own ? { ...resolved, id: mirror + file.slice(pkg.length) } : resolved
    },
    load(id) {
      return id.startsWith(mirror) ? readFile(real(id), 'utf8') : null
    },
  }
}
