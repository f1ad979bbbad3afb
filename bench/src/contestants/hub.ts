import { createHub, MemoryStore } from '@sse/core'

/**
 * The hub every one of our contestants uses: ids and a 1,000-event history for resume, no
 * heartbeat (no contestant sends one during the measurement, so all pay the same).
 */
export function benchHub() {
  return createHub({ store: new MemoryStore({ maxEvents: 1000 }), heartbeat: false })
}
