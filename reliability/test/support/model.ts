import type { EventFields } from '@sse/core'
// Not exported: how the encoder turns data into text, which the model must agree with.
import { serializeData } from '@sse/core/encoder'
import { createParser, type ParseError } from 'eventsource-parser'
import fc from 'fast-check'

/** What a client's parser reports, in stream order. */
export type Item =
  | { type: 'comment'; text: string }
  | { type: 'retry'; ms: number }
  | { type: 'event'; event: string | undefined; id: string | undefined; data: string }

const LINE_BREAK = /\r\n|\r|\n/

/**
 * Text as it arrives at a client: UTF-8 on the wire (a lone surrogate becomes U+FFFD), then the
 * SSE spec's line normalisation (CRLF and lone CR become LF).
 */
export function onTheWire(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8').replace(/\r\n?/g, '\n')
}

/**
 * What eventsource-parser must report for one event given to `encodeEvent`: its comment lines,
 * its retry, and the event itself when it has data or a name (an event with neither only sets
 * the id, which eventsource-parser, like a browser, does not report on its own).
 */
export function expectedItems(fields: EventFields, serialize = JSON.stringify): Item[] {
  const items: Item[] = []
  if (fields.comment !== undefined) {
    for (const line of fields.comment.split(LINE_BREAK)) {
      items.push({ type: 'comment', text: onTheWire(line) })
    }
  }
  if (fields.retry !== undefined) items.push({ type: 'retry', ms: fields.retry })
  const event = fields.event === undefined || fields.event === '' ? undefined : fields.event
  if (fields.data !== undefined || event !== undefined) {
    const data = fields.data === undefined ? '' : serializeData(fields.data, serialize)
    items.push({
      type: 'event',
      event: event === undefined ? undefined : onTheWire(event),
      id: fields.id === undefined ? undefined : onTheWire(String(fields.id)),
      data: onTheWire(data),
    })
  }
  return items
}

/**
 * A client-side reader: bytes in (split anywhere, even inside a UTF-8 sequence), decoded as a
 * browser does, parsed by eventsource-parser. Any parse error (an unknown field, a bad retry) is
 * kept: text that the encoder wrote must never produce one.
 */
export class WireReader {
  readonly items: Item[] = []
  readonly errors: ParseError[] = []
  readonly #decoder = new TextDecoder()
  readonly #parser = createParser({
    onEvent: (e) => this.items.push({ type: 'event', event: e.event, id: e.id, data: e.data }),
    onComment: (text) => this.items.push({ type: 'comment', text }),
    onRetry: (ms) => this.items.push({ type: 'retry', ms }),
    onError: (error) => this.errors.push(error),
  })

  push(bytes: Uint8Array): void {
    this.#parser.feed(this.#decoder.decode(bytes, { stream: true }))
  }
}

// Characters that matter to SSE framing or to UTF-8, then anything at all.
const SPECIAL = [
  '\r',
  '\n',
  '\r\n',
  '\n\n',
  '\0',
  ':',
  ' ',
  '\uFEFF',
  '\uD800',
  '\uDFFF',
  '\u2028',
  '\u0085',
  'data:',
  'id:',
  'event:',
  'retry:',
]
const codePoint = fc
  .integer({ min: 0, max: 0x10ffff })
  .map((cp) => (cp >= 0xd800 && cp <= 0xdfff ? String.fromCharCode(cp) : String.fromCodePoint(cp)))
const unit = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...SPECIAL) },
  { weight: 3, arbitrary: codePoint },
  { weight: 5, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
)

/** Any text, biased towards line breaks, NUL, BOM, lone surrogates and field names. */
export const anyText = fc.string({ unit, maxLength: 24 })
/** Text without CR or LF (an event name). */
export const lineText = anyText.map((s) => s.replace(/[\r\n]/g, ''))
/** Text without CR, LF or NUL (an id). */
export const idText = anyText.map((s) => s.replace(/[\r\n\0]/g, ''))

/** Every event `encodeEvent` accepts (at least one field that produces output). */
export const validFields: fc.Arbitrary<EventFields> = fc
  .record(
    {
      data: fc.oneof(anyText, fc.jsonValue({ maxDepth: 2 })),
      event: lineText,
      id: fc.oneof(idText, fc.maxSafeNat()),
      retry: fc.maxSafeNat(),
      comment: anyText,
    },
    { requiredKeys: [] },
  )
  .filter(
    (f) =>
      f.data !== undefined ||
      (f.event !== undefined && f.event !== '') ||
      f.id !== undefined ||
      f.retry !== undefined ||
      f.comment !== undefined,
  )

// Lines an attacker would try to smuggle into a field.
const PAYLOADS = [
  '\n\ndata: injected\n\n',
  '\r\rdata: injected\r\r',
  '\r\n\r\nevent: evil\r\ndata: x\r\n\r\n',
  '\nid: 666',
  '\rretry: 1',
  '\nevent: evil',
  '\n: comment\n',
  '\ndata:',
  '\n\n',
  '\r',
  '\0',
  '\nid: a\0b\n',
  'retry: 99999\n\n',
]

/** Text built from injection payloads and random text. */
export const hostileText = fc
  .array(fc.oneof(fc.constantFrom(...PAYLOADS), anyText), { minLength: 1, maxLength: 4 })
  .map((parts) => parts.join(''))
