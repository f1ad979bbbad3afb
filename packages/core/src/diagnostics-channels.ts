import { SSE_CHANNELS, type SseChannelMessages } from './diagnostics-messages'

/** What core needs of a `diagnostics_channel` channel (declared here: no `node:` types). */
interface Channel<T> {
  readonly hasSubscribers: boolean
  publish(message: T): void
}

type Channels = {
  readonly [K in keyof typeof SSE_CHANNELS]: Channel<SseChannelMessages[(typeof SSE_CHANNELS)[K]]>
}

const silent: Channel<never> = { hasSubscribers: false, publish() {} }

/**
 * The channels, from `diagnostics_channel` where the runtime has it. No static `node:` import,
 * so this entry stays runtime-neutral: `process.getBuiltinModule` exists in Node.js 20.16+ and
 * 22.3+ (and in Deno and Bun releases that implement it); on older Node.js 20, browsers, edge
 * workers and bundles without `process`, every channel is a silent no-op.
 */
function openChannels(): Channels {
  const runtime = globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
  let module: { channel?: (name: string) => Channel<never> } | undefined
  try {
    module = runtime.process?.getBuiltinModule?.('node:diagnostics_channel') as typeof module
  } catch {
    module = undefined
  }
  const open = (name: string) => module?.channel?.(name) ?? silent
  const channels: Record<string, Channel<never>> = {}
  for (const [id, name] of Object.entries(SSE_CHANNELS)) channels[id] = open(name)
  return channels as unknown as Channels
}

/**
 * Core's channels. Publish as `if (channels.x.hasSubscribers) channels.x.publish({ ... })`, so
 * nothing is built when nobody listens. Held here for the process's life (Node.js holds
 * channels weakly).
 */
export const channels: Channels = openChannels()
