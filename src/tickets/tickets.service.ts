import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { AppError, ErrorCode } from '../common/errors.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import type { ChangeTicketStatusDto } from './dto/change-ticket-status.dto.js';
import { TicketEventType } from './entities/ticket-event.entity.js';
import type { Ticket } from './entities/ticket.entity.js';
import type { ListTicketsQuery } from './dto/list-tickets.query.js';
import { TicketDetailDto, TicketDto, type TicketListDto } from './dto/ticket.dto.js';
import { MessagesRepository } from './messages.repository.js';
import { TicketsRepository } from './tickets.repository.js';
import { type OperatorStatus, TicketStatus } from './ticket-status.js';

/** The tickets API: reading tickets, and the status changes operators make. */
@Injectable()
export class TicketsService {
  private readonly logger = new Logger(TicketsService.name);

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
    if (!detail) throw notFound(id);
    return detail;
  }

  /**
   * Marks a ticket resolved or closed. Repeating a change is a no-op (no second event). A ticket
   * still being analysed cannot be changed (its worker would overwrite the change with its
   * decision), nor can a closed one: closed is final.
   */
  async changeStatus(id: string, change: ChangeTicketStatusDto): Promise<TicketDetailDto> {
    const now = new Date();
    const changed = await this.uow.transaction(async (tx) => {
      const ticket = await this.tickets.findById(id, tx);
      if (!ticket) throw notFound(id);
      if (ticket.status === change.status) return null;
      const refusal = refusalOf(ticket, change.status);
      if (refusal) throw new AppError(HttpStatus.CONFLICT, ErrorCode.Conflict, refusal);
      const from = ticket.status;
      const reason = `Marked ${change.status} by an operator${change.note ? `: ${change.note}` : ''}`;
      if (!(await this.tickets.changeStatusIf(tx, ticket, change.status, reason, now))) {
        throw new AppError(HttpStatus.CONFLICT, ErrorCode.Conflict, `Ticket #${ticket.number} changed while this request was made; read it again`);
      }
      await this.tickets.addEvent(tx, id, TicketEventType.StatusChanged, `${from} → ${change.status} (${reason})`, { from, to: change.status, by: 'operator', note: change.note ?? null }, now);
      return { from, number: ticket.number };
    });
    if (changed) this.logger.log({ msg: 'ticket status changed by an operator', ticketId: id, ticketNumber: changed.number, from: changed.from, to: change.status });
    return this.detail(id);
  }
}

function notFound(id: string): AppError {
  return new AppError(HttpStatus.NOT_FOUND, ErrorCode.NotFound, `Ticket ${id} does not exist`);
}

function refusalOf(ticket: Ticket, to: OperatorStatus): string | null {
  if (ticket.status === TicketStatus.Received || ticket.status === TicketStatus.Processing) {
    return `Ticket #${ticket.number} is being analysed (${ticket.status}); mark it ${to} once it is decided`;
  }
  if (ticket.status === TicketStatus.Closed) {
    return `Ticket #${ticket.number} is closed, and closed is final: a reply from the customer opens a new ticket`;
  }
  return null;
}
