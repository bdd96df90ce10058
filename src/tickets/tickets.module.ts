import { Module } from '@nestjs/common';
import { MessagesRepository } from './messages.repository.js';
import { TicketsController } from './tickets.controller.js';
import { TicketsRepository } from './tickets.repository.js';
import { TicketsService } from './tickets.service.js';

@Module({
  controllers: [TicketsController],
  providers: [TicketsRepository, MessagesRepository, TicketsService],
  exports: [TicketsRepository, MessagesRepository, TicketsService],
})
export class TicketsModule {}
