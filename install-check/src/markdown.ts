/**
 * A small Markdown reader for what the check needs from a README: fenced code blocks with the
 * HTML-comment directives written right before them, pipe tables, links and heading anchors.
 * It is line-based on purpose: READMEs here are plain CommonMark, and a full parser would be
 * one more dependency to install into every run.
 */

/** `<!-- name: value -->` on its own line, before a block or a table (blank lines may separate). */
export interface Directive {
  name: string
  value: string
  line: number
}

export interface CodeBlock {
  lang: string
  /** 1-based line of the opening fence; the code's first line is `line + 1`. */
  line: number
  code: string
  directives: Directive[]
}

export interface Table {
  line: number
  header: string[]
  rows: Array<{ line: number; cells: string[] }>
  directives: Directive[]
}

export interface Link {
  line: number
  url: string
}

export interface Markdown {
  blocks: CodeBlock[]
  tables: Table[]
  links: Link[]
  anchors: Set<string>
}

const directivePattern = /^\s*<!--\s*([a-z][\w-]*)\s*:\s*(.*?)\s*-->\s*$/i
const fencePattern = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/

export function parseMarkdown(text: string): Markdown {
  const lines = text.split(/\r?\n/)
  const result: Markdown = { blocks: [], tables: [], links: [], anchors: new Set() }
  const slugCounts = new Map<string, number>()
  let pending: Directive[] = []
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? ''
    const directive = directivePattern.exec(line)
    if (directive) {
      pending.push({ name: directive[1]!.toLowerCase(), value: directive[2]!, line: i + 1 })
      continue
    }
    if (line.trim() === '') continue
    const fence = fencePattern.exec(line)
    if (fence) {
      const [, indent = '', marker = '```', lang = ''] = fence
      const body: string[] = []
      let j = i + 1
      for (; j < lines.length; j++) {
        const inner = lines[j] ?? ''
        const close = inner.trim()
        if (close.startsWith(marker) && close.replaceAll(marker[0]!, '') === '') break
        body.push(inner.startsWith(indent) ? inner.slice(indent.length) : inner.trimStart())
      }
      result.blocks.push({
        lang: lang.toLowerCase(),
        line: i + 1,
        code: body.join('\n'),
        directives: pending,
      })
      pending = []
      i = j
      continue
    }
    if (line.trimStart().startsWith('|') && isSeparator(lines[i + 1])) {
      const table: Table = { line: i + 1, header: splitRow(line), rows: [], directives: pending }
      let j = i + 2
      for (; j < lines.length && (lines[j] ?? '').trimStart().startsWith('|'); j++) {
        table.rows.push({ line: j + 1, cells: splitRow(lines[j]!) })
      }
      result.tables.push(table)
      for (let k = i; k < j; k++) collectLinks(lines[k]!, k + 1, result.links)
      pending = []
      i = j - 1
      continue
    }
    pending = []
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)
    if (heading) {
      const slug = githubSlug(heading[1]!)
      const seen = slugCounts.get(slug) ?? 0
      slugCounts.set(slug, seen + 1)
      result.anchors.add(seen === 0 ? slug : `${slug}-${seen}`)
    }
    collectLinks(line, i + 1, result.links)
  }
  return result
}

function isSeparator(line: string | undefined): boolean {
  return line !== undefined && /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/.test(line)
}

/** Splits a table row on `|`, keeping escaped `\|` inside cells. */
function splitRow(line: string): string[] {
  const cells: string[] = []
  let cell = ''
  const text = line.trim().replace(/^\|/, '').replace(/\|$/, '')
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!
    if (char === '\\' && text[i + 1] === '|') {
      cell += '|'
      i++
    } else if (char === '|') {
      cells.push(cell.trim())
      cell = ''
    } else cell += char
  }
  cells.push(cell.trim())
  return cells
}

function collectLinks(line: string, lineNumber: number, links: Link[]): void {
  // Inline code is not a link: `[x](y)` inside backticks is text.
  const text = line.replace(/`[^`]*`/g, '')
  const patterns = [
    /!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g, // [text](url), ![alt](url)
    /^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/g, // [ref]: url
    /\b(?:href|src)\s*=\s*["']([^"']+)["']/g, // HTML
  ]
  for (const pattern of patterns) {
    for (const match of text.matchAll(pattern)) links.push({ line: lineNumber, url: match[1]! })
  }
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
export function githubSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/[`*_~]/g, (char) => (char === '_' ? '_' : ''))
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-')
}

export interface InstallCommand {
  line: number
  /** The words after `npm`, e.g. `['install', '-D', '@types/express']`. */
  args: string[]
  /** Written as `# TypeScript: npm install ...`: what a TypeScript user runs besides. */
  typescript: boolean
}

const shellLangs = new Set(['sh', 'bash', 'shell', 'console', 'zsh'])

/**
 * The README's npm install commands for `packageName`: every `npm install`/`npm i` line of each
 * shell block that installs the package, plus `# TypeScript: npm install ...` comment lines
 * there, which are instructions for TypeScript users and so part of what the check follows.
 */
export function installCommands(markdown: Markdown, packageName: string): InstallCommand[] {
  const commands: InstallCommand[] = []
  for (const block of markdown.blocks) {
    if (!shellLangs.has(block.lang)) continue
    const found: InstallCommand[] = []
    block.code.split('\n').forEach((raw, index) => {
      const line = raw.trim().replace(/^\$\s+/, '')
      const ts = /^#\s*TypeScript:\s*(npm\s.*)$/i.exec(line)
      const command = ts ? ts[1]! : line.startsWith('#') ? '' : line
      for (const part of command.split('&&')) {
        const words = part
          .replace(/\s#.*$/, '')
          .trim()
          .split(/\s+/)
        if (words[0] === 'npm' && (words[1] === 'install' || words[1] === 'i')) {
          found.push({ line: block.line + 1 + index, args: words.slice(1), typescript: !!ts })
        }
      }
    })
    if (found.some((c) => c.args.some((a) => a === packageName || a.startsWith(`${packageName}@`))))
      commands.push(...found)
  }
  return commands
}
