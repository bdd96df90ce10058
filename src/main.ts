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

  // A stuck shutdown must not outlive Kubernetes' grace period silently.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.log({ msg: 'shutting down', signal, timeoutMs: config.http.shutdownTimeoutMs }, 'Bootstrap');
      setTimeout(() => {
        logger.error({ msg: 'shutdown timed out; exiting' }, 'Bootstrap');
        process.exit(1);
      }, config.http.shutdownTimeoutMs + 5000).unref();
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
