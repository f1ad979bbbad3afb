import type { Provider } from '@nestjs/common'
import * as demo from '@sse/example-shared'
import { SseHub } from '@sse/nestjs'

/** The injection token of the chat's durable streams ({@link demo.DemoChats}). */
export const CHATS = Symbol('chats')

/**
 * The chat's durable streams, on the store of the module's hub. On shutdown, SseModule ends
 * every open stream of the server, the chat's too.
 */
export const chatsProvider: Provider = {
  provide: CHATS,
  inject: [SseHub],
  useFactory: (hub: SseHub) => demo.createChats(hub.store, demo.settings.heartbeatMs),
}
