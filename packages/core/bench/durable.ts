/**
 * What a durable stream adds per token: the time from the producer's send to the client's
 * receipt, through a durable stream on MemoryStore (stored, then fed to the reader) against the
 * same tokens written straight to a plain stream, with the same number of concurrent answers,
 * over node:http on loopback. Repetitions alternate the two; p50 and p99 of every token of a
 * repetition, medians over repetitions. Also: the time from a resume request (GET with
 * Last-Event-ID, a new connection) to its first replayed token, one at a time, with the answers
 * finished and kept.
 *
 *   node --import tsx packages/core/bench/durable.ts [answers=200] [tokens=100] [everyMs=10] [reps=3]
 */
import { createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { createDurableStreams, createHub } from '../src/index'
import { openNodeStream } from '../src/node'

const [answers = 200, tokens = 100, everyMs = 10, reps = 3] = process.argv.slice(2).map(Number)
const now = () => performance.timeOrigin + performance.now()

async function produceTokens(send: (data: string) => unknown): Promise<void> {
  for (let i = 0; i < tokens; i++) {
    await sleep(everyMs)
    await send(`${i} ${now()}`)
  }
}

const hub = createHub({ heartbeat: false })
const chats = createDurableStreams(hub, { location: (id) => `/chat/${id}` })
const server = createServer(async (req, res) => {
  if (req.url === '/plain') {
    const stream = await openNodeStream(req, res)
    await produceTokens((data) => stream.send({ data }))
    return stream.close()
  }
  if (req.method === 'POST') {
    const run = await chats.start({ produce: (out) => produceTokens((data) => out.send({ data })) })
    return void openNodeStream(req, res, { durable: run })
  }
  void openNodeStream(req, res, { durable: chats.get(req.url!.slice('/chat/'.length)) })
})
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const { port } = server.address() as AddressInfo

interface Read {
  latencies: number[]
  ids: string[]
  location: string | undefined
  /** Milliseconds from the request to the first token's frame. */
  firstTokenMs: number
}

/** Reads one response to its end: the latency and id of each token, when the first one came. */
function read(method: string, path: string, lastEventId?: string): Promise<Read> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = lastEventId ? { 'last-event-id': lastEventId } : {}
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const out: Read = {
        latencies: [],
        ids: [],
        location: res.headers['sse-resume'] as string | undefined,
        firstTokenMs: Number.NaN,
      }
      let tail = ''
      res.setEncoding('utf8')
      res.on('data', (text: string) => {
        const arrived = now()
        const frames = (tail + text).split('\n\n')
        tail = frames.pop()!
        for (const frame of frames) {
          const data = /^data: \d+ ([\d.]+)$/m.exec(frame)
          if (!data) continue
          if (Number.isNaN(out.firstTokenMs)) out.firstTokenMs = performance.now() - started
          out.latencies.push(arrived - Number(data[1]))
          const id = /^id: (.*)$/m.exec(frame)?.[1]
          if (id) out.ids.push(id)
        }
      })
      res.on('end', () => resolve(out))
    })
    req.on('error', reject)
    req.end()
  })
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}
const median = (values: number[]) => percentile(values, 50)
const results = {
  plain: { p50: [] as number[], p99: [] as number[] },
  durable: { p50: [] as number[], p99: [] as number[] },
}
const resume = { p50: [] as number[], p99: [] as number[] }

for (let rep = 0; rep < reps; rep++) {
  for (const mode of ['plain', 'durable'] as const) {
    const reads = await Promise.all(
      Array.from({ length: answers }, () =>
        mode === 'plain' ? read('GET', '/plain') : read('POST', '/chat'),
      ),
    )
    const latencies = reads.flatMap((r) => r.latencies)
    if (latencies.length !== answers * tokens)
      throw new Error(`${mode}: ${latencies.length} tokens`)
    results[mode].p50.push(percentile(latencies, 50))
    results[mode].p99.push(percentile(latencies, 99))
    if (mode === 'durable') {
      // Each reader comes back from half-way through its (finished) answer, one at a time, so
      // the figure is a resume's own time, not a queue of simultaneous connections.
      const firsts: number[] = []
      for (const r of reads) {
        const back = await read('GET', r.location!, r.ids[Math.floor(r.ids.length / 2)])
        firsts.push(back.firstTokenMs)
      }
      resume.p50.push(percentile(firsts, 50))
      resume.p99.push(percentile(firsts, 99))
    }
  }
}

const fmt = (ms: number) => `${(ms * 1000).toFixed(0)} µs`
console.log(
  `durable streams, MemoryStore: ${answers} concurrent answers x ${tokens} tokens, one every ${everyMs} ms, ${reps} reps`,
)
for (const mode of ['plain', 'durable'] as const) {
  const { p50, p99 } = results[mode]
  console.log(
    `  ${mode.padEnd(8)} send-to-receive p50 ${fmt(median(p50))}  p99 ${fmt(median(p99))}  (p99 per rep: ${p99.map(fmt).join(', ')})`,
  )
}
console.log(
  `  added by the durable stream: p50 ${fmt(median(results.durable.p50) - median(results.plain.p50))}, p99 ${fmt(median(results.durable.p99) - median(results.plain.p99))}`,
)
console.log(
  `  resume to first replayed token (one at a time, from half-way, ${answers} answers kept): p50 ${fmt(median(resume.p50))}, p99 ${fmt(median(resume.p99))}`,
)
server.closeAllConnections()
server.close()
