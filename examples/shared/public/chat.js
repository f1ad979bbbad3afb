// The chat: a durable answer read with @sse/client (bundled into vendor/ by `pnpm build`). The
// answer runs on the server whether or not the page reads it; the page keeps where to resume
// and what it has read in sessionStorage, so a reload continues the same answer instead of
// asking again.
import { connect } from './vendor/sse-client.js'

const $ = (id) => document.getElementById(id)
const KEY = 'sse-demo:chat'

/** @type {{ stream: any, state: ChatState, done: boolean } | undefined} */
let current

/**
 * @typedef {object} ChatState
 * @property {string} prompt
 * @property {string} [location] where the answer resumes (SSE-Resume), absolute
 * @property {string} [lastEventId] the id of the last token read
 * @property {string} text the answer read so far
 */

function saved() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) ?? 'null')
  } catch {
    return null
  }
}

// Text and id are saved together, in one synchronous step per token: a reload can only land
// between tokens, so the saved text always ends at the saved id.
function save(state) {
  if (state.location) sessionStorage.setItem(KEY, JSON.stringify(state))
}

function forget() {
  sessionStorage.removeItem(KEY)
}

// The client follows SSE-Resume by itself but does not expose it: this fetch reads it (and a
// refusal's JSON error) on the way, for the next page load.
function remembering(state) {
  return async (url, init) => {
    const response = await fetch(url, init)
    const location = response.headers.get('SSE-Resume')
    if (location) {
      state.location = new URL(location, response.url).href
      save(state)
    } else if (!response.ok) {
      state.error = await response
        .clone()
        .json()
        .then((body) => body.error)
        .catch(() => undefined)
    }
    return response
  }
}

// The reasons of a durable stream's `error` event, for people.
const REASONS = {
  cancelled: 'cancelled',
  failed: 'the model failed',
  'producer-lost': 'the server that was writing it went away; ask again',
}

function stopped(reason) {
  return `stopped (${reason}): ${REASONS[reason] ?? 'unknown reason'}`
}

function randomKey() {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) =>
    byte.toString(16).padStart(2, '0'),
  ).join('')
}

async function read(stream, state) {
  const run = { stream, state, done: false }
  current = run
  const answer = $('chat-answer')
  const meta = $('chat-meta')
  answer.textContent = state.text
  meta.textContent = 'streaming...'
  $('chat-cancel').hidden = false
  for await (const { event, data, id } of stream) {
    if (event === 'token') {
      state.text += data
      state.lastEventId = id
      save(state)
      answer.textContent = state.text
    } else if (event === 'done' || event === 'error') {
      run.done = true
      meta.textContent = event === 'done' ? `${data.tokens} tokens` : stopped(data.reason)
      break // the answer is complete: leaving the loop closes the stream
    }
  }
  const reason = await stream.closed
  if (current !== run) return // a newer question took over
  $('chat-cancel').hidden = true
  if (!run.done && reason.type !== 'aborted') {
    meta.textContent =
      reason.type === 'status' && reason.status === 404
        ? 'this answer is no longer kept by the server'
        : `failed: ${state.error ?? reason.type}`
  }
  forget()
}

function ask(prompt) {
  stopCurrent()
  const state = { prompt, text: '' }
  const stream = connect('/chat', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': randomKey() },
    body: JSON.stringify({ prompt }),
    raw: ['token'],
    fetch: remembering(state),
  })
  void read(stream, state)
}

// A new question replaces the running answer: stop reading it, and stop its producer too.
function stopCurrent() {
  if (!current || current.done) return
  const { stream, state } = current
  current = undefined
  stream.close()
  if (state.location) void fetch(state.location, { method: 'DELETE' }).catch(() => {})
}

$('chat-form').addEventListener('submit', (event) => {
  event.preventDefault()
  ask($('chat-prompt').value)
})

// The server ends the stream with `error` (reason `cancelled`), which the reader shows.
$('chat-cancel').addEventListener('click', () => {
  const location = current?.state.location
  if (location) void fetch(location, { method: 'DELETE' }).catch(() => {})
})

// A reload in the middle of an answer: resume it with GET where it was left, never POST again.
const resumed = saved()
if (resumed?.location) {
  $('chat-prompt').value = resumed.prompt
  const stream = connect(resumed.location, {
    lastEventId: resumed.lastEventId,
    raw: ['token'],
    fetch: remembering(resumed),
  })
  void read(stream, resumed)
}
