/**
 * Append throughput of RedisStore from one process: N appends issued at once (the client
 * pipelines them on its one connection), to one log and spread over 16 logs, on a redis-server
 * this script starts on a free port (loopback, no persistence).
 *
 *   cd packages/redis && pnpm exec tsx bench/append.ts [count]
 */
import { performance } from 'node:perf_hooks'
import { RedisStore } from '../src/index'
import { startRedis } from '../test/redis-server'

const COUNT = Number(process.argv[2] ?? 100_000)
const DATA = JSON.stringify({ text: 'x'.repeat(100) })

async function run(store: RedisStore, logs: number): Promise<number> {
  const started = performance.now()
  await Promise.all(
    Array.from({ length: COUNT }, (_, i) =>
      store.append([{ log: `tbench${i % logs}`, data: DATA }]),
    ),
  )
  return COUNT / ((performance.now() - started) / 1000)
}

const redis = await startRedis()
const store = new RedisStore({ redis: redis.url, prefix: 'bench:' })
try {
  await store.ready()
  await run(store, 1) // warm up: JIT, script cache
  console.log(
    `Node ${process.version}, ${COUNT.toLocaleString('en')} appends at once, ${DATA.length} B data`,
  )
  for (const logs of [1, 16]) {
    const rate = await run(store, logs)
    console.log(
      `  ${String(logs).padStart(2)} log(s): ${Math.round(rate).toLocaleString('en')} appends/s`,
    )
  }
} finally {
  await store.close()
  await redis.stop()
}
