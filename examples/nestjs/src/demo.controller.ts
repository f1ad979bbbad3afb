import {
  BadRequestException,
  Body,
  Controller,
  HttpCode,
  Inject,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common'
import type { SseStream } from '@sse/core'
import { openNodeStream } from '@sse/core/node'
import * as demo from '@sse/example-shared'
import { SseHub, SseRoute } from '@sse/nestjs'
import type { Request, Response } from 'express'

function requirePrompt(value: unknown): string {
  const prompt = demo.promptOf(value)
  if (prompt === undefined) throw new BadRequestException(demo.missingPrompt)
  return prompt
}

@Controller()
export class DemoController {
  constructor(@Inject(SseHub) private readonly hub: SseHub<demo.Events>) {}

  /** Ticks and notifications; a page that reconnects gets what it missed, then live events. */
  @SseRoute('events', { maxLifetime: demo.settings.streamLifetimeMs })
  events() {
    return this.hub.subscribe()
  }

  @Post('notify')
  @HttpCode(202)
  async notify(@Body() body: unknown) {
    const text = demo.textOf(body)
    if (text === undefined) throw new BadRequestException(demo.invalidText)
    return { id: await this.hub.publish('notification', { text, time: new Date().toISOString() }) }
  }

  /** A stream of its own, outside the hub: it ends once the answer is done. */
  @SseRoute('chat')
  chat(@Query('prompt') value: unknown) {
    const prompt = requirePrompt(value)
    return (session: SseStream<demo.ChatEvents>) => session.pipe(demo.answer(prompt))
  }

  // @SseRoute() routes answer GET; the POST form opens its stream on the raw response.
  @Post('chat')
  async chatPost(
    @Body() body: { prompt?: unknown } | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ) {
    const prompt = requirePrompt(body?.prompt)
    const session = await openNodeStream<demo.ChatEvents>(req, res)
    await session.pipe(demo.answer(prompt))
  }
}
