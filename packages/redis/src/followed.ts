import type { Message } from './messages'

/** A followed log: where the feed is in it, and what waits to be delivered. */
export interface Followed {
  /** The last position delivered (or where the feed started); undefined while starting. */
  last: string | undefined
  /** Resolves with the head the feed started from, while it is being read. */
  starting: Promise<string> | undefined
  queue: Message[]
  /** A check runs (or waits to retry): messages queue meanwhile. */
  busy: boolean
  /** Checks asked for and done: the log is checked when `done` reached `asked`. */
  asked: number
  done: number
  /** Redis lost everything: the next check reports a gap whatever it reads. */
  reset: boolean
  pause: number
}

/** A log the feed starts following: busy until its head is read, messages queuing meanwhile. */
export function startFollowing(): Followed {
  return {
    last: undefined,
    starting: undefined,
    queue: [],
    busy: true,
    asked: 0,
    done: 0,
    reset: false,
    pause: 100,
  }
}
