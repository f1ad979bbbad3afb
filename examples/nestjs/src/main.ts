import 'reflect-metadata'
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import type { NestExpressApplication } from '@nestjs/platform-express'
import * as demo from '@sse/example-shared'
import type { Response } from 'express'
import { AppModule } from './app.module'

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
app.useStaticAssets(demo.pageDir)
app.useGlobalFilters(new ErrorBody())
// Ctrl+C: Nest closes the application, and SseModule ends the open streams first.
app.enableShutdownHooks()
await app.listen(demo.settings.port, demo.settings.host)
demo.logListening(app.getHttpServer())
