// The spec's parsing rules as cases that run the same in Node (parsing.test.ts) and in Chromium
// (browser-parsing.test.ts): the bytes a server writes, and what the client must make of them.
import { expect } from 'vitest'

/** What one case's client read, wherever it ran. */
export interface CaseResult {
  events: { event: string; data: unknown; id: string | undefined }[]
  /** The client's `lastEventId` once the stream ended. */
  lastEventId: string | undefined
  /** The `Last-Event-ID` of the reconnect (the server answers it 204). */
  resumedWith: string | undefined
  /** From connecting to the end of the stream. */
  ms: number
}

export interface ParsingCase {
  name: string
  /** The first response's body, written chunk by chunk with a 10 ms pause between chunks. */
  chunks: (string | number[])[]
  /** Reconnect delays (both 20 ms unless given). */
  delay?: number
  check(result: CaseResult): void
}

export const parsingCases: ParsingCase[] = [
  {
    name: 'drops a UTF-8 BOM at the start, also split across chunks',
    chunks: [[0xef, 0xbb], [0xbf], 'data: x\n\n'],
    check: ({ events }) => expect(events).toEqual([{ event: 'message', data: 'x', id: undefined }]),
  },
  {
    name: 'reads a CRLF split across chunks as one line end',
    chunks: ['event: a\r\ndata: 1\r', '\n\r', '\ndata: 2\r\n\r\n'],
    check: ({ events }) =>
      expect(events.map((e) => [e.event, e.data])).toEqual([
        ['a', '1'],
        ['message', '2'],
      ]),
  },
  {
    name: 'reads CR alone and LF alone as line ends',
    chunks: ['data: 1\rdata: 2\r\rdata: 3\n\n'],
    check: ({ events }) => expect(events.map((e) => e.data)).toEqual(['1\n2', '3']),
  },
  {
    name: 'ignores an id containing NULL and keeps the last good one for the reconnect',
    chunks: ['id: 5\ndata: a\n\nid: 6\0x\ndata: b\n\n'],
    check: ({ events, lastEventId, resumedWith }) => {
      expect(events.map((e) => [e.data, e.id])).toEqual([
        ['a', '5'],
        ['b', undefined],
      ])
      expect(lastEventId).toBe('5')
      expect(resumedWith).toBe('5')
    },
  },
  {
    name: 'ignores a retry that is not all digits (C33: a valid retry: is honoured)',
    chunks: ['retry: 30\n\nretry: 5000ms\n\nretry: -1\n\ndata: a\n\n'],
    // Without the server's 30 ms, the reconnect would wait 5 s.
    delay: 5000,
    check: ({ events, ms }) => {
      expect(events).toHaveLength(1)
      expect(ms).toBeLessThan(2000)
    },
  },
  {
    name: 'drops a final event not ended by a blank line',
    chunks: ['data: whole\n\ndata: cut'],
    check: ({ events }) => expect(events.map((e) => e.data)).toEqual(['whole']),
  },
  {
    name: 'ignores comments and unknown fields; joins data lines with LF; keeps empty data',
    chunks: [': hello\n\nfoo: bar\ndata: a\ndata:  b\n\n: bye\ndata:\n\n'],
    check: ({ events }) => expect(events.map((e) => e.data)).toEqual(['a\n b', '']),
  },
  {
    name: 'decodes UTF-8 split inside a character across chunks',
    // "é" is 0xc3 0xa9 and "€" is 0xe2 0x82 0xac: each cut in the middle.
    chunks: [
      [0x64, 0x61, 0x74, 0x61, 0x3a, 0x20, 0xc3],
      [0xa9, 0xe2, 0x82],
      [0xac, 0x0a, 0x0a],
    ],
    check: ({ events }) => expect(events.map((e) => e.data)).toEqual(['é€']),
  },
]
