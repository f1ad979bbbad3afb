import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  Req,
  Res,
} from '@nestjs/common'
import { openNodeStream } from '@sse/core/node'
import * as demo from '@sse/example-shared'
import { SseHub, SseRoute } from '@sse/nestjs'
import type { Request, Response } from 'express'
import { CHATS } from './chats'

@Controller()
export class DemoController {
  constructor(
    @Inject(SseHub) private readonly hub: SseHub<demo.Events>,
    @Inject(CHATS) private readonly chats: demo.DemoChats,
  ) {}

  /** Ticks and notifications; a page that reconnects gets what it missed, then live events. */
  @SseRoute<demo.Events>('events', { maxLifetime: demo.settings.streamLifetimeMs })
  events() {
    return this.hub.subscribe()
  }

  @Post('notify')
  @HttpCode(202)
  async notify(@Body() body: unknown) {
    const text = demo.textOf(body)
    if (text === undefined) throw new BadRequestException(demo.invalidText)
    await this.hub.publish('notification', { text, time: new Date().toISOString() })
    return { ok: true }
  }

  /**
   * Starts the answer as a durable stream and opens this response on it; the stream's head names
   * where to resume (`SSE-Resume`). A missing prompt is a 400 before anything runs.
   */
  @Post('chat')
  async chat(@Body() body: unknown, @Req() req: Request, @Res() res: Response) {
    const prompt = demo.promptOf(body)
    if (prompt === undefined) throw new BadRequestException(demo.missingPrompt)
    const run = await demo.startChat(this.chats, prompt, req.get('idempotency-key'))
    await openNodeStream(req, res, { durable: run })
  }

  /** Reads an answer again: what the client missed after its `Last-Event-ID`, then live. */
  @Get('chat/:id')
  async resume(@Param('id') id: string, @Req() req: Request, @Res() res: Response) {
    await openNodeStream(req, res, { durable: this.chats.chats.get(id) })
  }

  @Delete('chat/:id')
  @HttpCode(204)
  async cancel(@Param('id') id: string) {
    if (!(await this.chats.chats.cancel(id))) throw new NotFoundException(demo.noSuchChat)
  }
}
