import { MockLanguageModelV4, simulateReadableStream } from 'ai/test'

/** The answer the test model streams: 40 words, `w0 ` to `w39 `. */
export const WORDS = Array.from({ length: 40 }, (_, i) => `w${i} `)

/**
 * The `ai` package's own test model (no network, no real model), streaming {@link WORDS} one
 * every `everyMs`, and counting how many times it ran. Shared with @sse/react's useChat test.
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
