/**
 * Renders a results JSON as `chart.svg` (CPU per delivered event at the largest fan-out) and as
 * the table between the markers in `bench/README.md`.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

interface ScenarioRow {
  clients: number
  bytes: number
  rate: number
  cpuUsPerEvent: number | null
  /** The largest repetition's CPU per event over the smallest's (absent in older results). */
  cpuSpread?: number | null
  eventsPerSecond: number | null
  deliveryRatio: number | null
  latencyP50Ms: number | null
  latencyP99Ms: number | null
  latencyMaxMs: number | null
  clientSaturated: boolean
  ratioToFloor?: number | null
}

interface Throughput {
  clients: number
  bytes: number
  rate: number
  eventsPerSecond: number | null
  deliveryRatio: number | null
  cpuUsPerEvent: number | null
  latencyP50Ms: number | null
  latencyP99Ms: number | null
  clientSaturated: boolean
}

interface Row {
  contestant: string
  ours: boolean
  resume: boolean
  throughput: Throughput | null
  errors: string[]
  scenarios: ScenarioRow[]
  rssPerConnectionKB: number | null
  ttfbP50Ms: number | null
  ttfbP99Ms: number | null
  stormMs: number | null
}

interface Results {
  date: string
  machine: { cpus: number; model: string; node: string }
  settings: { mode: string; repetitions: number; seconds: number }
  durationSeconds: number
  summary: Row[]
}

const START = '<!-- results:start -->'
const END = '<!-- results:end -->'

const fixed = (value: number | null | undefined, digits = 1) =>
  value === null || value === undefined ? 'n/a' : value.toFixed(digits)

const xml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

function chart(results: Results): string {
  const index = results.summary[0]!.scenarios.length - 1
  const measured = results.summary.filter((row) => row.scenarios[index]?.cpuUsPerEvent != null)
  const rows = measured.map((row) => ({
    name: row.contestant,
    ours: row.ours,
    value: row.scenarios[index]?.cpuUsPerEvent ?? 0,
    delivery: row.scenarios[index]?.deliveryRatio ?? 0,
  }))
  const scenario = results.summary[0]!.scenarios[index]!
  const max = Math.max(...rows.map((r) => r.value), 1)
  const barHeight = 22
  const left = 190
  const width = 760
  const plot = width - left - 120
  const top = 48
  const height = top + rows.length * (barHeight + 8) + 30
  const floor = rows[0]?.value ?? 0
  const bars = rows
    .map((row, i) => {
      const y = top + i * (barHeight + 8)
      const w = Math.max(1, (row.value / max) * plot)
      const color = row.name.startsWith('raw') ? '#888' : row.ours ? '#2563eb' : '#f59e0b'
      const label = `${fixed(row.value, 1)} µs${row.delivery < 0.999 ? `, ${fixed(row.delivery * 100, 0)}% delivered` : ''}`
      return (
        `<text x="${left - 8}" y="${y + 15}" text-anchor="end">${xml(row.name)}</text>` +
        `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${color}"/>` +
        `<text x="${left + w + 6}" y="${y + 15}">${label}</text>`
      )
    })
    .join('\n  ')
  const floorX = left + (floor / max) * plot
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="system-ui, sans-serif" font-size="13">
  <rect width="100%" height="100%" fill="#fff"/>
  <text x="${left}" y="20" font-size="15" font-weight="600">Server CPU per delivered event (lower is better)</text>
  <text x="${left}" y="38" fill="#555">${scenario.clients.toLocaleString('en')} clients, ${scenario.bytes} B events at ${scenario.rate}/s; Node ${results.machine.node}, ${results.machine.cpus} cores; ${results.date.slice(0, 10)}</text>
  ${bars}
  <line x1="${floorX.toFixed(1)}" y1="${top - 4}" x2="${floorX.toFixed(1)}" y2="${height - 24}" stroke="#888" stroke-dasharray="4 3"/>
  <text x="${left}" y="${height - 8}" fill="#555">blue: ours · orange: peers · grey: raw node:http floor (dashed line)</text>
</svg>
`
}

function table(results: Results): string {
  const lines: string[] = []
  const scenarios = results.summary[0]!.scenarios
  lines.push(
    `Run of ${results.date.slice(0, 10)} (${results.settings.mode} settings: median of ${results.settings.repetitions} interleaved repetitions, ${results.settings.seconds} s windows, ${results.durationSeconds} s in all) on ${results.machine.cpus} × ${results.machine.model}, Node ${results.machine.node}.`,
    '',
    '![CPU per event](results/chart.svg)',
    '',
  )
  for (const [i, scenario] of scenarios.entries()) {
    lines.push(
      `### Fan-out: ${scenario.clients.toLocaleString('en')} clients, ${scenario.bytes} B events, ${scenario.rate} events/s`,
      '',
      '| contestant | CPU µs/event | spread | × floor | delivered/s | delivery | latency p50 / p99 / max ms |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    )
    for (const row of results.summary) {
      const s = row.scenarios[i]!
      if (s.cpuUsPerEvent === null) continue
      const flag = s.clientSaturated ? ' (client saturated: invalid)' : ''
      lines.push(
        `| ${row.ours ? `**${row.contestant}**` : row.contestant}${flag} | ${fixed(s.cpuUsPerEvent, 2)} | ${fixed(s.cpuSpread, 2)} | ${fixed(s.ratioToFloor, 2)} | ${fixed(s.eventsPerSecond, 0)} | ${fixed((s.deliveryRatio ?? 0) * 100, 1)}% | ${fixed(s.latencyP50Ms)} / ${fixed(s.latencyP99Ms)} / ${fixed(s.latencyMaxMs)} |`,
      )
    }
    lines.push('')
  }
  lines.push(
    `### Memory, time to first byte, reconnect storm (${Math.max(...scenarios.map((s) => s.clients)).toLocaleString('en')} clients)`,
    '',
    '| contestant | RSS KB per idle connection | TTFB p50 / p99 ms | storm: all back in ms | resumes |',
    '| --- | ---: | ---: | ---: | :---: |',
  )
  for (const row of results.summary) {
    if (row.rssPerConnectionKB === null) continue
    lines.push(
      `| ${row.ours ? `**${row.contestant}**` : row.contestant} | ${fixed(row.rssPerConnectionKB)} | ${fixed(row.ttfbP50Ms)} / ${fixed(row.ttfbP99Ms)} | ${fixed(row.stormMs, 0)} | ${row.resume ? 'yes' : 'no'} |`,
    )
  }
  const fast = results.summary.filter((r) => r.throughput)
  if (fast.length > 0) {
    const t = fast[0]!.throughput!
    lines.push(
      '',
      `### Throughput: ${t.clients.toLocaleString('en')} clients, ${t.rate} events/s of ${t.bytes} B`,
      '',
      '| contestant | delivered events/s | delivery | CPU µs/event | latency p50 / p99 ms |',
      '| --- | ---: | ---: | ---: | ---: |',
    )
    for (const row of fast) {
      const r = row.throughput!
      // A load client at its limit caps what it counts: the server delivered at least this.
      const flag = r.clientSaturated ? ' (client saturated: a lower bound)' : ''
      lines.push(
        `| ${row.ours ? `**${row.contestant}**` : row.contestant}${flag} | ${fixed(r.eventsPerSecond, 0)} | ${fixed((r.deliveryRatio ?? 0) * 100, 1)}% | ${fixed(r.cpuUsPerEvent, 2)} | ${fixed(r.latencyP50Ms)} / ${fixed(r.latencyP99Ms)} |`,
      )
    }
  }
  const errors = results.summary.filter((r) => r.errors.length > 0)
  if (errors.length > 0) {
    lines.push('', 'Errors:', ...errors.map((r) => `- ${r.contestant}: ${r.errors.join('; ')}`))
  }
  return align(lines).join('\n')
}

/** Pads the cells of each markdown table to its columns' widths, as a formatter would. */
function align(lines: string[]): string[] {
  const out = [...lines]
  for (let i = 0; i < out.length; ) {
    if (!out[i]!.startsWith('|')) {
      i++
      continue
    }
    let end = i
    while (end < out.length && out[end]!.startsWith('|')) end++
    const rows = out.slice(i, end).map((line) =>
      line
        .slice(1, -1)
        .split(' | ')
        .map((cell) => cell.trim()),
    )
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)))
    for (const [r, cells] of rows.entries()) {
      const padded = cells.map((cell, c) => {
        const width = widths[c]!
        if (/^:?-+:?$/.test(cell))
          return cell.endsWith(':') ? `${'-'.repeat(width - 1)}:` : '-'.repeat(width)
        // Right-aligned columns (`---:`) pad on the left.
        return rows[1]![c]!.endsWith(':') ? cell.padStart(width) : cell.padEnd(width)
      })
      out[i + r] = `| ${padded.join(' | ')} |`
    }
    i = end
  }
  return out
}

/** Writes `chart.svg` next to the results and the table into bench/README.md. */
export function renderReport(results: Results, outDir: string, updateReadme = true): void {
  writeFileSync(`${outDir}/chart.svg`, chart(results))
  if (!updateReadme) return
  const readme = fileURLToPath(new URL('../README.md', import.meta.url))
  const text = readFileSync(readme, 'utf8')
  const start = text.indexOf(START)
  const end = text.indexOf(END)
  if (start === -1 || end === -1) return
  writeFileSync(
    readme,
    `${text.slice(0, start + START.length)}\n${table(results)}\n${text.slice(end)}`,
  )
}

// `tsx src/report.ts results/latest.json` re-renders without re-running.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2] ?? fileURLToPath(new URL('../results/latest.json', import.meta.url))
  const results = JSON.parse(readFileSync(file, 'utf8')) as Results
  renderReport(results, fileURLToPath(new URL('../results/', import.meta.url)))
}
