import { within } from '@sse/test-utils'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import { expect, it } from 'vitest'
import type { RunningExample } from './examples.ts'

const PROMPT = 'one two three four five six seven eight'
// Long enough (with the suite's TOKEN_MS of 5) to be cut, resumed and cancelled mid-answer.
const LONG = Array.from({ length: 200 }, (_, i) => `w${i}`).join(' ')

/** Reads a whole fetch response as SSE; resolves once the server has ended the body. */
export async function readEvents(
  response: Response,
  until?: (events: EventSourceMessage[]) => boolean,
): Promise<EventSourceMessage[]> {
  const events: EventSourceMessage[] = []
  const parser = createParser({ onEvent: (event) => events.push(event) })
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    parser.feed(read.value)
    if (until?.(events)) {
      await reader.cancel()
      break
    }
  }
  return events
}

/** A whole answer: tokens in order, then one `done` with their count, then the end. */
function expectAnswer(events: EventSourceMessage[], prompt = PROMPT) {
  const done = events.at(-1)
  const tokens = events.slice(0, -1)
  expect(done?.event).toBe('done')
  expect(tokens.length).toBeGreaterThan(5)
  expect(tokens.every((event) => event.event === 'token' && event.data !== '')).toBe(true)
  expect(JSON.parse(done!.data)).toEqual({ tokens: tokens.length })
  // The answer repeats the prompt word for word: the tokens arrived in order.
  expect(tokens.map((event) => event.data).join('')).toContain(`"${prompt}"`)
}

/**
 * The chat's contract (examples/README.md), as cases of the smoke suite: `POST /chat` starts a
 * durable answer, `GET /chat/:id` resumes it, `DELETE /chat/:id` cancels it.
 */
export function chatCases(app: () => RunningExample): void {
  const post = (prompt: unknown, headers: Record<string, string> = {}) =>
    fetch(`${app().url}/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ prompt }),
    })
  const get = (location: string, lastEventId?: string) =>
    fetch(`${app().url}${location}`, {
      headers: {
        accept: 'text/event-stream',
        ...(lastEventId && { 'last-event-id': lastEventId }),
      },
    })

  it('POST /chat streams tokens in order, then done with their count, and names where to resume', async () => {
    const response = await post(PROMPT)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    const location = response.headers.get('sse-resume')
    expect(location).toMatch(/^\/chat\/[\w-]{22}$/)
    const events = await within('the POST /chat answer', 20_000, readEvents(response))
    expectAnswer(events)
    // Kept after it ended: the whole answer again, and nothing for a reader that has it all.
    expect(await readEvents(await get(location!))).toEqual(events)
    expect((await get(location!, events.at(-1)!.id)).status).toBe(204)
  })

  it('GET /chat/:id with Last-Event-ID, after a cut mid-answer, sends the rest exactly once', async () => {
    const first = await post(LONG)
    const location = first.headers.get('sse-resume')!
    const before = await readEvents(first, (events) => events.length >= 10)
    const rest = await within(
      'the resumed answer',
      20_000,
      readEvents(await get(location, before.at(-1)!.id)),
    )
    expectAnswer([...before, ...rest], LONG)
    const ids = [...before, ...rest].map((event) => event.id)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('one Idempotency-Key starts one answer: a repeated POST reads the same stream', async () => {
    const key = `smoke-${Date.now()}`
    const first = await post(PROMPT, { 'idempotency-key': key })
    const second = await post('another prompt', { 'idempotency-key': key })
    expect(second.headers.get('sse-resume')).toBe(first.headers.get('sse-resume'))
    const [one, two] = await Promise.all([readEvents(first), readEvents(second)])
    // The first prompt's answer, once: the second prompt ran nothing.
    expectAnswer(two)
    expect(two).toEqual(one)
  })

  it('DELETE /chat/:id cancels a running answer: its readers get error cancelled', async () => {
    const response = await post(LONG)
    const location = response.headers.get('sse-resume')!
    const reading = readEvents(response)
    const cancel = await fetch(`${app().url}${location}`, { method: 'DELETE' })
    expect(cancel.status).toBe(204)
    const events = await within('the cancelled answer', 10_000, reading)
    expect(events.at(-1)).toMatchObject({ event: 'error', data: '{"reason":"cancelled"}' })
    expect(events.filter((event) => event.event === 'token').length).toBeLessThan(150)
  })

  it('refuses a bad POST /chat with 400, and an unknown answer with 404, each with {error}', async () => {
    const refusals = [
      await post(undefined),
      await post(''),
      await post(42),
      await fetch(`${app().url}/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"prompt":',
      }),
    ]
    for (const response of refusals) {
      expect(response.status).toBe(400)
      expect(await response.json()).toEqual({ error: expect.stringMatching(/\S/) })
    }
    for (const response of [
      await get('/chat/AAAAAAAAAAAAAAAAAAAAAA'),
      await fetch(`${app().url}/chat/AAAAAAAAAAAAAAAAAAAAAA`, { method: 'DELETE' }),
    ]) {
      expect(response.status).toBe(404)
      expect(await response.json()).toEqual({ error: expect.stringMatching(/\S/) })
    }
  })
}
