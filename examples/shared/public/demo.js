// The demo page of every example. The event stream uses the browser's own EventSource; the chat
// (chat.js) reads its durable answers with @sse/client.
import './chat.js'

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
let source
let retryTimer

function connect(url) {
  source = new EventSource(url)
  const own = source
  source.addEventListener('open', () => {
    view.opens++
    $('reconnects').textContent = String(Math.max(0, view.opens - 1))
    showState('open')
  })
  source.addEventListener('error', () => {
    if (own.readyState === EventSource.CONNECTING) {
      showState('reconnecting')
      return
    }
    // Closed for good (the server answered with an error status): start again by hand.
    showState('closed')
    retryTimer = setTimeout(() => connect(resumeUrl()), 5000)
  })
  // The first frame of a hub stream: the cursor of an empty page, so Stop keeps one even
  // before the first tick.
  source.addEventListener('sse-cursor', remember)
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
  $('stop').disabled = false
  $('start').disabled = true
  $('stopped').hidden = true
}

// A new EventSource cannot set Last-Event-ID: the cursor goes in the query instead.
function resumeUrl() {
  return view.lastId ? `/events?lastEventId=${encodeURIComponent(view.lastId)}` : '/events'
}

// Stop closes the stream and keeps its cursor; Start resumes from it, so the events published
// meanwhile arrive then, each once.
$('stop').addEventListener('click', () => {
  source.close()
  clearTimeout(retryTimer)
  showState('stopped')
  $('stop').disabled = true
  $('start').disabled = false
  $('cursor-kept').textContent = view.lastId ?? 'none yet'
  $('stopped').hidden = false
})
$('start').addEventListener('click', () => connect(resumeUrl()))

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

window.addEventListener('resize', drawChart)
connect('/events')
