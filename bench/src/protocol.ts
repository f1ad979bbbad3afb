/** What a contestant's server offers the harness: a port serving `GET /events`, and a broadcast. */
export interface RunningContestant {
  port: number
  /** Sends one event with this data (serialized the contestant's own way) to every connected client. */
  publish(data: object): void
  close(): Promise<void>
}

/** A contestant module's default export. */
export type StartContestant = () => Promise<RunningContestant>

/** Messages from the orchestrator to a server process. */
export type ServerCommand =
  | { cmd: 'memory' }
  | { cmd: 'broadcast'; rate: number; seconds: number; bytes: number }
  | { cmd: 'exit' }

/** Messages from the orchestrator to the load client process. */
export type ClientCommand =
  | { cmd: 'connect'; port: number; count: number; lastEventId?: boolean }
  | { cmd: 'reset' }
  | { cmd: 'collect'; expected: number; timeoutMs: number }
  | { cmd: 'storm'; port: number }
  | { cmd: 'disconnect' }
  | { cmd: 'exit' }

/** Milliseconds on a clock shared by every process of the machine (for end-to-end latency). */
export function clock(): number {
  return performance.timeOrigin + performance.now()
}

/** Sends a reply to the parent process and waits until it is handed over. */
export function reply(message: unknown): Promise<void> {
  return new Promise((resolve) => process.send!(message, () => resolve()))
}
