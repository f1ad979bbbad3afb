import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { DefaultChatTransport, streamText, type UIMessage, type UIMessageChunk } from 'ai'
import { afterEach, describe, expect, it } from 'vitest'
import { createDurableStreams } from '../src/durable'
import { createHub } from '../src/hub'
import { openNodeStream } from '../src/node'
import { testModel, WORDS } from './ai-model'

// The Vercel AI SDK (the real `ai` package, its test model: no network, no real model) streams
// a chat answer as its UI message stream through a durable stream; its own chat transport
// reads it, and resumes it with its reconnect call after the reader was cut.

async function body(req: IncomingMessage): Promise<{ id: string; messages: UIMessage[] }> {
  let text = ''
  for await (const chunk of req) text += chunk
  return JSON.parse(text)
}

const servers = new Set<Server>()
afterEach(async () => {
  for (const server of servers) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
  servers.clear()
})

/** A chat route as the AI SDK's resumable-streams guide has it, on a durable stream. */
async function chatServer() {
  const { mock, runs: calls } = testModel(5)
  const hub = createHub()
  const chats = createDurableStreams(hub, { location: (id) => `/api/streams/${id}` })
  // The app's record of each chat's running answer (a database column in a real app).
  const active = new Map<string, string>()
  const server = createServer(async (req, res) => {
    const url = new URL(req.url!, 'http://localhost')
    if (req.method === 'POST' && url.pathname === '/api/chat') {
      const { id: chatId, messages } = await body(req)
      const run = await chats.start({
        produce: async (out, signal) => {
          try {
            const prompt = messages
              .map((m) => m.parts.map((p) => (p.type === 'text' ? p.text : '')))
              .join('\n')
            const result = streamText({ model: mock, prompt, abortSignal: signal })
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
    if (!id) {
      res.statusCode = 204
      return void res.end()
    }
    void openNodeStream(req, res, { durable: chats.get(id) })
  })
  servers.add(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { base, calls }
}

async function drain(stream: ReadableStream<UIMessageChunk>, stopAfter = Number.POSITIVE_INFINITY) {
  const chunks: UIMessageChunk[] = []
  const reader = stream.getReader()
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    chunks.push(next.value)
    if (chunks.length >= stopAfter) break
  }
  return chunks
}

const text = (chunks: UIMessageChunk[]) =>
  chunks.map((c) => (c.type === 'text-delta' ? c.delta : '')).join('')

describe('durable streams with the Vercel AI SDK (ai 7)', () => {
  it("the SDK's chat transport reads the answer, and after a cut its reconnect replays the same answer in full; the model runs once", async () => {
    const { base, calls } = await chatServer()
    const transport = new DefaultChatTransport({ api: `${base}/api/chat` })
    const cut = new AbortController()
    const messages: UIMessage[] = [
      { id: 'm1', role: 'user', parts: [{ type: 'text', text: 'hi' }] },
    ]
    const first = await transport.sendMessages({
      chatId: 'chat-1',
      messages,
      trigger: 'submit-message',
      messageId: undefined,
      abortSignal: cut.signal,
    })
    const before = await drain(first, 8)
    cut.abort()
    expect(text(before).length).toBeGreaterThan(0)
    const resumed = await transport.reconnectToStream({ chatId: 'chat-1' })
    expect(resumed).not.toBeNull()
    const replay = await drain(resumed!)
    expect(text(replay)).toBe(WORDS.join(''))
    expect(replay.at(0)?.type).toBe('start')
    expect(replay.at(-1)?.type).toBe('finish')
    // The answer is over and the app cleared it: the SDK is told there is nothing to resume.
    expect(await transport.reconnectToStream({ chatId: 'chat-1' })).toBeNull()
    expect(calls()).toBe(1)
  })
})
