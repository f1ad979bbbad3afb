import type { SseSession } from './session'
import type { EventMap, SseMessage } from './types'

/**
 * Options of {@link closeSessions} and `Hub.shutdown`. Not typed by an event map: that would make
 * `Hub<Events>` unassignable to `Hub`, which adapters take as a plugin-wide default.
 */
export interface ShutdownOptions {
  /**
   * How long open streams get to flush before their connections are dropped, in milliseconds.
   * @default 5000
   */
  grace?: number
  /** An event sent to every stream before it ends (for example `{ event: 'bye' }`). */
  farewell?: SseMessage
}

/**
 * Ends streams for a shutdown: sends the optional farewell, ends each stream, and drops the
 * connections that have not flushed within `grace`, so `server.close()` can complete (C18).
 * `Hub.shutdown` uses it for its sessions; adapters use it for streams opened without a hub.
 */
export async function closeSessions(
  sessions: Iterable<SseSession<EventMap>>,
  options: ShutdownOptions = {},
): Promise<void> {
  const open = [...sessions]
  for (const session of open) {
    if (options.farewell) session.send(options.farewell)
    session.close('shutdown')
  }
  let timer: ReturnType<typeof setTimeout> | undefined
  const grace = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, options.grace ?? 5000)
  })
  await Promise.race([Promise.all(open.map((session) => session.released())), grace])
  clearTimeout(timer)
  for (const session of open) session.destroy()
}
