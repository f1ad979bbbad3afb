/**
 * The example on every core of one machine: node:cluster forks WORKERS copies of src/server.ts
 * (default: one per core, `os.availableParallelism()`). They share one listening port (the
 * primary accepts the connections and hands them to the workers in turn) and one Redis: each
 * worker is an instance of its own, with its own hub on the shared store, exactly as separate
 * machines would be. A worker that dies is started again; SIGTERM or Ctrl+C shuts every worker
 * down gracefully (each ends its streams, and the pages resume on the others), then the
 * primary exits.
 */
import cluster, { type Worker } from 'node:cluster'
import { availableParallelism, hostname } from 'node:os'

if (cluster.isPrimary) {
  const count = Number(process.env.WORKERS) || availableParallelism()
  const alive = new Map<Worker, number>()
  let stopping = false

  const start = (n: number) => {
    // A name per worker: it is the holder of the ticker's lease in Redis, so two workers must
    // never share one (the default, host:port, is the same for every worker).
    const worker = cluster.fork({ INSTANCE: `${hostname()}/w${n}` })
    alive.set(worker, n)
  }
  for (let n = 1; n <= count; n++) start(n)

  cluster.on('exit', (worker, code, signal) => {
    const n = alive.get(worker)!
    alive.delete(worker)
    if (stopping) {
      if (alive.size === 0) process.exit(0)
      return
    }
    console.error(`worker w${n} exited (${signal ?? code}): starting it again`)
    start(n)
  })

  const stop = () => {
    if (stopping) return
    stopping = true
    // Ctrl+C reaches the workers too (one process group); SIGTERM, from a process manager,
    // only this one. Each worker shuts down once whatever it got.
    for (const worker of alive.keys()) worker.process.kill('SIGTERM')
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
} else {
  // The IPC channel to the primary keeps a worker's event loop alive after server.ts has shut
  // down: disconnect it (which also closes the listening server) when the shutdown starts.
  const disconnect = () => cluster.worker?.disconnect()
  process.once('SIGINT', disconnect)
  process.once('SIGTERM', disconnect)
  await import('./server.ts')
}
