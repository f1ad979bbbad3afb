import { createHub } from '@sse/core'
import { connectEventSource, type EventSourceClient, sleep, waitFor } from '@sse/test-utils'
import { EventSource } from 'eventsource'
import { describe, expect, it } from 'vitest'
import { type RawResponse, rawRequest } from './support/clients'
import { figure, timeFile } from './support/figures'
import { exchange, getRequest } from './support/raw'
import { adapters } from './support/targets'

timeFile(import.meta.url)

const RETRY = 200

describe.each(adapters)('stream limits: $name', (target) => {
  it("limitResponse 'retry': over the cap, a browser EventSource comes back by itself and gets in once a slot frees", async () => {
    const hub = createHub({ heartbeat: false, retry: RETRY, maxStreams: 2 })
    // The per-key check runs on a hub of its own, with no global cap in the way.
    const perKeyHub = createHub({ heartbeat: false, retry: RETRY, maxStreamsPerClient: 1 })
    const sut = await target.start({
      options: (info) => {
        const key = info.headers['x-client-id'] as string | undefined
        return key ? { hub: perKeyHub, clientId: key } : { hub }
      },
    })
    const port = Number(new URL(sut.url).port)
    const clients: EventSourceClient[] = []
    const opened: RawResponse[] = []
    try {
      clients.push(connectEventSource(sut), connectEventSource(sut))
      await waitFor('two streams', () => hub.size === 2)
      // What the refused client gets: a stream that says when to come back, and ends.
      const refused = await exchange(port, getRequest('/events'), { until: 'retry:' })
      expect(refused.status).toBe(200)
      expect(refused.headers['content-type']).toMatch(/^text\/event-stream/)
      // A jittered delay (C26), the same in the body and in Retry-After.
      const retry = Number(/^retry: (\d+)\n\n$/.exec(refused.body)?.[1])
      expect(retry).toBeGreaterThanOrEqual(RETRY * 0.5)
      expect(retry).toBeLessThan(RETRY * 1.5)
      expect(refused.headers['retry-after']).toBe(String(Math.ceil(retry / 1000)))
      expect(refused.closedByServer || refused.body !== '').toBe(true)

      const third = connectEventSource(sut)
      clients.push(third)
      await waitFor('the third client to be refused twice', () => third.requests.length >= 3, {
        timeout: 10_000,
      })
      expect(third.source.readyState).not.toBe(EventSource.CLOSED)
      clients[0]!.close()
      await waitFor(
        'the third client to get in',
        () => hub.size === 2 && third.source.readyState === EventSource.OPEN,
        {
          timeout: 10_000,
        },
      )
      await hub.publish({ data: 'welcome' })
      await waitFor('the third client to receive events', () =>
        third.messages.some((m) => m.data === 'welcome'),
      )

      // Per key: a second stream for the same client is refused while the first is open.
      const first = await rawRequest(`${sut.url}/events`, {
        headers: { accept: 'text/event-stream', 'x-client-id': 'alice' },
      })
      opened.push(first)
      await waitFor("alice's stream", () => perKeyHub.size === 1)
      const perKey = await exchange(port, getRequest('/events', 'X-Client-Id: alice'), {
        until: 'retry:',
      })
      const other = await exchange(port, getRequest('/events', 'X-Client-Id: bob'), {
        until: 'retry:',
      })
      figure('limits', `${target.name}, limitResponse 'retry'`, {
        maxStreams: 2,
        refusedStatus: refused.status,
        retryAfter: refused.headers['retry-after'] ?? 'none',
        refusedBody: JSON.stringify(refused.body),
        attemptsBeforeIn: third.requests.length,
        readyStateWhileRefused: 'CONNECTING',
        gotInAfterSlotFreed: true,
        perKeyRefusedStatus: perKey.status,
      })
      expect(first.status).toBe(200)
      expect(perKey.status).toBe(200)
      expect(perKey.headers['retry-after']).toBe('1')
      expect(perKey.body).toMatch(/^retry: \d+\n\n$/)
      expect(other.headers['retry-after']).toBeUndefined()
    } finally {
      for (const client of clients) client.close()
      for (const response of opened) response.close()
      await hub.shutdown({ grace: 100 })
      await perKeyHub.shutdown({ grace: 100 })
      await sut.close()
    }
  })

  it('limitResponse 429 (and 503): a browser EventSource stops for good; Retry-After says when', async () => {
    for (const status of [429, 503] as const) {
      const hub = createHub({ heartbeat: false, retry: 5000, maxStreams: 1, limitResponse: status })
      const sut = await target.start({ options: () => ({ hub }) })
      const port = Number(new URL(sut.url).port)
      const clients: EventSourceClient[] = []
      try {
        clients.push(connectEventSource(sut))
        await waitFor('one stream', () => hub.size === 1)
        const refused = await exchange(port, getRequest('/events'))
        expect(refused.status).toBe(status)
        // 5000 ms ± 50% (C26), in whole seconds.
        expect(['3', '4', '5', '6', '7', '8']).toContain(refused.headers['retry-after'])
        expect(refused.headers['content-type']).toMatch(/^application\/json/)
        const second = connectEventSource(sut)
        clients.push(second)
        await waitFor(
          'the refused EventSource to close',
          () => second.source.readyState === EventSource.CLOSED,
          {
            timeout: 10_000,
          },
        )
        // It does not come back by itself, whatever Retry-After says.
        await sleep(300)
        expect(second.requests).toHaveLength(1)
        expect(second.errors).toBe(1)
        figure('limits', `${target.name}, limitResponse ${status}`, {
          maxStreams: 1,
          refusedStatus: refused.status,
          retryAfter: refused.headers['retry-after'] ?? 'none',
          refusedBody: refused.body,
          eventSourceReadyState: 'CLOSED',
          eventSourceRequests: second.requests.length,
        })
      } finally {
        for (const client of clients) client.close()
        await hub.shutdown({ grace: 100 })
        await sut.close()
      }
    }
  })
})
