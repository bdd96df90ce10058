import { EventEmitter } from 'node:events';
import { Injectable } from '@nestjs/common';
import type { Ticket } from '../tickets/entities/ticket.entity.js';
import { UNDECIDED_STATUSES } from '../tickets/ticket-status.js';
import { TicketsRepository } from '../tickets/tickets.repository.js';

/** Another process may decide the ticket; it is polled at this interval besides the local signal. */
const POLL_INTERVAL_MS = 250;

/** Lets a caller wait until a ticket has been decided (the webhook's `?wait=true`). */
@Injectable()
export class TicketOutcomes {
  private readonly decided = new EventEmitter().setMaxListeners(0);

  constructor(private readonly tickets: TicketsRepository) {}

  /** Called by the orchestrator once a ticket has left received/processing. */
  notifyDecided(ticketId: string): void {
    this.decided.emit(ticketId);
  }

  /** The ticket once decided, or null if it is still undecided after `timeoutMs`. */
  async waitUntilDecided(ticketId: string, timeoutMs: number): Promise<Ticket | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ticket = await this.tickets.findById(ticketId);
      if (ticket && !UNDECIDED_STATUSES.includes(ticket.status)) return ticket;
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.decided.off(ticketId, done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(POLL_INTERVAL_MS, left));
        this.decided.on(ticketId, done);
      });
    }
  }
}
