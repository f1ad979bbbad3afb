import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { DefaultChatTransport, type UIMessage, type UIMessageChunk } from 'ai'
import { afterEach, describe, expect, it } from 'vitest'
import { aiChatRoutes, testModel, WORDS } from './ai-chat'

// The Vercel AI SDK (the real `ai` package, its test model: no network, no real model) streams
// a chat answer as its UI message stream through a durable stream; its own chat transport
// reads it, and resumes it with its reconnect call after the reader was cut.

const servers = new Set<Server>()
afterEach(async () => {
  for (const server of servers) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
  servers.clear()
})

/** The AI SDK guide's chat routes on durable streams, served on port 0. */
async function chatServer() {
  const { mock, runs: calls } = testModel(5)
  const server = createServer(aiChatRoutes(mock).listener)
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
