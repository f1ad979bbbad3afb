import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Headers,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
} from '@nestjs/common'
import * as demo from '@sse/example-shared'
import { SseHub, SseRoute } from '@sse/nestjs'
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
   * Starts the answer as a durable stream; the route reads it, and its head names where to
   * resume (`SSE-Resume`). A missing prompt is a 400 before anything runs.
   */
  @SseRoute<demo.ChatParts>('chat', { method: 'POST' })
  chat(@Body() body: unknown, @Headers('idempotency-key') idempotencyKey?: string) {
    const prompt = demo.promptOf(body)
    if (prompt === undefined) throw new BadRequestException(demo.missingPrompt)
    return demo.startChat(this.chats, prompt, idempotencyKey)
  }

  /** Reads an answer again: what the client missed after its `Last-Event-ID`, then live. */
  @SseRoute<demo.ChatParts>('chat/:id')
  resume(@Param('id') id: string) {
    return this.chats.chats.get(id)
  }

  @Delete('chat/:id')
  @HttpCode(204)
  async cancel(@Param('id') id: string) {
    if (!(await this.chats.chats.cancel(id))) throw new NotFoundException(demo.noSuchChat)
  }
}
