import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'
import { APPEND, READ } from './lua'

/** Per client: whether Redis has the script cached, and the EVAL that is loading it. */
interface Loading {
  loaded: boolean
  first: Promise<unknown> | undefined
}

/**
 * A Lua script run with EVALSHA. While Redis does not have it cached (first use, or NOSCRIPT
 * after a restart), one call runs EVAL and the calls made meanwhile wait for it, so a burst of
 * appends sends the script's text once rather than once per event.
 */
export class Script {
  readonly #lua: string
  readonly #sha: string
  readonly #clients = new WeakMap<object, Loading>()

  constructor(lua: string) {
    this.#lua = lua
    this.#sha = createHash('sha1').update(lua).digest('hex')
  }

  async run(client: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    let state = this.#clients.get(client)
    if (!state) {
      state = { loaded: false, first: undefined }
      this.#clients.set(client, state)
    }
    while (state.first) await state.first
    if (!state.loaded) {
      const call = client.eval(this.#lua, keys.length, ...keys, ...args)
      const loading = state
      state.first = call.then(
        () => {
          loading.loaded = true
          loading.first = undefined
        },
        () => {
          loading.first = undefined
        },
      )
      return call
    }
    try {
      return await client.evalsha(this.#sha, keys.length, ...keys, ...args)
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      state.loaded = false
      return await client.eval(this.#lua, keys.length, ...keys, ...args)
    }
  }
}

export const appendScript = new Script(APPEND)
export const readScript = new Script(READ)
