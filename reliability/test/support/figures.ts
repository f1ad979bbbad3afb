import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { basename } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll } from 'vitest'

/** One measured value: a number, or a word for outcomes (a status, a close reason). */
export type FigureValue = number | string | boolean

const dir = fileURLToPath(new URL('../../results/', import.meta.url))
// Tests whose file this run has started afresh: a run replaces the figures of the one before.
// Run times come from every file into one table, so they are only ever merged.
const started = new Set<string>(['run-time'])

/**
 * Prints one compact line of figures for a test and a subject (an adapter, a case), and keeps
 * them in `reliability/results/<test>.json`, from which `pnpm --filter @sse/reliability figures`
 * writes the tables of docs/reliability.md.
 */
export function figure(test: string, subject: string, values: Record<string, FigureValue>): void {
  const line = Object.entries(values)
    .map(([name, value]) => `${name}=${typeof value === 'number' ? round(value) : value}`)
    .join(' ')
  console.log(`[figure] ${test} | ${subject} | ${line}`)
  mkdirSync(dir, { recursive: true })
  const file = `${dir}${test}.json`
  let saved: Record<string, unknown> = {}
  if (started.has(test)) {
    try {
      saved = JSON.parse(readFileSync(file, 'utf8'))
    } catch {
      // No figures of this test yet.
    }
  }
  started.add(test)
  saved[subject] = { ...values, at: new Date().toISOString() }
  writeFileSync(file, `${JSON.stringify(saved, null, 2)}\n`)
}

/** Rounds to at most 3 significant decimals, for display. */
export function round(value: number): number {
  if (!Number.isFinite(value) || Number.isInteger(value)) return value
  return Math.abs(value) >= 100 ? Math.round(value) : Number(value.toPrecision(3))
}

/** The p-th percentile (0-100) of `values`, nearest-rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]!
}

/** Milliseconds since `start` (performance.now()). */
export function since(start: number): number {
  return performance.now() - start
}

/** Records how long the calling test file took, as a `run-time` figure (call at its top level). */
export function timeFile(url: string): void {
  let start = 0
  beforeAll(() => {
    start = performance.now()
  })
  afterAll(() => {
    figure('run-time', basename(fileURLToPath(url)), {
      seconds: (performance.now() - start) / 1000,
    })
  })
}
