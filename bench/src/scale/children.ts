/**
 * Child processes of the scale benchmark (servers, load clients, redis-server), and the one
 * place that kills them all: on a normal exit, an error, or Ctrl-C, none may be left holding
 * tens of thousands of sockets or a Redis port.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const running = new Set<ChildProcess>()

/** Keeps `child` on the list of processes killed when the orchestrator exits. */
export function track(child: ChildProcess): ChildProcess {
  running.add(child)
  child.once('exit', () => running.delete(child))
  return child
}

export function killAll(): void {
  for (const child of running) child.kill('SIGKILL')
  running.clear()
}

process.once('exit', killAll)
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping every child process`)
    killAll()
    process.exit(130)
  })
}

/**
 * A Node child spoken to with request/response messages, one at a time. A message with a
 * `progress` field is not a reply: it goes to `onProgress`.
 */
export class Peer {
  readonly child: ChildProcess
  readonly #ready: Promise<Record<string, unknown>>
  #pending: { resolve: (m: unknown) => void; reject: (e: Error) => void } | undefined
  onProgress: (progress: unknown) => void = () => {}

  constructor(file: string, argv: string[], execArgv: string[] = []) {
    const path = fileURLToPath(new URL(file, import.meta.url))
    this.child = track(
      fork(path, argv, {
        execArgv: ['--import', 'tsx', ...execArgv],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    )
    this.#ready = new Promise((resolve, reject) => {
      this.#pending = { resolve: resolve as (m: unknown) => void, reject }
    })
    // A child that dies mid-question fails the run instead of hanging it.
    this.child.once('exit', (code, signal) => {
      this.#pending?.reject(new Error(`${file} exited (${signal ?? code})`))
      this.#pending = undefined
    })
    this.child.on('message', (message: Record<string, unknown>) => {
      if ('progress' in message) return this.onProgress(message.progress)
      const pending = this.#pending
      this.#pending = undefined
      pending?.resolve(message)
    })
  }

  ready<T = Record<string, unknown>>(): Promise<T> {
    return this.#ready as Promise<T>
  }

  /** A child that does not answer within `timeoutMs` fails the run rather than hanging it. */
  ask<T = Record<string, unknown>>(
    message: { cmd: string; [field: string]: unknown },
    timeoutMs = 120_000,
  ): Promise<T> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      return Promise.reject(new Error('child already exited'))
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending = undefined
        reject(new Error(`no answer to ${message.cmd} within ${timeoutMs / 1000} s`))
      }, timeoutMs)
      const settle = (fn: () => void) => {
        clearTimeout(timer)
        fn()
      }
      this.#pending = {
        resolve: (m) => settle(() => resolve(m as T)),
        reject: (e) => settle(() => reject(e)),
      }
      this.child.send(message)
    })
  }

  /** Asks it to exit; kills it if it has not within 5 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = new Promise((resolve) => this.child.once('exit', resolve))
    this.#pending = undefined
    this.child.send({ cmd: 'exit' }, () => {})
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }
}
