import { HttpStatus, Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '../common/errors.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import type { ListTicketsQuery } from './dto/list-tickets.query.js';
import { TicketDetailDto, TicketDto, type TicketListDto } from './dto/ticket.dto.js';
import { MessagesRepository } from './messages.repository.js';
import { TicketsRepository } from './tickets.repository.js';

/** Read side of tickets for the API. */
@Injectable()
export class TicketsService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly tickets: TicketsRepository,
    private readonly messages: MessagesRepository,
  ) {}

  async list(query: ListTicketsQuery): Promise<TicketListDto> {
    const { items, total } = await this.tickets.list(query);
    return { items: items.map((t) => TicketDto.from(t)), total, page: query.page, limit: query.limit };
  }

  /** The whole ticket, read in one go so messages and events are consistent with it. */
  async detail(id: string): Promise<TicketDetailDto> {
    const detail = await this.uow.read(async (db) => {
      const ticket = await this.tickets.findById(id, db);
      if (!ticket) return null;
      const [messages, events] = [await this.messages.ofTicket(id, db), await this.tickets.eventsOf(id, db)];
      return TicketDetailDto.fromParts(ticket, messages, events);
    });
    if (!detail) throw new AppError(HttpStatus.NOT_FOUND, ErrorCode.NotFound, `Ticket ${id} does not exist`);
    return detail;
  }
}
