import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { addressKey } from '../common/email-address.js';
import { normalizeMessageId } from '../common/message-id.js';
import type { Ticket } from '../tickets/entities/ticket.entity.js';
import { MessagesRepository } from '../tickets/messages.repository.js';
import { TicketsRepository } from '../tickets/tickets.repository.js';
import type { InboundEmail } from './inbound-email.js';

const TICKET_TAG = /\[#(\d{1,9})\]/g;
const MAX_TICKET_TAGS = 3;

/**
 * Finds the ticket an e-mail continues (SPEC.md "Threading"): In-Reply-To and References are looked
 * up among every stored Message-ID, ours and the customer's; a `[#number]` in the subject counts only
 * when the sender is that ticket's customer, so nobody can write into someone else's thread.
 */
@Injectable()
export class ThreadResolver {
  constructor(
    private readonly tickets: TicketsRepository,
    private readonly messages: MessagesRepository,
  ) {}

  /**
   * Inside a writing transaction (`tx`) the ticket found is locked until it ends, so the status
   * the follow-up is decided on is still the ticket's status when it is written.
   */
  async findThread(email: InboundEmail, tx?: EntityManager): Promise<Ticket | null> {
    const find = (where: { id: string } | { number: number }) =>
      tx ? this.tickets.findForUpdate(tx, where) : 'id' in where ? this.tickets.findById(where.id) : this.tickets.findByNumber(where.number);
    // The direct parent first, then the rest of the chain, nearest first.
    const ids = [...new Set([email.inReplyTo, ...[...email.references].reverse()].map(normalizeMessageId).filter((id): id is string => !!id))];
    const ticketId = await this.messages.findTicketIdByMessageIds(ids, tx);
    if (ticketId) {
      const ticket = await find({ id: ticketId });
      if (ticket) return ticket;
    }
    for (const number of ticketTagsOf(email.subject)) {
      const ticket = await find({ number });
      if (ticket && addressKey(ticket.customerEmail) === addressKey(email.from.address)) return ticket;
    }
    return null;
  }
}

/**
 * The first few distinct `[#n]` tags of a subject. A real subject carries one (two after a
 * forward); each costs a lookup inside the writing transaction, so a subject of thousands of tags
 * would hold every other e-mail up.
 */
function ticketTagsOf(subject: string): number[] {
  const numbers = new Set<number>();
  for (const match of subject.matchAll(TICKET_TAG)) {
    numbers.add(Number(match[1]));
    if (numbers.size === MAX_TICKET_TAGS) break;
  }
  return [...numbers];
}
