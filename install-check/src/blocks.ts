import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type CodeBlock, type Directive, parseMarkdown } from './markdown.ts'
import { readmeOwner, type WorkspacePackage } from './repo.ts'
import type { Report } from './report.ts'

/** A README code block to compile (and maybe run) in the fresh project of `project`. */
export interface Block {
  readme: string
  /** The package whose README it is, else the README's path: how the report groups it. */
  subject: string
  code: CodeBlock
  /** Key of the fresh project (`express`) whose installed packages the block imports. */
  project: string
  /** File name in the project's esm/ and cjs/ folders. */
  file: string
  /** Compiler options from a `<!-- tsconfig: {...} -->` directive. */
  extra: Record<string, unknown>
  run?: RunSpec
}

export interface RunSpec {
  path: string
  /** Request headers, e.g. the credentials an auth middleware of the example wants. */
  headers: Record<string, string>
  /** Found by the whole-program heuristic rather than written as `<!-- run: GET ... -->`. */
  detected: boolean
}

const tsLangs = new Set(['ts', 'typescript'])

/** Module specifiers the block imports or requires. */
export function importsOf(code: string): string[] {
  const specifiers: string[] = []
  const pattern =
    /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|\bimport\s*['"]([^'"]+)['"]|\b(?:require|import)\(\s*['"]([^'"]+)['"]\s*\)/gm
  for (const m of code.matchAll(pattern)) specifiers.push((m[1] ?? m[2] ?? m[3])!)
  return specifiers
}

const packageOf = (specifier: string) => specifier.split('/').slice(0, 2).join('/')

/**
 * The blocks to check, each assigned to the fresh project of the package it is about: the
 * README's own package when the block imports it or imports nothing from @sse (a block must
 * compile standalone, so one that uses names it does not declare is reported), else the
 * adapter it imports, else @sse/core.
 */
export function planBlocks(
  root: string,
  readmes: string[],
  workspace: WorkspacePackage[],
  published: WorkspacePackage[],
  report: Report,
): Block[] {
  const blocks: Block[] = []
  const keyOf = (name: string) => published.find((p) => p.name === name)?.dir.split('/')[1]
  for (const readme of readmes) {
    const owner = readmeOwner(readme, workspace)
    const subject = owner && !owner.private ? owner.name : readme
    const markdown = parseMarkdown(readFileSync(join(root, readme), 'utf8'))
    for (const code of markdown.blocks) {
      if (!tsLangs.has(code.lang)) continue
      const where = `${readme}:${code.line}`
      const fail = (message: string) => report.fail({ subject, area: 'compile', where, message })
      const noCheck = directive(code.directives, 'no-check')
      if (noCheck) {
        if (!noCheck.value) fail('`<!-- no-check: reason -->` needs a reason')
        continue
      }
      const sse = [...new Set(importsOf(code.code).filter((s) => s.startsWith('@sse/')))]
      const names = [...new Set(sse.map(packageOf))]
      const unpublished = names.filter((n) => !keyOf(n))
      if (unpublished.length > 0) {
        fail(
          `imports ${unpublished.join(', ')}, which is not published: a reader cannot install it. ` +
            'Mark the block `<!-- no-check: reason -->` if it is not meant for users.',
        )
        continue
      }
      const ownName = owner && !owner.private ? owner.name : undefined
      const chosen =
        (ownName && (names.length === 0 || names.includes(ownName)) ? ownName : undefined) ??
        names.find((n) => n !== '@sse/core') ??
        names[0]
      if (!chosen) continue // not about these packages (e.g. a test-utils README block)
      let extra: Record<string, unknown> = {}
      const tsconfig = directive(code.directives, 'tsconfig')
      if (tsconfig) {
        try {
          extra = JSON.parse(tsconfig.value) as Record<string, unknown>
        } catch {
          fail(`\`<!-- tsconfig: ... -->\` is not JSON: ${tsconfig.value}`)
        }
      }
      const run = runSpec(code, fail)
      const file = `${readme.replace(/\.md$/, '').replace(/[^\w]+/g, '_')}_L${code.line}.ts`
      blocks.push({
        readme,
        subject,
        code,
        project: keyOf(chosen)!,
        file,
        extra,
        ...(run && { run }),
      })
    }
  }
  return blocks
}

function directive(directives: Directive[], name: string): Directive | undefined {
  return directives.find((d) => d.name === name)
}

/**
 * `<!-- run: GET /path -->` makes a block a program to run; request headers may follow, each
 * after a `;` (`<!-- run: GET /me/events; x-user-id: 42 -->`). Without it, a block that imports
 * what it uses, serves an event stream (a route, `@SseRoute`, `openNodeStream`) and listens is
 * taken for a whole program too and run with its first route, unless `<!-- no-run: reason -->`
 * says otherwise: READMEs show such programs as "copy this and run it".
 */
function runSpec(code: CodeBlock, fail: (message: string) => void): RunSpec | undefined {
  const explicit = directive(code.directives, 'run')
  if (explicit) {
    const [request = '', ...headerParts] = explicit.value.split(';')
    const match = /^GET\s+(\/\S*)$/i.exec(request.trim())
    const headers: Record<string, string> = {}
    for (const part of headerParts) {
      const [name = '', ...value] = part.split(':')
      if (name.trim()) headers[name.trim().toLowerCase()] = value.join(':').trim()
    }
    if (match) return { path: match[1]!, headers, detected: false }
    fail(`\`<!-- run: ${explicit.value} -->\` should be \`<!-- run: GET /path[; name: value] -->\``)
    return undefined
  }
  if (directive(code.directives, 'no-run')) return undefined
  const text = code.code
  const listens = /\.listen\(|\bserve\(\s*\{/.test(text)
  const route = /\.get\(\s*['"](\/[^'"]*)['"]/.exec(text)?.[1]
  const nest = /@SseRoute\(\s*['"]([^'"]*)['"]/.exec(text)?.[1]
  const anyPath = /\bopenNodeStream\(/.test(text) ? '/events' : undefined
  const path = route ?? (nest === undefined ? anyPath : `/${nest.replace(/^\//, '')}`)
  if (importsOf(text).length === 0 || !listens || path === undefined) return undefined
  return { path: path.replace(/:(\w+)/g, '$1'), headers: {}, detected: true }
}
