import { channels } from './diagnostics-channels'
import type { PublishMessage, StoreErrorMessage } from './diagnostics-messages'
import type { Hub } from './hub'
import type { Target } from './hub-options'
import type { EventInput } from './store'
import type { SseStream } from './stream'

/** Publishes on `sse:hub:publish` (when someone listens): one target per log written. */
export function reportPublish(hub: Hub, inputs: readonly EventInput[], history: boolean): void {
  if (!channels.publish.hasSubscribers) return
  const targets = inputs.map(({ topic, key }) => {
    const target: Target = {}
    if (topic !== undefined) target.topic = topic
    if (key !== undefined) target.key = key
    return target
  })
  const message: PublishMessage = {
    hub,
    event: inputs[0]!.event,
    targets,
    history,
    trace: undefined,
  }
  channels.publish.publish(message)
  const { trace } = message
  if (typeof trace === 'string' && TRACE.test(trace))
    for (const input of inputs) input.trace = trace
}

/** What a store keeps as an event's trace context: short, printable, no line break. */
const TRACE = /^[\x20-\x7e]{1,512}$/

/** Publishes on `sse:store:error` (when someone listens). */
export function reportStoreError(
  hub: Hub,
  error: unknown,
  operation: StoreErrorMessage['operation'],
): void {
  if (channels.storeError.hasSubscribers) channels.storeError.publish({ hub, error, operation })
}

/** Publishes on `sse:stream:slow-consumer` (when someone listens). */
export function reportSlowConsumer(
  stream: SseStream,
  bufferedBytes: number,
  heldEvents: number,
): void {
  if (channels.slowConsumer.hasSubscribers) {
    channels.slowConsumer.publish({ stream, bufferedBytes, heldEvents })
  }
}
