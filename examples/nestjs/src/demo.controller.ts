import {
  BadRequestException,
  Body,
  Controller,
  HttpCode,
  Inject,
  Post,
  Query,
} from '@nestjs/common'
import type { SseStream } from '@sse/core'
import * as demo from '@sse/example-shared'
import { SseHub, SseRoute } from '@sse/nestjs'

/** The body of `POST /chat`, as JSON parsing leaves it: checked by {@link requirePrompt}. */
type ChatBody = { prompt?: unknown } | undefined

function requirePrompt(value: unknown): string {
  const prompt = demo.promptOf(value)
  if (prompt === undefined) throw new BadRequestException(demo.missingPrompt)
  return prompt
}

/** The pretend model's answer, piped into the open stream; it ends once the answer is done. */
function answer(prompt: string) {
  return (stream: SseStream<demo.ChatEvents>) => stream.pipe(demo.answer(prompt))
}

@Controller()
export class DemoController {
  constructor(@Inject(SseHub) private readonly hub: SseHub<demo.Events>) {}

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

  /** A stream of its own, outside the hub. A missing prompt is a 400 before it opens. */
  @SseRoute<demo.ChatEvents>('chat')
  chat(@Query('prompt') value: unknown) {
    return answer(requirePrompt(value))
  }

  /** The same answer for fetch clients that POST `{"prompt": "..."}`. */
  @SseRoute<demo.ChatEvents>('chat', { method: 'POST' })
  chatPost(@Body() body: ChatBody) {
    return answer(requirePrompt(body?.prompt))
  }
}
