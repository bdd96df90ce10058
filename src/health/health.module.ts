import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { KnowledgeBaseModule } from '../knowledge-base/knowledge-base.module.js';
import { HealthController } from './health.controller.js';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), KnowledgeBaseModule],
  controllers: [HealthController],
})
export class HealthModule {}
