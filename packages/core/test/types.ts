// Type tests, checked by `tsc` (the package's typecheck): each `@ts-expect-error` must stay an
// error, and everything else must compile.
import { createHub, type Hub, type SseStream } from '../src/index'

/** An event map written as an interface (TS2344 with a `Record<string, unknown>` constraint). */
interface Events {
  tick: { n: number }
  ping: undefined
  maybe: string | undefined
}

declare const stream: SseStream<Events>
const hub = createHub<Events>()

// A typed stream and hub are still a stream and a hub, for code that takes any.
export const untypedStream: SseStream = stream
export const untypedHub: Hub = hub

stream.send('tick', { n: 1 })
stream.send('ping') // data may be left out when its type allows undefined
stream.send('maybe')
stream.send({ event: 'tick', data: { n: 2 }, id: '7' })
// @ts-expect-error a wrong payload
stream.send('tick', { n: 'one' })
// @ts-expect-error an event the map does not declare
stream.send('tock', { n: 1 })
// @ts-expect-error data is required when its type does not allow undefined
stream.send('tick')

void hub.publish('ping')
void hub.publish('tick', { n: 1 }, { topic: 'clock' })
// @ts-expect-error a wrong payload
void hub.publish('tick', { n: 'one' })

// pipe() items, errorMessage and farewell are typed by the map.
async function* ticks() {
  yield 1
}
void stream.pipe(ticks(), { map: (n) => ({ event: 'tick', data: { n } }) })
// @ts-expect-error map returns an event the map does not declare
void stream.pipe(ticks(), { map: (n) => ({ event: 'tock', data: { n } }) })
void stream.pipe(ticks(), {
  map: String,
  // @ts-expect-error errorMessage returns a wrong payload
  errorMessage: () => ({ event: 'tick', data: 'broken' }),
})
void hub.shutdown({ farewell: { event: 'tick', data: { n: 0 } } })
// @ts-expect-error a farewell with a wrong payload
void hub.shutdown({ farewell: { event: 'tick', data: 'bye' } })
