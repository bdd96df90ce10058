import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { AiModule } from './ai/ai.module.js';
import { CommonModule } from './common/common.module.js';
import { HttpExceptionFilter } from './common/http/http-exception.filter.js';
import { createValidationPipe } from './common/validation.js';
import { AppConfigModule, type AppConfigOptions } from './config/app-config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { HealthModule } from './health/health.module.js';
import { KnowledgeBaseModule } from './knowledge-base/knowledge-base.module.js';
import { NotificationsModule } from './notifications/notifications.module.js';
import { OrchestratorModule } from './orchestrator/orchestrator.module.js';
import { TicketsModule } from './tickets/tickets.module.js';
import { WebhookModule } from './webhook/webhook.module.js';

/**
 * The whole service. `forRoot` validates the configuration first, so a bad environment stops the
 * process before anything connects anywhere. The global pipe and filter are providers (not set in
 * main.ts), so tests that build this module behave exactly like production.
 */
@Module({})
export class AppModule {
  static async forRoot(options: AppConfigOptions = {}): Promise<DynamicModule> {
    return {
      module: AppModule,
      imports: [
        await AppConfigModule.forRoot(options),
        CommonModule,
        DatabaseModule,
        TicketsModule,
        KnowledgeBaseModule,
        AiModule,
        NotificationsModule,
        OrchestratorModule,
        WebhookModule,
        HealthModule,
      ],
      providers: [
        { provide: APP_PIPE, useFactory: createValidationPipe },
        { provide: APP_FILTER, useClass: HttpExceptionFilter },
      ],
    };
  }
}
