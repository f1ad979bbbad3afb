/** The scale benchmark's markdown table, one row per server process count. */
import type { RunResult } from './measure.ts'

const fixed = (n: number | null | undefined, digits = 1) =>
  n === null || n === undefined || !Number.isFinite(n) ? 'n/a' : n.toFixed(digits)
const int = (n: number) => Math.round(n).toLocaleString('en-US')

export function table(runs: (RunResult | { processes: number; error: string })[]): string {
  const header = [
    'processes',
    'connections (per process)',
    'RSS KB/conn',
    'delivered/s',
    'delivery',
    'server CPU µs/event',
    'latency p50 / p99 / max ms',
    'Redis CPU',
    'client CPU (each)',
  ]
  const rows = runs.map((r) => {
    if ('error' in r) return [String(r.processes), `error: ${r.error}`, '', '', '', '', '', '', '']
    return [
      String(r.processes),
      `${int(r.connections.total)} (${r.connections.perProcess.map(int).join(' + ')})`,
      fixed(r.rssPerConnectionKB),
      int(r.eventsPerSecond),
      `${fixed(r.deliveryRatio * 100)}%`,
      fixed(r.serverCpuUsPerEvent, 2),
      `${fixed(r.latencyMs.p50)} / ${fixed(r.latencyMs.p99)} / ${fixed(r.latencyMs.max)}`,
      `${fixed(r.redisCpuPercent)}%`,
      r.clientCpuPercent.map((c) => `${fixed(c, 0)}%`).join(' '),
    ]
  })
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  // Numbers right-aligned, as in the README's tables.
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`
  const rule = `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`
  return [line(header), rule, ...rows.map(line)].join('\n')
}
