/**
 * Memory per idle connection, and how much of it is the framework's own:
 * `pnpm --filter @sse/bench bench:memory [--only=name,...] [--step=3300]`.
 *
 * Each subject runs in a process of its own (`--expose-gc`). A client process opens `step` idle
 * streams three times; after each step and a full GC the server reads its heap and RSS. The
 * figures are the slope from the first step to the third: what one more connection costs, without
 * what a process pays once (code compiled on the first request, the young generation growing),
 * which the main run's RSS figure spreads over its 10,000 connections. The bare references are
 * each framework holding an idle response with no SSE library, so an adapter's own bytes show.
 */
import { fork } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import type { Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { StartContestant } from './protocol.ts'

interface Subject {
  name: string
  file: string
  /** The subject this one is built on, to report what it adds. */
  over?: string
}

const subjects: Subject[] = [
  { name: 'raw node:http', file: 'raw' },
  { name: '@sse/core (node:http)', file: 'core', over: 'raw node:http' },
  { name: '@sse/fastify', file: 'fastify' },
  { name: '@sse/hono (Node)', file: 'hono' },
  { name: 'Express alone', file: 'express-bare' },
  { name: '@sse/express', file: 'express', over: 'Express alone' },
  { name: 'Koa alone', file: 'koa-bare' },
  { name: '@sse/koa', file: 'koa', over: 'Koa alone' },
  { name: 'NestJS alone (Express platform)', file: 'nest-bare' },
  { name: '@sse/nestjs', file: 'nestjs', over: 'NestJS alone (Express platform)' },
]

interface Slope {
  heapKB: number
  rssKB: number
}

const self = fileURLToPath(import.meta.url)
const flag = (name: string) =>
  process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3)
const step = Number(flag('step') ?? 3300)
const STEPS = 3

/** The client process: opens `step` idle streams each time it is asked, then says so. */
async function client(port: number): Promise<void> {
  const { connect } = await import('node:net')
  const sockets: Socket[] = []
  process.on('message', async () => {
    let ready = 0
    await new Promise<void>((done) => {
      for (let i = 0; i < step; i++) {
        const socket = connect(port, '127.0.0.1', () =>
          socket.write('GET /events HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n'),
        )
        socket.once('data', () => {
          if (++ready === step) done()
        })
        sockets.push(socket)
      }
    })
    process.send!('ready')
  })
}

/** The server process: starts the subject, has the client open its steps, measures each. */
async function serve(file: string): Promise<void> {
  const start = (await import(`./contestants/${file}.ts`)).default as StartContestant
  const running = await start()
  const gc = (globalThis as { gc: () => void }).gc
  const measure = () => {
    for (let i = 0; i < 4; i++) gc()
    return process.memoryUsage()
  }
  const loader = fork(self, [`--client=${running.port}`, `--step=${step}`], {
    execArgv: ['--import', 'tsx'],
  })
  const marks = []
  for (let i = 0; i < STEPS; i++) {
    loader.send('open')
    await new Promise((resolve) => loader.once('message', resolve))
    // Let the last heads and first frames settle before reading.
    await new Promise((resolve) => setTimeout(resolve, 500))
    marks.push(measure())
  }
  const first = marks[0]!
  const last = marks.at(-1)!
  const per = (bytes: number) => bytes / 1024 / (step * (STEPS - 1))
  const slope: Slope = {
    heapKB: per(last.heapUsed - first.heapUsed),
    rssKB: per(last.rss - first.rss),
  }
  loader.kill()
  process.send!(slope, () => process.exit(0))
}

function run(file: string): Promise<Slope> {
  return new Promise((resolve, reject) => {
    const server = fork(self, [`--serve=${file}`, `--step=${step}`], {
      execArgv: ['--expose-gc', '--import', 'tsx'],
    })
    server.once('message', (slope) => resolve(slope as Slope))
    server.once('exit', (code) => reject(new Error(`${file} exited with ${code} before reporting`)))
  })
}

async function main(): Promise<void> {
  const only = flag('only')?.split(',')
  const chosen = only ? subjects.filter((s) => only.includes(s.name)) : subjects
  const results = new Map<string, Slope>()
  for (const subject of chosen) {
    results.set(subject.name, await run(subject.file))
    console.error(`${subject.name}: ${results.get(subject.name)!.heapKB.toFixed(2)} KB heap`)
  }
  const core = results.get('@sse/core (node:http)')
  const rows = chosen.map((subject) => {
    const slope = results.get(subject.name)!
    const base = subject.over ? results.get(subject.over) : undefined
    return {
      subject: subject.name,
      ...slope,
      timesCore: core ? slope.heapKB / core.heapKB : null,
      addedKB: base ? slope.heapKB - base.heapKB : null,
    }
  })
  const fixed = (n: number | null, digits = 1) => (n === null ? 'n/a' : n.toFixed(digits))
  const lines = [
    `Heap and RSS added per idle connection, from ${step.toLocaleString('en-US')} to ${(step * STEPS).toLocaleString('en-US')} connections (after a full GC):`,
    '',
    '| subject | heap KB | × core | added over what it is built on | RSS KB |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (row) =>
        `| ${row.subject} | ${fixed(row.heapKB, 2)} | ${fixed(row.timesCore, 2)} | ${row.addedKB === null ? '' : `${fixed(row.addedKB, 2)} KB`} | ${fixed(row.rssKB)} |`,
    ),
  ]
  console.log(lines.join('\n'))
  const out = fileURLToPath(new URL('../results/', import.meta.url))
  mkdirSync(out, { recursive: true })
  writeFileSync(`${out}memory.json`, `${JSON.stringify({ step, rows }, null, 2)}\n`)
}

const clientPort = flag('client')
const serveFile = flag('serve')
if (clientPort) await client(Number(clientPort))
else if (serveFile) await serve(serveFile)
else await main()
