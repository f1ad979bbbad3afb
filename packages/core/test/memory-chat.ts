import { type ChatApp, type ChatAppOptions, chatApp, type Produce } from '@sse/test-utils'
import { afterEach } from 'vitest'
import { MemoryStore } from '../src/memory-store'

/** The lease of the durable-stream tests' producers, in ms: short, so that losses show fast. */
export const LEASE = 150

const apps = new Set<ChatApp>()
afterEach(async () => {
  await Promise.all([...apps].map((app) => app.close()))
  apps.clear()
})

/**
 * The shared chat app (POST /chat, GET and DELETE /chat/:id) on a MemoryStore of its own,
 * closed after the test that opened it.
 */
export async function memoryApp(produce: Produce, options: Partial<ChatAppOptions> = {}) {
  const store = new MemoryStore()
  const app = await chatApp(store, produce, { lease: LEASE, ...options })
  apps.add(app)
  return { ...app, store }
}
