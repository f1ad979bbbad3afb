import * as demo from '@sse/example-shared'
import express from 'express'
import { demoRoutes, jsonErrors } from './routes.ts'

const { hub, close } = demo.createDemoHub()
const app = express().use(demoRoutes(hub)).use(jsonErrors)

const server = app.listen(demo.settings.port, demo.settings.host, () => demo.logListening(server))

// Ctrl+C: end the open streams (pages reconnect and resume once the server is back), then close.
demo.onShutdown(async () => {
  await close()
  server.close()
})
