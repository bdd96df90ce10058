import { Module } from '@nestjs/common';
import { GigaChatClient } from './gigachat/gigachat.client.js';
import { LlmClient } from './llm-client.js';
import { TicketAnalyzer } from './ticket-analyzer.js';

@Module({
  providers: [{ provide: LlmClient, useClass: GigaChatClient }, TicketAnalyzer],
  exports: [LlmClient, TicketAnalyzer],
})
export class AiModule {}
