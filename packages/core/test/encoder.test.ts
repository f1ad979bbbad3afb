import { describe, expect, it } from 'vitest'
import { encodeComment, encodeEvent } from '../src/encoder'

describe('encodeEvent', () => {
  it('writes fields in a fixed order and ends with a blank line', () => {
    expect(encodeEvent({ event: 'tick', id: '7', retry: 10, data: { n: 1 } })).toBe(
      'event: tick\nid: 7\nretry: 10\ndata: {"n":1}\n\n',
    )
  })

  it('splits data on CRLF, CR and LF, one data line each (C07)', () => {
    expect(encodeEvent({ data: 'a\r\nb\rc\nd' })).toBe('data: a\ndata: b\ndata: c\ndata: d\n\n')
    expect(encodeEvent({ data: 'a\n\nb\n' })).toBe('data: a\ndata:\ndata: b\ndata:\n\n')
  })

  it('sends empty data as one bare data line, and keeps NUL (C07)', () => {
    expect(encodeEvent({ data: '' })).toBe('data:\n\n')
    expect(encodeEvent({ data: 'a\0b' })).toBe('data: a\0b\n\n')
  })

  it('gives a named event without data an empty data line so browsers dispatch it', () => {
    expect(encodeEvent({ event: 'ping' })).toBe('event: ping\ndata:\n\n')
  })

  it('omits an empty event name (C08)', () => {
    expect(encodeEvent({ event: '', data: 'x' })).toBe('data: x\n\n')
  })

  it('keeps a leading space by always writing one separator space (C12)', () => {
    expect(encodeEvent({ data: ' x', event: ' e', id: ' 1' })).toBe(
      'event:  e\nid:  1\ndata:  x\n\n',
    )
  })

  it('rejects event names with CR or LF, naming the field (C08)', () => {
    expect(() => encodeEvent({ event: 'a\nb', data: 1 })).toThrow(TypeError)
    expect(() => encodeEvent({ event: 'a\rb', data: 1 })).toThrow(/"event"/)
    expect(() => encodeEvent({ event: 3 as unknown as string })).toThrow(/"event"/)
  })

  it('rejects ids with CR, LF or NUL and bad numbers, naming the field (C08)', () => {
    for (const id of ['a\nb', 'a\rb', 'a\0b', -1, 1.5, Number.NaN, 2 ** 60]) {
      expect(() => encodeEvent({ id, data: 1 })).toThrow(/"id"/)
    }
    expect(encodeEvent({ id: 42, data: 1 })).toBe('id: 42\ndata: 1\n\n')
    expect(encodeEvent({ id: '' })).toBe('id:\n\n')
  })

  it('accepts only non-negative integers as retry (C09)', () => {
    for (const retry of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '100']) {
      expect(() => encodeEvent({ retry: retry as number })).toThrow(/"retry"/)
    }
    expect(encodeEvent({ retry: 0 })).toBe('retry: 0\n\n')
  })

  it('serializes non-string data with the configured serializer', () => {
    expect(encodeEvent({ data: [1, 'a'] })).toBe('data: [1,"a"]\n\n')
    expect(encodeEvent({ data: null })).toBe('data: null\n\n')
    expect(encodeEvent({ data: { a: 1 } }, { serialize: () => 'x\ny' })).toBe(
      'data: x\ndata: y\n\n',
    )
  })

  it('names the data field when serialization fails', () => {
    expect(() => encodeEvent({ data: 1n })).toThrow(/"data".*could not be serialized/)
    expect(() => encodeEvent({ data: () => 1 })).toThrow(/"data".*undefined/)
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(() => encodeEvent({ data: cyclic })).toThrow(TypeError)
  })

  it('rejects an event with nothing to send', () => {
    expect(() => encodeEvent({})).toThrow(TypeError)
    expect(() => encodeEvent(null as unknown as object)).toThrow(TypeError)
  })

  it('puts comments first, one line per comment line (C10)', () => {
    expect(encodeEvent({ comment: 'a\nb', data: 'x' })).toBe(': a\n: b\ndata: x\n\n')
  })
})

describe('encodeComment', () => {
  it('writes comment lines and a blank line (C10)', () => {
    expect(encodeComment('hi')).toBe(': hi\n\n')
    expect(encodeComment('a\r\nb')).toBe(': a\n: b\n\n')
    expect(encodeComment('')).toBe(':\n\n')
  })

  it('names the comment field on bad input', () => {
    expect(() => encodeComment(1 as unknown as string)).toThrow(/"comment"/)
  })
})
