import { describe, expect, it } from 'vitest'
import { MAX_CURSOR_LENGTH, readCursor } from '../src/cursor'

describe('readCursor (C19)', () => {
  it('reads the header', () => {
    expect(readCursor('abc-1', '/events')).toEqual({ id: 'abc-1', invalid: false })
  })

  it('falls back to the query parameter, and the header wins', () => {
    expect(readCursor(undefined, '/events?lastEventId=q-2')).toEqual({ id: 'q-2', invalid: false })
    expect(readCursor('h-1', '/events?lastEventId=q-2').id).toBe('h-1')
    expect(readCursor(null, '/events?cursor=c-3', 'cursor').id).toBe('c-3')
    expect(readCursor(null, '/events?lastEventId=q-2', false).id).toBeUndefined()
  })

  it('treats absent and empty values as no cursor', () => {
    expect(readCursor(undefined, '/events')).toEqual({ id: undefined, invalid: false })
    expect(readCursor('', '/events?lastEventId=')).toEqual({ id: undefined, invalid: false })
  })

  it('reports over-long and non-ASCII values as invalid instead of throwing', () => {
    expect(readCursor('x'.repeat(MAX_CURSOR_LENGTH), undefined).invalid).toBe(false)
    expect(readCursor('x'.repeat(MAX_CURSOR_LENGTH + 1), undefined)).toEqual({
      id: undefined,
      invalid: true,
    })
    for (const bad of ['é', 'a\nb', 'a\0b', '\u{1F600}', '\x7f']) {
      expect(readCursor(bad, undefined).invalid).toBe(true)
    }
    expect(readCursor(undefined, '/e?lastEventId=%FF%FE').invalid).toBe(true)
  })
})
