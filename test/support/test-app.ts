import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DataSource } from 'typeorm';
import { AppModule } from '../../src/app.module.js';
import { configureApp } from '../../src/app.setup.js';

export const SHIPPED_KNOWLEDGE_BASE = resolve(import.meta.dirname, '../../knowledge-base');

export interface TestApp {
  app: NestExpressApplication;
  /** For supertest: `request(t.http)`. */
  http: ReturnType<INestApplication['getHttpServer']>;
  baseUrl: string;
  dataSource: DataSource;
  env: Record<string, string>;
  close(): Promise<void>;
}

/**
 * The whole service as production builds it (AppModule + configureApp), listening on a random
 * loopback port, with an explicit environment: nothing leaks in from the machine or a .env file.
 */
export async function startTestApp(env: Record<string, string>): Promise<TestApp> {
  const fullEnv: Record<string, string> = {
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    KNOWLEDGE_BASE_DIR: SHIPPED_KNOWLEDGE_BASE,
    KNOWLEDGE_BASE_WATCH: 'false',
    MAIL_OUTBOX_DIR: join(mkdtempSync(join(tmpdir(), 'ai-support-outbox-')), 'outbox'),
    ...env,
  };
  const module = await AppModule.forRoot({ env: fullEnv });
  const app = await NestFactory.create<NestExpressApplication>(module, { bufferLogs: true, bodyParser: false, abortOnError: false });
  configureApp(app);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return {
    app,
    http: app.getHttpServer(),
    baseUrl: `http://127.0.0.1:${address.port}`,
    dataSource: app.get(DataSource),
    env: fullEnv,
    close: () => app.close(),
  };
}
