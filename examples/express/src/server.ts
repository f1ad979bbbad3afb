import * as demo from '@sse/example-shared'
import { closeStreams } from '@sse/express'
import express from 'express'
import { demoRoutes, jsonErrors } from './routes.ts'

const { hub, chats, close } = demo.createDemoHub()
const app = express().use(demoRoutes(hub, chats)).use(jsonErrors)

const server = app.listen(demo.settings.port, demo.settings.host, () => demo.logListening(server))

// Ctrl+C: stop the ticks and end every open stream, /events and /chat alike (pages reconnect and
// resume once the server is back), then close.
demo.onShutdown(async () => {
  await Promise.all([close(), closeStreams({ server, grace: demo.shutdownGrace })])
  server.close()
})
