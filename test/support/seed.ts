import type { INestApplicationContext } from '@nestjs/common';
import { UnitOfWork } from '../../src/database/unit-of-work.js';
import { DeliveryStatus, MessageChannel, MessageDirection, MessageKind } from '../../src/tickets/entities/message.entity.js';
import { TicketEventType } from '../../src/tickets/entities/ticket-event.entity.js';
import type { Ticket } from '../../src/tickets/entities/ticket.entity.js';
import { MessagesRepository } from '../../src/tickets/messages.repository.js';
import { TicketsRepository } from '../../src/tickets/tickets.repository.js';
import { type Decision, TicketStatus } from '../../src/tickets/ticket-status.js';

export interface SeedTicket {
  subject: string;
  customerEmail: string;
  customerName?: string | null;
  status?: TicketStatus;
  decision?: Decision | null;
  createdAt?: Date;
}

/**
 * Stores a ticket with one inbound message straight through the repositories, for suites that
 * test reading (the API) rather than ingestion.
 */
export async function seedTicket(app: INestApplicationContext, seed: SeedTicket): Promise<Ticket> {
  const uow = app.get(UnitOfWork);
  const tickets = app.get(TicketsRepository);
  const messages = app.get(MessagesRepository);
  const now = seed.createdAt ?? new Date();
  return uow.transaction(async (tx) => {
    const ticket = await tickets.insert(tx, {
      status: seed.status ?? TicketStatus.Received,
      customerEmail: seed.customerEmail,
      customerName: seed.customerName ?? null,
      subject: seed.subject,
      now,
    });
    if (seed.decision) await tickets.update(tx, ticket, { decision: seed.decision }, now);
    await messages.insert(
      tx,
      {
        ticketId: ticket.id,
        direction: MessageDirection.Inbound,
        channel: MessageChannel.Email,
        kind: MessageKind.Customer,
        messageId: `${ticket.id}@seed.example`,
        rfcMessageId: `${ticket.id}@seed.example`,
        inReplyTo: null,
        references: [],
        fromAddress: seed.customerEmail,
        fromName: seed.customerName ?? null,
        to: ['support@shop.example'],
        cc: [],
        replyTo: null,
        subject: seed.subject,
        text: `Текст письма: ${seed.subject}`,
        deliveryStatus: DeliveryStatus.Received,
      },
      now,
    );
    await tickets.addEvent(tx, ticket.id, TicketEventType.Received, 'seeded', undefined, now);
    return ticket;
  });
}
