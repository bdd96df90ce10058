import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';
import { configureApp } from './app.setup.js';
import { AppConfig } from './config/app-config.js';
import { describeDatabase } from './config/database-url.js';
import { EnvironmentValidationError } from './config/environment.js';
import { AppLogger } from './common/logging/app-logger.js';

async function bootstrap(): Promise<void> {
  let module;
  try {
    module = await AppModule.forRoot();
  } catch (error) {
    if (error instanceof EnvironmentValidationError) {
      for (const problem of error.problems) process.stderr.write(`Configuration error: ${problem}\n`);
      process.exit(1);
    }
    throw error;
  }

  const app = await NestFactory.create<NestExpressApplication>(module, { bufferLogs: true, bodyParser: false });
  configureApp(app);
  const config = app.get(AppConfig);
  const logger = app.get(AppLogger);

  // SIGTERM: readiness turns false, the HTTP server stops accepting and drains in-flight requests,
  // workers finish or hand back their claims, then the database closes (Nest's shutdown hooks).
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      logger.log({ msg: 'shutting down', signal, timeoutMs: config.http.shutdownTimeoutMs }, 'Bootstrap');
      setTimeout(() => {
        logger.error({ msg: 'shutdown timed out; exiting' }, 'Bootstrap');
        process.exit(1);
      }, config.http.shutdownTimeoutMs + 5000).unref();
      app.close().then(
        () => {
          logger.log({ msg: 'stopped' }, 'Bootstrap');
          process.exit(0);
        },
        (error: unknown) => {
          logger.error({ msg: 'shutdown failed', err: String(error) }, 'Bootstrap');
          process.exit(1);
        },
      );
    });
  }

  await app.listen(config.http.port);
  logger.log(
    {
      msg: `listening on http://localhost:${config.http.port} (API docs at /docs)`,
      port: config.http.port,
      database: describeDatabase(config.database),
      gigachat: config.gigachat.authKey ? `${config.gigachat.scope} ${config.gigachat.model}` : 'not configured',
      telegram: config.telegram.botToken ? 'configured' : 'not configured',
      mail: config.mail.smtpUrl ? 'smtp' : `files in ${config.mail.outboxDir}`,
    },
    'Bootstrap',
  );
}

await bootstrap();
