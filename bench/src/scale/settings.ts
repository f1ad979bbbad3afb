/**
 * The scale benchmark's settings from its flags, and the plan of one run: which client process
 * opens which connections, to which server, from which loopback source address.
 */

export interface Settings {
  mode: 'default' | 'custom' | 'smoke'
  /** Server process counts, one run each. */
  processes: number[]
  /** SSE connections held by each server process. */
  perProcess: number
  /** Events per second, broadcast by one server process to every client through Redis. */
  rate: number
  /** The broadcast window. */
  seconds: number
  /** Bytes of each event's data (JSON carrying its send time, padded). */
  bytes: number
  /** One connection in this many parses every event for latency. */
  sampleEvery: number
  /** Most sockets per client process (the hard limit is 20,000 open files per process). */
  perClient: number
  /** Most connections per source address (one address/port pair has ~28,000 ephemeral ports). */
  perAddress: number
  /** Connects in flight per client process: with a few client processes, under the backlog. */
  inFlight: number
}

export function parseSettings(args: string[]): Settings {
  const value = (name: string) =>
    args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? undefined
  const number = (name: string, fallback: number) => {
    const text = value(name)
    if (text === undefined) return fallback
    const n = Number(text)
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name}=${text}: not a positive number`)
    return n
  }
  const smoke = args.includes('--smoke')
  const custom = args.some((a) => /^--(processes|per-process|rate|seconds)=/.test(a))
  const processes = (value('processes') ?? (smoke ? '1,2' : '1,2,4'))
    .split(',')
    .map((p) => Number(p))
  if (processes.some((p) => !Number.isInteger(p) || p < 1)) {
    throw new Error(`--processes=${value('processes')}: expected counts such as 1,2,4`)
  }
  return {
    mode: smoke ? 'smoke' : custom ? 'custom' : 'default',
    processes,
    perProcess: number('per-process', smoke ? 500 : 18_000),
    rate: number('rate', 1),
    seconds: number('seconds', smoke ? 3 : 10),
    bytes: 100,
    sampleEvery: number('sample-every', 10),
    perClient: number('per-client', 18_000),
    perAddress: number('per-address', 14_000),
    inFlight: number('in-flight', 250),
  }
}

/** What one client process opens: global connection indexes `from` (inclusive) to `to`. */
export interface ClientPlan {
  from: number
  to: number
  /** Connection g goes to ports[g % ports.length] from addresses[g % addresses.length]. */
  ports: number[]
  addresses: string[]
  sampleEvery: number
  inFlight: number
}

/**
 * Splits `total` connections over client processes (at least one per server process, at most
 * `perClient` sockets each) and source addresses. `firstAddress` moves on from run to run, so a
 * run never binds a port that the previous run's sockets still hold in TIME_WAIT.
 */
export function planClients(
  settings: Settings,
  ports: number[],
  firstAddress: number,
): { plans: ClientPlan[]; addresses: string[] } {
  const total = ports.length * settings.perProcess
  const clients = Math.max(ports.length, Math.ceil(total / settings.perClient))
  const count = Math.max(2, Math.ceil(total / settings.perAddress))
  if (firstAddress + count > 255) throw new Error('out of 127.0.0.x source addresses')
  const addresses = Array.from({ length: count }, (_, i) => `127.0.0.${firstAddress + i}`)
  const plans = Array.from({ length: clients }, (_, c) => ({
    from: Math.floor((c * total) / clients),
    to: Math.floor(((c + 1) * total) / clients),
    ports,
    addresses,
    sampleEvery: settings.sampleEvery,
    inFlight: settings.inFlight,
  }))
  return { plans, addresses }
}
