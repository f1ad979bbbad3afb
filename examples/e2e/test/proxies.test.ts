import { connectEventSource, waitFor } from '@sse/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningExample, startExample } from './examples.ts'
import {
  describeProxies,
  figures,
  type IdleFigure,
  type RunningProxy,
  startHaproxy,
  startNginx,
  writeFigures,
} from './proxies.ts'
import { idle, latency, notify } from './proxy-clients.ts'

// The figures in docs/deployment.md come from this suite (test-output/proxy-figures.json).
// Timing is asserted only coarsely, each configuration against its control: "prompt" is a
// median under 150 ms where the held-back control is over 500 ms. Every stream is watched for
// the same window (WINDOW in proxy-clients.ts, 5 s).
const PROMPT = 150
const GZIP = 'gzip on; gzip_types text/event-stream;'
// A second and a half below the 2 s idle timeouts; its ticker period is 500 / 8 = 62 ms.
const HEARTBEAT = '500'
const NEVER = '3600000'

describeProxies('examples/express behind real nginx and HAProxy', () => {
  const apps = {} as Record<'ticking' | 'fast' | 'silent' | 'beating' | 'resume', RunningExample>
  const proxies = new Set<RunningProxy>()

  beforeAll(async () => {
    const settings = {
      ticking: { TICK_MS: '250' }, // sparse enough to see HAProxy's ~200 ms per event
      fast: { TICK_MS: '50' }, // fills nginx's 4 KiB buffer within seconds
      silent: { TICK_MS: NEVER, HEARTBEAT_MS: NEVER },
      beating: { TICK_MS: NEVER, HEARTBEAT_MS: HEARTBEAT },
      resume: { TICK_MS: NEVER, HEARTBEAT_MS: NEVER },
    }
    await Promise.all(
      Object.entries(settings).map(async ([name, env]) => {
        apps[name as keyof typeof apps] = await startExample('express', env)
      }),
    )
  }, 60_000)

  afterAll(async () => {
    await Promise.all([...proxies].map((proxy) => proxy.stop()))
    await Promise.all(Object.values(apps).map((app) => app.stop()))
    writeFigures()
  }, 30_000)

  async function proxy(started: Promise<RunningProxy>) {
    const running = await started
    proxies.add(running)
    return running
  }

  describe.concurrent('latency of each event, publish to arrival', () => {
    it('no proxy (the baseline)', async () => {
      const direct = await latency('direct, no proxy', apps.ticking.url)
      expect(direct.p50).toBeLessThan(PROMPT)
    })

    it('nginx with its default buffering: prompt, because the server sends X-Accel-Buffering: no', async () => {
      const nginx = await proxy(startNginx(apps.ticking.url))
      const measured = await latency('nginx, defaults', nginx.url)
      expect(measured.events).toBeGreaterThan(10)
      expect(measured.p50).toBeLessThan(PROMPT)
    })

    it('nginx with gzip on: compressed anyway (no-transform is ignored), and still prompt', async () => {
      const nginx = await proxy(startNginx(apps.ticking.url, { http: GZIP }))
      const measured = await latency('nginx, gzip on', nginx.url, true)
      // nginx's gzip does not look at Cache-Control; it flushes each unbuffered chunk instead.
      expect(measured.encoding).toBe('gzip')
      expect(measured.events).toBeGreaterThan(10)
      expect(measured.p50).toBeLessThan(PROMPT)
    })

    it('nginx fallback (proxy_buffering off; gzip off): prompt even when the header is ignored', async () => {
      const location = 'proxy_ignore_headers X-Accel-Buffering; proxy_buffering off; gzip off;'
      const nginx = await proxy(startNginx(apps.ticking.url, { http: GZIP, location }))
      const measured = await latency('nginx, fallback config', nginx.url, true)
      expect(measured.encoding).toBe('none')
      expect(measured.p50).toBeLessThan(PROMPT)
    })

    it('control: nginx that ignores X-Accel-Buffering holds events back until its buffer fills', async () => {
      const location = 'proxy_ignore_headers X-Accel-Buffering;'
      const [honoured, ignored, ignoredGzip] = await Promise.all([
        proxy(startNginx(apps.fast.url)),
        proxy(startNginx(apps.fast.url, { location })),
        proxy(startNginx(apps.fast.url, { location, http: GZIP })),
      ])
      const [prompt, held, gzipHeld] = await Promise.all([
        latency('control: nginx, defaults, 20 events/s', honoured.url),
        latency('control: nginx ignoring the header, 20 events/s', ignored.url),
        latency('control: nginx ignoring the header, gzip on, 20 events/s', ignoredGzip.url, true),
      ])
      expect(prompt.p50).toBeLessThan(PROMPT)
      expect(held.events === 0 || held.p50 > prompt.p50 + 500).toBe(true)
      // With gzip as well, gzip's own buffers hold even the response head.
      expect(gzipHeld.events).toBe(0)
    })

    it('HAProxy: option http-no-delay removes the ~200 ms it otherwise adds to every event', async () => {
      const timeouts = 'timeout client 30s\ntimeout server 30s'
      const [plain, noDelay] = await Promise.all([
        proxy(startHaproxy(apps.ticking.url, timeouts)),
        proxy(startHaproxy(apps.ticking.url, `${timeouts}\noption http-no-delay`)),
      ])
      const [slow, fast] = await Promise.all([
        latency('HAProxy, defaults', plain.url),
        latency('HAProxy, option http-no-delay', noDelay.url),
      ])
      expect(fast.p50).toBeLessThan(PROMPT)
      expect(slow.p50).toBeGreaterThan(fast.p50 + 100)
    })
  })

  // Cut by the proxy's timer (not before it could have run out), without the last chunk.
  const cut = (idle: IdleFigure) => {
    expect(idle.how).toBe('abort')
    expect(idle.cutAfter).toBeGreaterThan(1500)
  }
  const open = (idle: IdleFigure) => expect(idle.cutAfter).toBeNull()

  describe.concurrent('idle timeouts of 2 s, no events', () => {
    it('nginx proxy_read_timeout cuts a stream without heartbeats; a 500 ms heartbeat keeps it', async () => {
      const location = 'proxy_read_timeout 2s;'
      const [silent, beating] = await Promise.all([
        proxy(startNginx(apps.silent.url, { location })),
        proxy(startNginx(apps.beating.url, { location })),
      ])
      const [quiet, kept] = await Promise.all([
        idle('nginx proxy_read_timeout 2s', silent.url),
        idle('nginx proxy_read_timeout 2s, heartbeat 500 ms', beating.url),
      ])
      cut(quiet)
      open(kept)
      expect(kept.heartbeats).toBeGreaterThan(3)
    })

    it('nginx send_timeout does not cut an idle stream (it times writes the client does not take)', async () => {
      const nginx = await proxy(startNginx(apps.silent.url, { location: 'send_timeout 2s;' }))
      open(await idle('nginx send_timeout 2s', nginx.url))
    })

    it('HAProxy timeout server cuts a stream without heartbeats; a 500 ms heartbeat keeps it', async () => {
      const both = 'timeout client 2s\ntimeout server 2s'
      const [server, beating] = await Promise.all([
        proxy(startHaproxy(apps.silent.url, 'timeout client 1h\ntimeout server 2s')),
        proxy(startHaproxy(apps.beating.url, both)),
      ])
      const [quiet, kept] = await Promise.all([
        idle('HAProxy timeout server 2s (client 1h)', server.url),
        idle('HAProxy timeout client/server 2s, heartbeat 500 ms', beating.url),
      ])
      cut(quiet)
      open(kept)
      expect(kept.heartbeats).toBeGreaterThan(3)
    })

    it('HAProxy timeout client alone does not cut a stream whose client reads', async () => {
      const haproxy = await proxy(
        startHaproxy(apps.silent.url, 'timeout client 2s\ntimeout server 1h'),
      )
      // It applies while the client is expected to send or acknowledge, not while it waits.
      open(await idle('HAProxy timeout client 2s (server 1h)', haproxy.url))
    })

    it('HAProxy timeout tunnel does not apply to a stream: it neither cuts nor keeps one', async () => {
      const [short, long] = await Promise.all([
        proxy(
          startHaproxy(apps.silent.url, 'timeout client 1h\ntimeout server 1h\ntimeout tunnel 2s'),
        ),
        proxy(
          startHaproxy(apps.silent.url, 'timeout client 2s\ntimeout server 2s\ntimeout tunnel 1h'),
        ),
      ])
      const [notCut, stillCut] = await Promise.all([
        idle('HAProxy timeout tunnel 2s (client/server 1h)', short.url),
        idle('HAProxy timeout client/server 2s (tunnel 1h)', long.url),
      ])
      open(notCut)
      cut(stillCut)
    })
  })

  /**
   * The eventsource client through nginx with a 2 s idle timeout and no heartbeats: its first
   * stream is cut before any event, three notifications are published while it waits to
   * reconnect, and it reconnects. Returns what it sent and which of the three it received.
   */
  async function cutBeforeFirstEvent(name: string, location: string) {
    const nginx = await proxy(startNginx(apps.resume.url, { location }))
    const client = connectEventSource(
      { url: nginx.url, http2: false },
      { events: ['notification'] },
    )
    try {
      await waitFor('the first stream to be cut', () => client.errors > 0, { timeout: 6000 })
      const texts = ['gap 1', 'gap 2', 'gap 3'].map((text) => `${name}: ${text}`)
      for (const text of texts) await notify(apps.resume.url, text)
      // Published while the client waits its `retry` (about 1 s): nobody received them live.
      expect(client.requests).toHaveLength(1)
      await waitFor('the client to reconnect', () => client.requests.length > 1, { timeout: 5000 })
      const received = () =>
        client.messages.filter((m) => m.type === 'notification').map((m) => JSON.parse(m.data).text)
      await waitFor('the gap events', () => received().length >= 3, { timeout: 2000 }).catch(
        () => {},
      )
      const lastEventId = client.requests[1]!.headers['Last-Event-ID']
      figures.resume[name] = {
        lost: texts.filter((text) => !received().includes(text)).length,
        clientSentLastEventId: lastEventId !== undefined,
      }
      return { texts, received: received(), lastEventId }
    } finally {
      client.close()
    }
  }

  // One after the other: both publish on the same server, which would feed the other's stream.
  describe('a cut before the first event (C34)', () => {
    it('the eventsource client resumes from the first frame and loses nothing in the gap', async () => {
      const run = await cutBeforeFirstEvent(
        'nginx, cut before the first event',
        'proxy_read_timeout 2s;',
      )
      expect(run.lastEventId).toBeTruthy()
      expect(run.received).toEqual(run.texts)
    }, 20_000)

    it('control: through a proxy that drops Last-Event-ID, the same gap is lost', async () => {
      const location = 'proxy_read_timeout 2s; proxy_set_header Last-Event-ID "";'
      const run = await cutBeforeFirstEvent('control: nginx dropping Last-Event-ID', location)
      expect(run.received).toEqual([])
    }, 20_000)
  })
})
