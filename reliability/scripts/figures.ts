/**
 * Writes the figures of the latest run (reliability/results/*.json, written by the tests) into
 * the tables of docs/reliability.md, between `<!-- figures:<test> -->` and
 * `<!-- /figures:<test> -->` markers, and the machine and date between `<!-- figures:machine -->`
 * markers. Run after `pnpm test:reliability`: `pnpm --filter @sse/reliability figures`.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'

type Row = Record<string, string | number | boolean>

const results = fileURLToPath(new URL('../results/', import.meta.url))
const doc = fileURLToPath(new URL('../../docs/reliability.md', import.meta.url))

function cell(value: unknown): string {
  if (value === undefined) return ''
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return String(value)
    if (Number.isInteger(value)) return value.toLocaleString('en')
    return Math.abs(value) >= 100 ? Math.round(value).toLocaleString('en') : value.toPrecision(3)
  }
  return String(value).replaceAll('|', '\\|').replaceAll('\n', '\\n')
}

function table(rows: Record<string, Row>): string {
  const columns: string[] = []
  for (const row of Object.values(rows)) {
    for (const key of Object.keys(row))
      if (key !== 'at' && !columns.includes(key)) columns.push(key)
  }
  const lines = [
    `| subject | ${columns.join(' | ')} |`,
    `| --- | ${columns.map(() => '---').join(' | ')} |`,
  ]
  for (const [subject, row] of Object.entries(rows)) {
    lines.push(`| ${cell(subject)} | ${columns.map((c) => cell(row[c])).join(' | ')} |`)
  }
  return lines.join('\n')
}

function replaceBlock(text: string, name: string, content: string): string {
  const start = `<!-- figures:${name} -->`
  const end = `<!-- /figures:${name} -->`
  const from = text.indexOf(start)
  const to = text.indexOf(end)
  if (from === -1 || to === -1) {
    console.warn(`docs/reliability.md has no ${start} block; ${name} left out`)
    return text
  }
  return `${text.slice(0, from + start.length)}\n${content}\n${text.slice(to)}`
}

let text = readFileSync(doc, 'utf8')
let latest = ''
for (const file of readdirSync(results)
  .filter((f) => f.endsWith('.json'))
  .sort()) {
  const rows = JSON.parse(readFileSync(`${results}${file}`, 'utf8')) as Record<string, Row>
  for (const row of Object.values(rows)) if (String(row.at) > latest) latest = String(row.at)
  text = replaceBlock(text, file.replace(/\.json$/, ''), table(rows))
}
const cpu = cpus()[0]?.model ?? 'unknown CPU'
const machine = [
  `- Machine: ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, ${process.platform} ${process.arch}`,
  `- Node ${process.version}; run finished ${latest.slice(0, 16).replace('T', ' ')} UTC`,
].join('\n')
text = replaceBlock(text, 'machine', machine)
writeFileSync(doc, text)
console.log(`docs/reliability.md: figures of the run that finished at ${latest}`)
