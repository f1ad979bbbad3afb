import type { SseStream } from '@sse/core'
import { expect } from 'vitest'
import { sleep, waitFor } from '../wait'
import { type ConformanceCase, streamLog } from './harness'

const KiB = 1024

/** Waits until `read()` has not changed for `quietMs`, and returns its value. */
async function settled(what: string, read: () => number, quietMs = 250): Promise<number> {
  let last = read()
  let since = Date.now()
  return waitFor(
    what,
    () => {
      const now = read()
      if (now !== last) {
        last = now
        since = Date.now()
        return undefined
      }
      return Date.now() - since >= quietMs ? now : undefined
    },
    { timeout: 10_000, interval: 20 },
  )
}

/** C23-C24: bounded buffering and producers paused by a slow client. */
export const flowCases: ConformanceCase[] = [
  {
    name: 'C23 drops a client that stops reading once over maxBufferedBytes (64 KiB); a healthy client on the same hub gets everything',
    tags: ['store'],
    async run(t) {
      const hub = t.hub({ heartbeat: false, maxBufferedBytes: 64 * KiB })
      const log = streamLog()
      const server = await t.start({ options: () => ({ hub }), onOpen: log.onOpen })
      const slow = await t.stream(server)
      const healthy = await t.stream(server)
      await waitFor('two members', () => hub.size === 2)
      slow.pause()
      const slowStream = log.streams[0]!
      const pad = 'x'.repeat(8 * KiB - 16)
      let sent = 0
      // About 5 MB (and up to 32 MB if the kernel buffers of this machine swallow more), in
      // bursts of 32 KiB: the healthy client reads each burst before the next, as a client
      // that keeps up does, so its own queue never nears the bound.
      while (sent < 640 || (!slowStream.closed && sent < 4096)) {
        for (let i = 0; i < 4; i++, sent++) await hub.publish({ data: `${sent} ${pad}` })
        await healthy.waitForEvents(sent, { timeout: 5000, interval: 1 })
      }
      expect(slowStream.closed, `the slow client was still open after ${sent} events`).toBe(true)
      expect(slowStream.closeReason).toBe('slow-consumer')
      expect(hub.size).toBe(1)
      expect(log.streams[1]!.closed).toBe(false)
      const events = healthy.events()
      expect(events).toHaveLength(sent)
      expect(events.every((e, i) => e.data === `${i} ${pad}`)).toBe(true)
      slow.resume()
      await slow.waitForClose()
    },
  },
  {
    name: 'C24 pauses a piped async generator while the client is slow, and delivers everything after',
    tags: ['pipe'],
    async run(t) {
      const total = 750
      const pad = 'y'.repeat(16 * KiB)
      let produced = 0
      let piped: Promise<void> | undefined
      const server = await t.start({
        // A bound far above what the kernel can hold, so only pipe()'s own backpressure can stop
        // the generator from running ahead.
        options: () => ({ heartbeat: false, maxBufferedBytes: 512 * 1024 * KiB }),
        onOpen(stream) {
          async function* source() {
            for (let i = 0; i < total; i++) {
              produced++
              yield { data: `${i} ${pad}` }
            }
          }
          piped = stream.pipe(source())
        },
      })
      const client = await t.stream(server)
      client.pause()
      const stalledAt = await settled('the generator to stall', () => produced)
      const delivered = client.events().length
      expect(stalledAt, 'the generator ran to its end while the client read nothing').toBeLessThan(
        total,
      )
      // What ran ahead is bounded by socket buffers, not by the generator.
      expect((stalledAt - delivered) * pad.length).toBeLessThan(10 * 1024 * KiB)
      client.resume()
      await client.waitForEvents(total, { timeout: 15_000 })
      await client.waitForClose()
      expect(client.ended).toBe(true)
      await piped
      expect(client.events().every((e, i) => e.data === `${i} ${pad}`)).toBe(true)
    },
  },
  {
    name: 'C24 stops a piped async generator when the client leaves: its finally runs, pipe() resolves',
    tags: ['pipe'],
    async run(t) {
      let produced = 0
      let finalized = 0
      let outcome: string | undefined
      let stream: SseStream | undefined
      const server = await t.start({
        options: () => ({ heartbeat: false }),
        onOpen(opened) {
          stream = opened
          async function* source() {
            try {
              for (;;) {
                produced++
                yield { data: String(produced) }
                await sleep(5)
              }
            } finally {
              finalized++
            }
          }
          opened.pipe(source()).then(
            () => {
              outcome = 'resolved'
            },
            (error: Error) => {
              outcome = `rejected: ${error.message}`
            },
          )
        },
      })
      const client = await t.stream(server)
      await client.waitForEvents(3)
      client.close()
      await waitFor('the generator to be finalized', () => finalized > 0)
      await waitFor('pipe() to settle', () => outcome)
      expect(outcome).toBe('resolved')
      expect(stream!.closeReason).toBe('client')
      const stoppedAt = produced
      await sleep(50)
      expect(produced).toBe(stoppedAt)
      expect(finalized).toBe(1)
    },
  },
  {
    name: 'C24 cancels a piped ReadableStream when the client leaves',
    tags: ['pipe'],
    async run(t) {
      let pulled = 0
      const cancelled: unknown[] = []
      const server = await t.start({
        options: () => ({ heartbeat: false }),
        onOpen(stream) {
          const source = new ReadableStream<string>(
            {
              async pull(controller) {
                await sleep(5)
                controller.enqueue(String(++pulled))
              },
              cancel(reason) {
                cancelled.push(reason)
              },
            },
            { highWaterMark: 0 },
          )
          stream.pipe(source).catch(() => {})
        },
      })
      const client = await t.stream(server)
      await client.waitForEvents(3)
      expect(
        client
          .events()
          .slice(0, 3)
          .map((e) => e.data),
      ).toEqual(['1', '2', '3'])
      client.close()
      await waitFor('the source to be cancelled', () => cancelled.length > 0)
      const stoppedAt = pulled
      await sleep(50)
      expect(pulled).toBeLessThanOrEqual(stoppedAt + 1)
      expect(cancelled).toHaveLength(1)
    },
  },
]
