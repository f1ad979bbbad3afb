import { describe, expect, expectTypeOf, it } from 'vitest'
import { type ClientEvent, type CloseReason, connect, type HistoryLost } from '../src/index'
import { type ScriptedServer, scriptedServer, stop, streamHead } from './servers'

type Events = { tick: { n: number }; note: string }

const frames = 'event: tick\nid: 1\ndata: {"n":1}\n\nevent: note\ndata: hello\n\n'

async function twoEvents(): Promise<ScriptedServer> {
  return scriptedServer((res, _req, n) => {
    if (n > 0) return stop(res)
    streamHead(res)
    res.end(frames)
  })
}

describe('the typed API', () => {
  it('types events by the map: an unknown name or a wrong data type does not compile', () => {
    // Only compiled: `tsc` (the package's typecheck) checks each line below.
    const typed = () => {
      const stream = connect<Events>('http://localhost/events', { raw: ['note'] })
      stream.on('tick', (data, meta) => {
        expectTypeOf(data).toEqualTypeOf<{ n: number }>()
        expectTypeOf(meta.id).toEqualTypeOf<string | undefined>()
      })
      stream.on('note', (data) => expectTypeOf(data).toEqualTypeOf<string>())
      stream.on('history-lost', (data) => expectTypeOf(data).toEqualTypeOf<HistoryLost>())
      // @ts-expect-error an event the map does not declare
      stream.on('tock', () => {})
      // @ts-expect-error a listener for the wrong data type
      stream.on('tick', (data: string) => data)
      // @ts-expect-error only events whose data is a string may be read raw
      connect<Events>('http://localhost/events', { raw: ['tick'] })
      expectTypeOf(stream.closed).toEqualTypeOf<Promise<CloseReason>>()
      return async () => {
        for await (const event of stream) {
          expectTypeOf(event).toEqualTypeOf<ClientEvent<Events>>()
          if (event.event === 'tick') expectTypeOf(event.data).toEqualTypeOf<{ n: number }>()
          if (event.event === 'note') expectTypeOf(event.data).toEqualTypeOf<string>()
          // @ts-expect-error not an event of the map
          if (event.event === 'tock') break
        }
      }
    }
    expect(typeof typed).toBe('function')
  })

  it('hands what a listener throws to onError (console.error by default in Node): the others still run', async () => {
    const server = await twoEvents()
    const reported: unknown[] = []
    const heard: string[] = []
    const stream = connect<Events>(server.url, {
      raw: ['note'],
      minDelay: 20,
      onError: (error) => reported.push(error),
    })
    stream.on('tick', () => {
      throw new Error('listener bug')
    })
    stream.on('tick', () => heard.push('tick'))
    stream.on('note', (text) => heard.push(text))
    expect((await stream.closed).type).toBe('no-content')
    expect(heard).toEqual(['tick', 'hello'])
    expect(reported).toEqual([new Error('listener bug')])
    await server.close()

    // No onError: Node has no reportError, so it is logged, not rethrown (which would crash).
    const again = await twoEvents()
    const logged: unknown[][] = []
    const original = console.error
    console.error = (...args: unknown[]) => void logged.push(args)
    try {
      const quiet = connect<Events>(again.url, { raw: ['note'], minDelay: 20 })
      quiet.on('tick', () => {
        throw new Error('unhandled listener bug')
      })
      await quiet.closed
    } finally {
      console.error = original
    }
    expect(logged).toEqual([
      ['[@sse/client] an event listener threw:', new Error('unhandled listener bug')],
    ])
    await again.close()
  })

  it('parses JSON by default and reads listed events raw, through on() and for await', async () => {
    const server = await twoEvents()
    const stream = connect<Events>(server.url, { raw: ['note'], minDelay: 20 })
    const heard: unknown[] = []
    const off = stream.on('tick', (data, meta) => heard.push(data, meta))
    const events: ClientEvent<Events>[] = []
    for await (const event of stream) events.push(event)
    off()
    expect(events).toEqual([
      { event: 'tick', data: { n: 1 }, id: '1' },
      { event: 'note', data: 'hello', id: undefined },
    ])
    expect(heard).toEqual([{ n: 1 }, { event: 'tick', id: '1', lastEventId: '1' }])
    await server.close()
  })

  it('unsubscribes a listener', async () => {
    const server = await twoEvents()
    const stream = connect<Events>(server.url, { raw: ['note'], minDelay: 20 })
    const notes: string[] = []
    const off = stream.on('note', (text) => notes.push(text))
    off()
    await stream.closed
    expect(notes).toEqual([])
    await server.close()
  })

  it('a listener added while an event is delivered gets the next one, one removed gets none; one function added twice is called twice', async () => {
    const ticks = Array.from({ length: 4 }, (_, n) => `event: tick\ndata: {"n":${n}}\n\n`)
    const server = await scriptedServer((res, _req, n) => {
      if (n > 0) return stop(res)
      streamHead(res)
      res.end(`event: note\ndata: first\n\n${ticks.join('')}event: note\ndata: last\n\n`)
    })
    const stream = connect<Events>(server.url, { raw: ['note'], minDelay: 20 })
    const heard: string[] = []
    const twice = (text: string) => heard.push(`twice ${text}`)
    // `note` was delivered (and looked up) before its first listener: the later one reaches it.
    let offLate: (() => void) | undefined
    const offFirst = stream.on('tick', ({ n }) => {
      heard.push(`first ${n}`)
      if (n === 0) offLate = stream.on('tick', ({ n }) => heard.push(`late ${n}`))
      if (n === 1) {
        stream.on('note', twice)
        stream.on('note', twice)
      }
      if (n === 2) offLate?.()
      if (n === 3) offFirst()
    })
    await stream.closed
    expect(heard).toEqual([
      'first 0',
      'first 1',
      'late 1',
      'first 2',
      'first 3',
      'twice last',
      'twice last',
    ])
    await server.close()
  })

  it('ends with invalid-data when an event that is not raw carries no JSON', async () => {
    const server = await twoEvents()
    const stream = connect<Events>(server.url, { minDelay: 20 })
    expect(await stream.closed).toMatchObject({ type: 'invalid-data', event: 'note' })
    expect(server.requests).toHaveLength(1)
    await server.close()
  })

  it('leaving a for await loop closes the stream', async () => {
    const server = await scriptedServer((res) => {
      streamHead(res)
      res.write(frames)
    })
    const stream = connect<Events>(server.url, { raw: true })
    for await (const event of stream) if (event.event === 'tick') break
    expect(await stream.closed).toMatchObject({ type: 'aborted' })
    await server.close()
  })

  it('refuses invalid options with a TypeError naming them', () => {
    expect(() => connect('http://localhost/', { minDelay: -1 })).toThrow(/minDelay/)
    expect(() => connect('http://localhost/', { minDelay: 10, maxDelay: 5 })).toThrow(/maxDelay/)
    expect(() => connect('http://localhost/', { stallTimeout: 0 })).toThrow(/stallTimeout/)
    expect(() => connect('not a url')).toThrow(TypeError)
  })
})
