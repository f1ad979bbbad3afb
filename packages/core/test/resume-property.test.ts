import {
  asyncStore,
  forgetfulStore,
  type ResumeTotals,
  resumeSteps,
  runResumeSteps,
} from '@sse/test-utils'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MemoryStore } from '../src/memory-store'

const totals = (): ResumeTotals => ({ events: 0, reconnects: 0, missing: 0 })

describe('resume under random interleavings, many topics (C20, C27, C28)', () => {
  it('loses nothing and repeats nothing, per topic, on a sync and an async store', async () => {
    const seen = totals()
    await fc.assert(
      fc.asyncProperty(resumeSteps, fc.boolean(), async (steps, remote) => {
        const memory = new MemoryStore({ maxEvents: 100_000 })
        await runResumeSteps(steps, remote ? asyncStore(memory) : memory, seen)
      }),
      { numRuns: Number(process.env.RUNS ?? 30) },
    )
    console.log(
      `resume property: ${seen.events} events, 8 clients per run, ${seen.reconnects} reconnects, 0 lost, 0 repeated`,
    )
    expect(seen.missing).toBe(0)
    expect(seen.events).toBeGreaterThanOrEqual(10_000)
  })

  it('with random trims, misses an event only after being told its topic lost history', async () => {
    const seen = totals()
    await fc.assert(
      fc.asyncProperty(resumeSteps, fc.integer({ min: 5, max: 60 }), async (steps, maxEvents) => {
        await runResumeSteps(steps, asyncStore(new MemoryStore({ maxEvents })), seen)
      }),
      { numRuns: Number(process.env.RUNS ?? 30) },
    )
    console.log(
      `resume property with trims: ${seen.events} events, ${seen.missing} missed after a history-lost signal, 0 without`,
    )
    // The runs did trim history under clients, or the check above proved nothing.
    expect(seen.missing).toBeGreaterThan(0)
  })

  it('fails when the retention bookkeeping is sabotaged (the check can fail)', async () => {
    const failure = await fc
      .assert(
        fc.asyncProperty(resumeSteps, async (steps) => {
          await runResumeSteps(steps, forgetfulStore(new MemoryStore({ maxEvents: 10 })), totals())
        }),
        { numRuns: 30, endOnFailure: true },
      )
      .then(
        () => undefined,
        (error: Error) => error,
      )
    // fast-check keeps the property's own assertion as the cause.
    expect(String((failure?.cause as Error | undefined)?.message)).toMatch(/lost before/)
  })
})
