import 'reflect-metadata'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import type { NestExpressApplication } from '@nestjs/platform-express'
import type { Response } from 'express'
import { AppModule } from './app.module'

const port = Number(process.env.PORT ?? 3000)
const host = process.env.HOST ?? '127.0.0.1'

/** Errors answer `{"error": message}`, as in every example of the demo. */
@Catch(HttpException)
class ErrorBody implements ExceptionFilter {
  catch(error: HttpException, host: ArgumentsHost) {
    host
      .switchToHttp()
      .getResponse<Response>()
      .status(error.getStatus())
      .json({ error: error.message })
  }
}

const app = await NestFactory.create<NestExpressApplication>(AppModule, { bodyParser: false })
app.useBodyParser('json', { limit: '64kb' })
app.useStaticAssets(fileURLToPath(new URL('../../shared', import.meta.url)))
app.useGlobalFilters(new ErrorBody())
// Ctrl+C: Nest closes the application, and SseModule ends the open streams first.
app.enableShutdownHooks()
await app.listen(port, host)
console.log(`listening on http://${host}:${(app.getHttpServer().address() as AddressInfo).port}`)
