// NestJS's built-in @Sse(): every client subscribes to one Subject; Nest writes each event.
import 'reflect-metadata'
import { Controller, Module, Sse } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { type Observable, Subject } from 'rxjs'
import type { StartContestant } from '../protocol.ts'

const events = new Subject<{ data: object }>()

@Controller()
class EventsController {
  @Sse('events')
  events(): Observable<{ data: object }> {
    return events.asObservable()
  }
}

@Module({ controllers: [EventsController] })
class AppModule {}

const start: StartContestant = async () => {
  const app = await NestFactory.create(AppModule, { logger: false })
  await app.listen(0, '127.0.0.1')
  const address = app.getHttpServer().address() as import('node:net').AddressInfo
  return {
    port: address.port,
    publish: (data) => events.next({ data }),
    close: () => app.close(),
  }
}
export default start
