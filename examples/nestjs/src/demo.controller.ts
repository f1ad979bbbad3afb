import { setTimeout as sleep } from 'node:timers/promises'
import {
  BadRequestException,
  Body,
  Controller,
  HttpCode,
  Inject,
  type MessageEvent,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common'
import { openNodeStream } from '@sse/core/node'
import { SseHub, SseStream } from '@sse/nestjs'
import type { Request, Response } from 'express'

export type Events = {
  tick: { n: number; time: string }
  notification: { text: string; time: string }
}
type ChatEvents = { token: string; done: { tokens: number } }

/** The notification text of a request body, when it is a string of 1 to 1000 characters. */
function textOf(body: unknown): string | undefined {
  const text = (body as { text?: unknown } | null | undefined)?.text
  return typeof text === 'string' && text.length >= 1 && text.length <= 1000 ? text : undefined
}

/** A pretend language model: its answer one token at a time, then `done`. */
async function* answer(prompt: string): AsyncGenerator<MessageEvent> {
  const text = `You asked: "${prompt}". A language model streams its answer like this, one token at a time.`
  const tokens = text.split(/(?= )/)
  for (const token of tokens) {
    await sleep(40)
    yield { type: 'token', data: token }
  }
  yield { type: 'done', data: { tokens: tokens.length } }
}

function requirePrompt(prompt: unknown): string {
  if (typeof prompt !== 'string' || prompt === '') {
    throw new BadRequestException('a prompt is required')
  }
  return prompt
}

@Controller()
export class DemoController {
  constructor(@Inject(SseHub) private readonly hub: SseHub<Events>) {}

  /** Ticks and notifications; a page that reconnects gets what it missed, then live events. */
  @SseStream('events', { maxLifetime: Number(process.env.STREAM_LIFETIME_MS) || false })
  events() {
    return this.hub.subscribe()
  }

  @Post('notify')
  @HttpCode(202)
  async notify(@Body() body: unknown) {
    const text = textOf(body)
    if (text === undefined) {
      throw new BadRequestException('expected JSON {"text": "<1 to 1000 characters>"}')
    }
    return { id: await this.hub.publish('notification', { text, time: new Date().toISOString() }) }
  }

  /** A stream of its own, outside the hub: it ends once the answer is done. */
  @SseStream('chat')
  chat(@Query('prompt') prompt: unknown) {
    return answer(requirePrompt(prompt))
  }

  // @SseStream() routes answer GET; the POST form opens its stream on the raw response.
  @Post('chat')
  async chatPost(
    @Body() body: { prompt?: unknown } | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ) {
    const prompt = requirePrompt(body?.prompt)
    const session = await openNodeStream<ChatEvents>(req, res)
    await session.pipe(answer(prompt), { map: ({ type, data }) => ({ event: type, data }) })
  }
}
