// The built package, as Node loads it: every exported class keeps its own name in the ESM and
// CJS builds and in their declarations (Nest prints `SseModule.name` in logs and DI errors; a
// bundler's `SseModule$1` there is a bug report waiting to happen). See tsdown.config.ts.
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const pkg = fileURLToPath(new URL('../', import.meta.url))
// A fresh build with the package's own config, inside the package so that its dependencies
// resolve as they do for dist/ (a stale dist/ would test yesterday's config).
const out = `${pkg}node_modules/.cache/dist-names/`
const classes = ['HubObservable', 'SseHub', 'SseInterceptor', 'SseModule']

/** Loads both builds in a plain Node process and lists the `name` of each exported class. */
const listNames = `
import { createRequire } from 'node:module'
const classes = (module) => Object.fromEntries(
  Object.entries(module)
    .filter(([, value]) => typeof value === 'function' && /^class\\b/.test(Function.prototype.toString.call(value)))
    .map(([key, value]) => [key, value.name]),
)
const esm = await import(${JSON.stringify(`${out}index.mjs`)})
const cjs = createRequire(import.meta.url)(${JSON.stringify(`${out}index.cjs`)})
console.log(JSON.stringify({ esm: classes(esm), cjs: classes(cjs) }))
`

describe('the built package', () => {
  beforeAll(async () => {
    await run(`${pkg}node_modules/.bin/tsdown`, ['--out-dir', out, '--log-level', 'error'], {
      cwd: pkg,
    })
  }, 120_000)

  it('names every exported class after itself in the ESM and CJS builds', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', listNames], {
      cwd: pkg,
    })
    const names: Record<'esm' | 'cjs', Record<string, string>> = JSON.parse(stdout)
    for (const build of [names.esm, names.cjs]) {
      expect(Object.keys(build).sort()).toEqual(classes)
      for (const [exported, name] of Object.entries(build)) expect(name).toBe(exported)
    }
  })

  it('declares the classes under their own names in .d.mts and .d.cts', async () => {
    for (const file of ['index.d.mts', 'index.d.cts']) {
      const types = await readFile(`${out}${file}`, 'utf8')
      for (const name of classes) expect(types).toMatch(new RegExp(`declare class ${name}\\b`))
      expect(types).not.toMatch(/\$\d/)
    }
  })
})
