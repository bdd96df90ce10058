import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { FixedWindowThrottlerStorage } from '../common/http/fixed-window-throttler.storage.js';
import { AppConfig } from '../config/app-config.js';
import { OrchestratorModule } from '../orchestrator/orchestrator.module.js';
import { TicketsModule } from '../tickets/tickets.module.js';
import { EmailIngestionService } from './email-ingestion.service.js';
import { ThreadResolver } from './thread-resolver.js';
import { WebhookAuthGuard } from './webhook-auth.guard.js';
import { WebhookController } from './webhook.controller.js';

@Module({
  imports: [
    TicketsModule,
    OrchestratorModule,
    ThrottlerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        // The default name keeps the standard header names (Retry-After, X-RateLimit-Limit).
        throttlers: [{ name: 'default', ttl: config.webhook.rateWindowMs, limit: Math.max(1, config.webhook.rateLimit) }],
        skipIf: () => config.webhook.rateLimit === 0,
        // The route and the client address as the key, as written: the default hashes it with
        // SHA-256 on every request, which only matters for storages that cannot hold long keys.
        generateKey: (context, tracker, name) => `${context.getClass().name}.${context.getHandler().name}:${name}:${tracker}`,
        storage: new FixedWindowThrottlerStorage(),
      }),
    }),
  ],
  controllers: [WebhookController],
  providers: [EmailIngestionService, ThreadResolver, WebhookAuthGuard],
})
export class WebhookModule {}
