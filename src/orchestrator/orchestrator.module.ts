import { Module } from '@nestjs/common';
import { AiModule } from '../ai/ai.module.js';
import { KnowledgeBaseModule } from '../knowledge-base/knowledge-base.module.js';
import { NotificationsModule } from '../notifications/notifications.module.js';
import { TicketsModule } from '../tickets/tickets.module.js';
import { InProcessTicketQueue } from './in-process-ticket-queue.js';
import { TicketOrchestrator } from './ticket-orchestrator.js';
import { TicketOutcomes } from './ticket-outcomes.js';
import { TicketProcessor, TicketQueue } from './ticket-queue.js';

/** Analysis and decisions: the TicketOrchestrator, and the queue that feeds it. */
@Module({
  imports: [TicketsModule, KnowledgeBaseModule, AiModule, NotificationsModule],
  providers: [
    TicketOrchestrator,
    { provide: TicketProcessor, useExisting: TicketOrchestrator },
    { provide: TicketQueue, useClass: InProcessTicketQueue },
    TicketOutcomes,
  ],
  exports: [TicketQueue, TicketOutcomes],
})
export class OrchestratorModule {}
