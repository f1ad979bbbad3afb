// A chat app on the Vercel AI SDK (the real `ai` package, with its test model: no network, no
// real model) whose answers are durable streams; core's AI SDK test and @sse/react's useChat
// test in Chromium both serve it.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { type LanguageModel, streamText, type UIMessage } from 'ai'
import { MockLanguageModelV4, simulateReadableStream } from 'ai/test'
import { createDurableStreams } from '../src/durable'
import { createHub } from '../src/hub'
import { openNodeStream } from '../src/node'

/** The answer the test model streams: 40 words, `w0 ` to `w39 `. */
export const WORDS = Array.from({ length: 40 }, (_, i) => `w${i} `)

/**
 * The `ai` package's own test model (no network, no real model), streaming {@link WORDS} one
 * every `everyMs`, and counting how many times it ran.
 */
export function testModel(everyMs: number) {
  let runs = 0
  const mock = new MockLanguageModelV4({
    doStream: async () => {
      runs++
      return {
        stream: simulateReadableStream({
          chunkDelayInMs: everyMs,
          chunks: [
            { type: 'stream-start', warnings: [] },
            { type: 'text-start', id: 't' },
            ...WORDS.map((delta) => ({ type: 'text-delta' as const, id: 't', delta })),
            { type: 'text-end', id: 't' },
            {
              type: 'finish',
              finishReason: { unified: 'stop', raw: 'stop' },
              usage: {
                inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 },
                outputTokens: { total: WORDS.length, text: WORDS.length, reasoning: 0 },
              },
            },
          ],
        }),
      }
    },
  })
  return { mock, runs: () => runs }
}

async function json(req: IncomingMessage): Promise<{ id: string; messages: UIMessage[] }> {
  let text = ''
  for await (const chunk of req) text += chunk
  return JSON.parse(text)
}

/**
 * The chat routes of the AI SDK's resumable-streams guide, on durable streams: `POST /api/chat`
 * runs `model` on the messages and streams its UI message stream; `GET /api/chat/:id/stream`
 * resumes the chat's running answer, or answers 204 when none runs. Returns the request
 * listener and the number of requests it answered (`method path` each).
 */
export function aiChatRoutes(model: LanguageModel) {
  const chats = createDurableStreams(createHub(), { location: (id) => `/api/streams/${id}` })
  // The app's record of each chat's running answer (a database column in a real app).
  const active = new Map<string, string>()
  const requests: string[] = []
  const listener = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url!, 'http://localhost')
    requests.push(`${req.method} ${url.pathname}`)
    if (req.method === 'POST' && url.pathname === '/api/chat') {
      const { id: chatId, messages } = await json(req)
      const run = await chats.start({
        produce: async (out, signal) => {
          try {
            const prompt = messages
              .flatMap((m) => m.parts.map((p) => (p.type === 'text' ? p.text : '')))
              .join('\n')
            const result = streamText({ model, prompt, abortSignal: signal })
            await out.pipe(result.toUIMessageStream(), { map: (chunk) => ({ data: chunk }) })
            return '[DONE]'
          } finally {
            active.delete(chatId)
          }
        },
      })
      active.set(chatId, run.id)
      const headers = { 'x-vercel-ai-ui-message-stream': 'v1' }
      return void openNodeStream(req, res, { durable: run, headers })
    }
    const resume = /^\/api\/chat\/([^/]+)\/stream$/.exec(url.pathname)
    const id = resume && active.get(decodeURIComponent(resume[1]!))
    if (!id) return void res.writeHead(204).end()
    void openNodeStream(req, res, { durable: chats.get(id) })
  }
  return { listener, requests, hub: chats.hub }
}
