import { describe, expect, it } from 'vitest'
import { asParsed, framingProblems, SseReader } from '../src/index'

describe('framingProblems', () => {
  it('accepts whole events, comments before fields and heartbeats between events', () => {
    expect(framingProblems('retry: 10\n\n: c\ndata: a\n\n:\n\nevent: x\ndata:\n\n')).toEqual([])
  })

  it('finds a heartbeat inside an event, a CR, and a missing blank line', () => {
    expect(framingProblems('data: a\n:\n\ndata: b\n\n')).toEqual([
      'line 2: a comment inside an event (:)',
    ])
    expect(framingProblems('data: a\r\n\r\n')).toContain(
      'the stream contains a CR: lines must end with LF only',
    )
    expect(framingProblems('data: a\n')).toEqual(['the stream does not end with a blank line'])
    expect(framingProblems('data: a\n', false)).toEqual([])
  })
})

describe('asParsed', () => {
  it('normalises line breaks and lone surrogates the way a client sees them', () => {
    expect(asParsed('a\r\nb\rc\nd')).toBe('a\nb\nc\nd')
    expect(asParsed('x\uD800y\uDC00\uD83D\uDE00')).toBe('x\uFFFDy\uFFFD😀')
  })
})

describe('SseReader', () => {
  it('decodes UTF-8 split across chunks and parses with eventsource-parser', async () => {
    const reader = new SseReader()
    const bytes = Buffer.from('event: é\ndata: 😀\n\n: hi\n\nretry: 5\n\n')
    for (const byte of bytes) reader.push(Buffer.from([byte]))
    const [event] = await reader.waitForEvents(1)
    expect(event).toMatchObject({ event: 'é', data: '😀', seq: 0 })
    expect(reader.comments).toMatchObject([{ text: 'hi', seq: 1 }])
    expect(reader.retries).toEqual([5])
    expect(reader.bytes().equals(bytes)).toBe(true)
  })

  it('fails a wait with what it waited for', async () => {
    const reader = new SseReader()
    await expect(reader.waitForEvents(1, { timeout: 20 })).rejects.toThrow('1 events (got 0)')
  })
})
