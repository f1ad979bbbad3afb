import { Controller, Injectable, Module, Param, Query } from '@nestjs/common'
import { MemoryStore } from '@sse/core'
import { EventSource } from 'eventsource'
import { firstValueFrom, NEVER, take, toArray } from 'rxjs'
import { afterEach, describe, expect, it } from 'vitest'
import { SseHub, SseModule, SseRoute } from '../src'
import { type App, events, get, nest, platforms, startApp, waitFor } from './helpers'

@Controller()
class FeedController {
  constructor(private readonly hub: SseHub) {}

  @SseRoute('feed', { maxLifetime: 600, lifetimeJitter: 0, retry: 1000 })
  feed() {
    return this.hub.subscribe({ topics: ['news'] })
  }

  @SseRoute('idle')
  idle() {
    return NEVER
  }

  @SseRoute('rooms/:room')
  room(@Param('room') room: string, @Query('user') user?: string) {
    return this.hub.subscribe({ topics: [room], key: user })
  }
}

@Injectable()
class Settings {
  readonly heartbeat = 30
}

@Module({ providers: [Settings], exports: [Settings] })
class SettingsModule {}

@Module({
  imports: [
    SseModule.forRootAsync({
      imports: [SettingsModule],
      inject: [Settings],
      useFactory: (settings: Settings) => ({
        heartbeat: settings.heartbeat,
        store: new MemoryStore({ maxEvents: 100 }),
      }),
    }),
  ],
  controllers: [FeedController],
})
class AppModule {}

describe.each(platforms)(`SseHub on %s, ${nest}`, (platform) => {
  let server: App | undefined
  afterEach(async () => {
    await server?.close()
    server = undefined
  })

  it('resumes an eventsource client across a reconnect: replay, then live', async () => {
    server = await startApp(platform, AppModule)
    const hub = server.app.get(SseHub)
    const requests: { lastEventId: string | null; replay: string | null }[] = []
    const source = new EventSource(`${server.url}/feed`, {
      fetch: async (url, init) => {
        const response = await fetch(url, init)
        const headers = new Headers(init?.headers)
        requests.push({
          lastEventId: headers.get('last-event-id'),
          replay: response.headers.get('sse-replay'),
        })
        return response
      },
    })
    const received: { data: string; id: string }[] = []
    source.addEventListener('news', (event) => {
      received.push({ data: event.data, id: event.lastEventId })
    })
    let publishedWhileAway: Promise<unknown> | undefined
    let streamsWhileAway = -1
    source.addEventListener('error', () => {
      // The server ended the stream (maxLifetime); the client waits `retry` before coming back.
      if (publishedWhileAway) return
      streamsWhileAway = hub.size
      publishedWhileAway = Promise.all([
        hub.publish('news', 'three', { topic: 'news' }),
        hub.publish('news', 'four', { topic: 'news' }),
        hub.publish('sports', 'not followed', { topic: 'sports' }),
      ])
    })
    try {
      await waitFor('the first connection', () => hub.size === 1)
      await hub.publish('news', 'one', { topic: 'news' })
      await hub.publish('news', 'two', { topic: 'news' })
      const afterTwo = await hub.cursor({ topics: ['news'] })
      await waitFor('the second connection', () => requests.length === 2, 8000)
      expect(streamsWhileAway).toBe(0)
      await publishedWhileAway
      await waitFor('the replayed events', () => received.length >= 4)
      await hub.publish('news', 'five', { topic: 'news' })
      await waitFor('the live event', () => received.length >= 5)
      expect(received.slice(0, 5).map((r) => r.data)).toEqual([
        'one',
        'two',
        'three',
        'four',
        'five',
      ])
      expect(new Set(received.map((r) => r.id)).size).toBe(5)
      expect(received[1]!.id).toBe(afterTwo)
      expect(received[4]!.id).toBe(await hub.cursor({ topics: ['news'] }))
      expect(requests[0]).toEqual({ lastEventId: null, replay: null })
      expect(requests[1]).toEqual({ lastEventId: afterTwo, replay: 'complete' })
    } finally {
      source.close()
    }
  })

  it('targets a topic and a key, and its subscriptions are Observables', async () => {
    server = await startApp(platform, AppModule)
    const hub = server.app.get(SseHub)
    const ann = await get(`${server.url}/rooms/red?user=ann`)
    const bob = await get(`${server.url}/rooms/red?user=bob`)
    const blue = await get(`${server.url}/rooms/blue?user=ann`)
    await waitFor('three streams', () => hub.size === 3)
    const observed = firstValueFrom(
      hub.subscribe({ topics: ['red'], key: 'ann' }).pipe(take(2), toArray()),
    )
    await hub.publish('chat', { text: 'to the room' }, { topic: 'red' })
    await hub.publish('chat', 'to ann in red', { topic: 'red', key: 'ann' })
    await hub.publish('chat', 'to everyone')
    await waitFor('ann', () => events(ann.text).length === 3)
    await waitFor('bob', () => events(bob.text).length === 2)
    await waitFor('blue', () => events(blue.text).length === 1)
    expect(events(ann.text).map((event) => event.data)).toEqual([
      '{"text":"to the room"}',
      'to ann in red',
      'to everyone',
    ])
    expect(events(bob.text).map((event) => event.data)).toEqual([
      '{"text":"to the room"}',
      'to everyone',
    ])
    expect(events(blue.text).map((event) => event.data)).toEqual(['to everyone'])
    const [first, second] = await observed
    expect(first).toMatchObject({ type: 'chat', data: '{"text":"to the room"}' })
    // Outside a route an Observable has no stream, so no cursor: no id.
    expect(second).toEqual({ type: 'chat', data: 'to ann in red' })
    // forRootAsync's factory configured the heartbeat.
    await waitFor('a heartbeat', () => ann.text.includes(':\n\n'))
    ann.destroy()
    await waitFor('the hub to forget a client that left', () => hub.size === 2)
  })

  it('ends open streams when the application closes, so app.close() completes', async () => {
    server = await startApp(platform, AppModule)
    const member = await get(`${server.url}/rooms/red`)
    const own = await get(`${server.url}/idle`)
    await waitFor('the streams', () => member.text.length > 0 && own.text.length > 0)
    await server.close()
    server = undefined
    await Promise.all([member.end, own.end])
    expect(member.ended && own.ended).toBe(true)
  })
})
