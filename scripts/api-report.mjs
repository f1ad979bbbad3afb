// The API report of a published package: one file per entry point in `api/`, written by API
// Extractor from the built declaration files, so that every change to the public surface shows
// in review. Run in a package folder after `pnpm build`: checks that the reports are current
// (`check:package`, in CI); with `--update`, rewrites them (`pnpm api:update` at the root).
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor'

const update = process.argv.includes('--update')
const folder = process.cwd()
const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'))
const temp = mkdtempSync(join(tmpdir(), 'api-report-'))
const failed = []
if (update) mkdirSync(join(folder, 'api'), { recursive: true })

for (const [entry, target] of Object.entries(manifest.exports ?? {})) {
  const types = target?.import?.types
  if (!types) continue
  // `@sse/core/adapter` is reported as `core-adapter.api.md`; the main entry as `core.api.md`.
  const name = [manifest.name.split('/').pop(), ...entry.split('/').slice(1)].join('-')
  const config = ExtractorConfig.prepare({
    configObject: {
      projectFolder: folder,
      mainEntryPointFilePath: resolve(folder, types),
      compiler: {
        // Only this entry: a program with the `.d.cts` twin too would see each `declare module`
        // augmentation twice.
        overrideTsconfig: {
          compilerOptions: { lib: ['ES2023', 'DOM'], types: ['node'], strict: true },
          files: [resolve(folder, types)],
        },
      },
      apiReport: {
        enabled: true,
        reportFileName: name,
        reportFolder: join(folder, 'api'),
        reportTempFolder: temp,
      },
      newlineKind: 'lf',
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      messages: {
        // Release tags (@public, @beta) are not how this project marks its surface: the entry
        // points are.
        extractorMessageReporting: {
          'ae-missing-release-tag': { logLevel: 'none' },
          default: { logLevel: 'warning', addToApiReportFile: true },
        },
        tsdocMessageReporting: { default: { logLevel: 'none' } },
        compilerMessageReporting: { default: { logLevel: 'error' } },
      },
    },
    packageJsonFullPath: join(folder, 'package.json'),
  })
  const result = Extractor.invoke(config, { localBuild: update, messageCallback: quiet })
  if (!result.succeeded || (!update && result.apiReportChanged)) failed.push(`${entry} (${name})`)
}

/** Messages go into the report itself; only errors are worth the console. */
function quiet(message) {
  if (message.logLevel !== 'error') message.handled = true
}

if (failed.length > 0) {
  console.error(
    `The API report of ${manifest.name} is out of date for: ${failed.join(', ')}.\n` +
      'Review the change to the public API, then run `pnpm api:update` and commit api/*.api.md.',
  )
  process.exit(1)
}
console.log(`${manifest.name}: API report ${update ? 'written' : 'up to date'}`)
