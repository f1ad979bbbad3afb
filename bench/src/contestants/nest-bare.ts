// A reference, not a contestant: NestJS (Express platform) alone holding an idle event stream
// from a @Res() handler with no SSE library, so the memory report can tell what Nest costs per
// connection from what @sse/nestjs adds.
import 'reflect-metadata'
import type { ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Controller, Get, Module, Res } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import type { StartContestant } from '../protocol.ts'
import { HEAD_FIELDS, holdOpen } from './bare.ts'

const streams = new Set<ServerResponse>()

@Controller()
class EventsController {
  @Get('events')
  events(@Res() res: ServerResponse) {
    holdOpen(streams, res.writeHead(200, HEAD_FIELDS))
  }
}

@Module({ controllers: [EventsController] })
class AppModule {}

const start: StartContestant = async () => {
  const app = await NestFactory.create(AppModule, { logger: false })
  await app.listen(0, '127.0.0.1')
  const frame = (data: object) => `data: ${JSON.stringify(data)}\n\n`
  return {
    port: (app.getHttpServer().address() as AddressInfo).port,
    publish: (data) => {
      for (const res of streams) res.write(frame(data))
    },
    close: () => app.close(),
  }
}
export default start
