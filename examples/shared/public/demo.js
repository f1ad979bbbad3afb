// The demo page of every example: plain browser APIs, no build step.
const $ = (id) => document.getElementById(id)
const MAX_BARS = 60
const MAX_NOTIFICATIONS = 50

const view = { opens: 0, lastId: undefined, ticks: [], baseline: Number.POSITIVE_INFINITY }

function showState(state) {
  $('state').textContent = state
  $('state').dataset.state = state
}

function remember(event) {
  if (!event.lastEventId) return
  view.lastId = event.lastEventId
  $('last-id').textContent = event.lastEventId
}

// The browser's EventSource reconnects by itself after the stream ends or the server goes away,
// sending the last id it saw as Last-Event-ID: the server replays what the page missed.
function connect(url) {
  const source = new EventSource(url)
  source.addEventListener('open', () => {
    view.opens++
    $('reconnects').textContent = String(Math.max(0, view.opens - 1))
    showState('open')
  })
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CONNECTING) {
      showState('reconnecting')
      return
    }
    // Closed for good (the server answered with an error status): start again by hand, with
    // the last id in the query since a new EventSource cannot set Last-Event-ID.
    showState('closed')
    const query = view.lastId ? `?lastEventId=${encodeURIComponent(view.lastId)}` : ''
    setTimeout(() => connect(`/events${query}`), 5000)
  })
  source.addEventListener('tick', (event) => {
    remember(event)
    const { n, time } = JSON.parse(event.data)
    addTick(n, Date.now() - Date.parse(time))
  })
  source.addEventListener('notification', (event) => {
    remember(event)
    const { text, time } = JSON.parse(event.data)
    addNotification(text, time, event.lastEventId)
  })
  source.addEventListener('history-lost', (event) => {
    const { lastEventId } = JSON.parse(event.data)
    const lost = $('lost')
    lost.textContent =
      `History lost at ${new Date().toLocaleTimeString()}: the server no longer has the ` +
      `events after ${lastEventId ?? 'our last id'} (it restarted, or they expired), so some ` +
      'may be missing. Newer events continue below.'
    lost.hidden = false
  })
}

function addTick(n, delay) {
  // The smallest delay seen stands for the clock difference between server and browser.
  view.baseline = Math.min(view.baseline, delay)
  view.ticks.push({ n, late: delay - view.baseline })
  if (view.ticks.length > MAX_BARS) view.ticks.shift()
  $('tick-count').textContent = `n = ${n}`
  drawChart()
}

function drawChart() {
  const canvas = $('chart')
  const scale = window.devicePixelRatio || 1
  const width = canvas.clientWidth
  const height = canvas.clientHeight
  canvas.width = width * scale
  canvas.height = height * scale
  const g = canvas.getContext('2d')
  g.scale(scale, scale)
  g.clearRect(0, 0, width, height)
  const top = Math.max(1000, ...view.ticks.map((tick) => tick.late))
  const slot = width / MAX_BARS
  g.font = '11px system-ui, sans-serif'
  view.ticks.forEach((tick, i) => {
    const bar = Math.max(2, (tick.late / top) * (height - 18))
    g.fillStyle = tick.late > 250 ? '#d97706' : '#2563eb'
    g.fillRect(i * slot + 1, height - bar, slot - 2, bar)
  })
  g.fillStyle = '#6b7280'
  g.fillText(`${Math.round(top)} ms`, 2, 11)
}

function addNotification(text, time, id) {
  const item = document.createElement('li')
  const body = document.createElement('span')
  body.textContent = text
  const meta = document.createElement('small')
  meta.textContent = `${new Date(time).toLocaleTimeString()} · id ${id}`
  item.append(body, meta)
  const list = $('notifications')
  list.prepend(item)
  while (list.children.length > MAX_NOTIFICATIONS) list.lastElementChild.remove()
}

$('notify-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  const input = $('notify-text')
  const error = $('notify-error')
  const response = await fetch('/notify', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: input.value }),
  }).catch(() => undefined)
  error.hidden = response?.status === 202
  if (error.hidden) input.value = ''
  else error.textContent = (await readError(response)) ?? 'the server could not be reached'
})

async function readError(response) {
  const body = await response?.json().catch(() => undefined)
  return body?.error ?? (response && `HTTP ${response.status}`)
}

// A minimal text/event-stream parser for fetch: EventSource cannot send a POST body.
function sseParser(onEvent) {
  let buffer = ''
  let type = ''
  let data = []
  return (chunk) => {
    buffer += chunk
    const lines = buffer.split(/\r\n|\r|\n/)
    buffer = lines.pop()
    for (const line of lines) {
      if (line === '') {
        if (data.length > 0) onEvent(type || 'message', data.join('\n'))
        type = ''
        data = []
        continue
      }
      const colon = line.indexOf(':')
      const field = colon === -1 ? line : line.slice(0, colon)
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '')
      if (field === 'event') type = value
      else if (field === 'data') data.push(value)
    }
  }
}

let asking
$('chat-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  asking?.abort()
  asking = new AbortController()
  const answer = $('chat-answer')
  const meta = $('chat-meta')
  answer.textContent = ''
  meta.textContent = 'streaming...'
  try {
    const response = await fetch('/chat', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ prompt: $('chat-prompt').value }),
      signal: asking.signal,
    })
    if (!response.ok) {
      meta.textContent = await readError(response)
      return
    }
    const feed = sseParser((type, data) => {
      if (type === 'token') answer.textContent += data
      if (type === 'done') meta.textContent = `${JSON.parse(data).tokens} tokens`
    })
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
    for (let read = await reader.read(); !read.done; read = await reader.read()) feed(read.value)
  } catch (error) {
    if (error.name !== 'AbortError') meta.textContent = `failed: ${error.message}`
  }
})

window.addEventListener('resize', drawChart)
connect('/events')
