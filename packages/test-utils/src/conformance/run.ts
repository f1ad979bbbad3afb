import { describe, it } from 'vitest'
import { SlowStore } from '../slow-store'
import type { ConformanceTarget } from '../target'
import { cursorCases } from './cursor'
import { durableCases } from './durable'
import { encodingCases } from './encoding'
import { faultCases } from './faults'
import { flowCases } from './flow'
import { CaseContext, type ConformanceCase, type StoreFactory, type SuiteVariant } from './harness'
import { headCases } from './head'
import { livenessCases } from './liveness'
import { resumeCases } from './resume'
import { topicCases } from './topics'

/** Every case of the suite, in rule order. */
export const conformanceCases: readonly ConformanceCase[] = [
  ...headCases,
  ...encodingCases,
  ...livenessCases,
  ...resumeCases,
  ...topicCases,
  ...flowCases,
  ...faultCases,
  ...durableCases,
  ...cursorCases,
]

/**
 * The variants every target runs besides the plain suite: the hub cases on a store that answers
 * every replay 30 ms late (as a remote store does, so events are published while replays are
 * still being read), and the hub and pipe cases with `coalesce` off (every write at once).
 */
export const suiteVariants: readonly SuiteVariant[] = [
  {
    name: 'with a slow store',
    tags: ['store'],
    store: (options, base) => new SlowStore({ inner: base(options), delay: 30 }),
  },
  { name: 'without coalesce', tags: ['store', 'pipe'], coalesce: false },
]

/**
 * Options of {@link runConformance}. Each entry is a prefix of case names (`'C18'`, or a whole
 * name), optionally followed by ` -- ` and the reason, which then shows in the skipped test's name:
 * `'C18 a stream with no heartbeat -- web handlers cannot reach the socket'`.
 */
export interface RunConformanceOptions {
  /** Cases this target cannot support: registered with `it.skip`, never silently left out. */
  skip?: string[]
  /** Cases known to fail for a documented bug: registered with `it.fails`, so a fix shows up. */
  fails?: string[]
  /**
   * The variants to run besides the plain suite.
   * @default suiteVariants
   */
  variants?: readonly SuiteVariant[]
  /**
   * Makes the store of every hub a case creates with `t.hub()` (in the plain suite and in the
   * variants that bring none): another store implementation runs the whole suite.
   * @default a MemoryStore with the case's options
   */
  store?: StoreFactory
  /**
   * The cases to run (the variants run those of them they concern).
   * @default conformanceCases
   */
  cases?: readonly ConformanceCase[]
}

function lookup(entries: string[] | undefined, name: string): string | undefined {
  for (const entry of entries ?? []) {
    const [prefix, reason] = entry.split(' -- ')
    if (prefix && name.startsWith(prefix)) return reason ?? 'no reason given'
  }
  return undefined
}

/**
 * Registers the conformance suite (conformance.md, C01-C31 and C34) for `target`: one vitest
 * `describe(target.name)` with one `it` per rule or sub-rule, named with the rule number first,
 * then one `describe` per variant ({@link suiteVariants}) with the cases it concerns. Every case
 * starts its own server with `target.start(scenario)` and closes it afterwards.
 *
 * @example
 * ```ts
 * import { runConformance } from '@sse/test-utils'
 * runConformance({ name: 'express 5', start: (scenario) => startExpress(scenario) })
 * ```
 */
export function runConformance(
  target: ConformanceTarget,
  options: RunConformanceOptions = {},
): void {
  const register = (name: string, cases: readonly ConformanceCase[], variant?: SuiteVariant) => {
    describe(name, () => {
      for (const testCase of cases) {
        const run = async () => {
          const context = new CaseContext(target, variant, options.store)
          try {
            await testCase.run(context)
          } finally {
            await context.cleanup()
          }
        }
        const skipped = lookup(options.skip, testCase.name)
        const failing = lookup(options.fails, testCase.name)
        if (skipped !== undefined)
          it.skip(`${testCase.name} [SKIPPED on ${target.name}: ${skipped}]`, run)
        else if (failing !== undefined) it.fails(`${testCase.name} [KNOWN BUG: ${failing}]`, run)
        else it(testCase.name, run)
      }
    })
  }
  const all = options.cases ?? conformanceCases
  register(target.name, all)
  for (const variant of options.variants ?? suiteVariants) {
    const cases = all.filter((c) => c.tags?.some((tag) => variant.tags.includes(tag)))
    register(`${target.name} ${variant.name}`, cases, variant)
  }
}
