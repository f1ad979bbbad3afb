import { toBytes } from './bytes'
import { checkEventName, serializeData } from './encoder'
import type { PublishOptions } from './hub-options'
import { logOf } from './logs'
import type { EventInput } from './store'
import type { Serializer, SseMessage } from './types'

/** `publish`'s arguments, untyped: `(event, data, options?)` or `(message, options?)`. */
export type PublishCall = [string | SseMessage, unknown, PublishOptions?]

/** A checked publish: one input per log it goes to, and whether the store keeps them. */
export interface PublishInput {
  inputs: EventInput[]
  history: boolean
}

/**
 * Checks what `publish` was given and turns it into what the store takes: a valid event name,
 * data as text within `maxEventBytes`, string targets; no `id`, `retry` or `comment`, which a
 * published event cannot carry.
 *
 * @throws TypeError naming the field, or RangeError for data over `maxEventBytes`.
 */
export function publishInput(
  [first, second, third]: PublishCall,
  limits: { serialize: Serializer; maxEventBytes: number },
): PublishInput {
  const named = typeof first === 'string'
  const message = (named ? { event: first, data: second } : first) as SseMessage
  const options = (named ? third : second) as PublishOptions | undefined
  if (message === null || typeof message !== 'object') {
    throw new TypeError('Invalid SSE event: expected an event name or a message object')
  }
  if (message.id !== undefined) {
    throw new TypeError('Invalid SSE field "id": the store assigns the ids of published events')
  }
  if (message.retry !== undefined || message.comment !== undefined) {
    const field = message.retry !== undefined ? 'retry' : 'comment'
    throw new TypeError(`Invalid SSE field "${field}": published events carry only event and data`)
  }
  const event = checkEventName(message.event)
  const data = serializeData(message.data ?? '', limits.serialize)
  checkSize(data, limits.maxEventBytes)
  const key = checkTarget('key', options?.key)
  const history = options?.history === undefined ? true : options.history
  if (typeof history !== 'boolean') {
    throw new TypeError(
      `Invalid publish option "history": expected a boolean, got ${typeof history}`,
    )
  }
  const topics = options?.topic
  if (!Array.isArray(topics)) {
    const topic = checkTarget('topic', topics)
    return { inputs: [{ log: logOf(topic, key), topic, key, event, data }], history }
  }
  if (topics.length === 0) throw new TypeError('Invalid publish target "topic": an empty list')
  const inputs: EventInput[] = []
  for (const topic of new Set<unknown>(topics)) {
    if (typeof topic !== 'string') {
      throw new TypeError(`Invalid publish target "topic": expected strings, got ${typeof topic}`)
    }
    inputs.push({ log: logOf(topic, key), topic, key, event, data })
  }
  return { inputs, history }
}

function checkSize(data: string, max: number): void {
  // UTF-8 takes at most 3 bytes per UTF-16 code unit: encode only when the length is unclear.
  if (data.length * 3 <= max) return
  const bytes = data.length > max ? data.length : toBytes(data).byteLength
  if (bytes > max) {
    throw new RangeError(`SSE event data is ${bytes} bytes, over maxEventBytes (${max})`)
  }
}

function checkTarget(field: 'topic' | 'key', value: unknown): string | undefined {
  if (value === undefined || typeof value === 'string') return value
  throw new TypeError(`Invalid publish target "${field}": expected a string, got ${typeof value}`)
}
