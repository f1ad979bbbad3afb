/**
 * The demo's chat as durable streams: `POST /chat` starts an answer that runs detached from the
 * request and is stored part by part, `GET /chat/:id` reads it again (a reload, another
 * instance), `DELETE /chat/:id` cancels it. Framework-independent: each example maps these
 * three routes onto its own router.
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises'
import {
  createDurableStreams,
  createHub,
  type DurableErrorReason,
  type DurableRun,
  type DurableStreams,
  type DurableWriter,
  type EventStore,
  type Hub,
} from '@sse/core'

/** The parts a chat answer's producer sends. */
export type ChatParts = { token: string }

/**
 * What a reader of `/chat` gets: the tokens, then one terminal event, `done` (what the producer
 * returned) or `error` (why it stopped: `cancelled`, `failed`, `producer-lost`).
 */
export type ChatEvents = ChatParts & {
  done: { tokens: number }
  error: { reason: DurableErrorReason }
}

/** The chat's settings from the environment. */
export const chatSettings = {
  /** `TOKEN_MS`: the pretend model's pause before each token; tests make it short. */
  tokenMs: Number(process.env.TOKEN_MS ?? 40),
  /**
   * `CHAT_LEASE_MS`: the producer's lease. Readers learn of a dead producer within twice it, so
   * the multi-instance tests shorten it; core's default otherwise.
   */
  leaseMs: Number(process.env.CHAT_LEASE_MS) || 15_000,
} as const

/** The resume location of an answer, sent as `SSE-Resume`: the `GET /chat/:id` route. */
export const chatLocation = (id: string) => `/chat/${id}`

/** The chat's hub and its durable streams, on the store of `/events`. */
export interface DemoChats {
  readonly hub: Hub<ChatParts>
  readonly chats: DurableStreams<ChatParts>
}

/**
 * Creates the chat's durable streams. A hub of their own, on the same store as the ticks: its
 * streams have no `maxLifetime` (an answer ends by itself) and its events are not the ticks'.
 */
export function createChats(store: EventStore, heartbeat: number): DemoChats {
  const hub = createHub<ChatParts>({ store, retry: 1000, heartbeat })
  const chats = createDurableStreams(hub, { location: chatLocation, lease: chatSettings.leaseMs })
  return { hub, chats }
}

/** What `POST /chat` answers (400) when {@link promptOf} finds no prompt. */
export const missingPrompt = 'expected JSON {"prompt": "<a non-empty string>"}'

/** What `GET` and `DELETE /chat/:id` answer (404) for an unknown or expired answer. */
export const noSuchChat = 'no such chat'

/** The prompt of a `POST /chat` body, when it is a non-empty string. */
export function promptOf(body: unknown): string | undefined {
  const prompt = (body as { prompt?: unknown } | null | undefined)?.prompt
  return typeof prompt === 'string' && prompt !== '' ? prompt : undefined
}

/** The tokens of the pretend model's answer to `prompt`. */
export function tokensOf(prompt: string): string[] {
  const text = `You asked: "${prompt}". A language model streams its answer like this, one token at a time.`
  return text.split(/(?= )/)
}

/** A pretend language model as a durable producer: a token every `TOKEN_MS`, then `done`. */
export function answer(prompt: string) {
  return async (out: DurableWriter<ChatParts>, signal: AbortSignal) => {
    const tokens = tokensOf(prompt)
    for (const token of tokens) {
      await sleep(chatSettings.tokenMs, undefined, { signal })
      await out.send('token', token)
    }
    return { tokens: tokens.length }
  }
}

/**
 * Starts the answer to `prompt`, or finds the one an earlier request with the same
 * `Idempotency-Key` started (a client that retries its POST does not pay twice).
 */
export function startChat(
  { chats }: DemoChats,
  prompt: string,
  idempotencyKey: string | undefined,
): Promise<DurableRun> {
  return chats.start({ idempotencyKey: idempotencyKey || undefined, produce: answer(prompt) })
}
