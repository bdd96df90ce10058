import { EventEmitter } from 'node:events';
import { type BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import type { Ticket } from '../tickets/entities/ticket.entity.js';
import { TicketStatus, UNDECIDED_STATUSES } from '../tickets/ticket-status.js';
import { TicketsRepository } from '../tickets/tickets.repository.js';

/** Another process may decide the ticket; it is polled at this interval besides the local signal. */
const POLL_INTERVAL_MS = 250;
/** Wakes every waiter at shutdown (no ticket id looks like this). */
const SHUTDOWN = Symbol('shutdown');

/**
 * Lets a caller wait until a ticket has been decided (the webhook's `?wait=true`). At shutdown a
 * wait for a ticket nobody has started ends at once (the queue leaves it to the next process, and
 * the caller gets its 202), so the HTTP drain is not held up; one being analysed is waited for
 * while the queue finishes it, within SHUTDOWN_TIMEOUT_MS.
 */
@Injectable()
export class TicketOutcomes implements BeforeApplicationShutdown {
  private readonly decided = new EventEmitter().setMaxListeners(0);
  private stoppingUntil: number | null = null;

  constructor(
    private readonly config: AppConfig,
    private readonly tickets: TicketsRepository,
  ) {}

  beforeApplicationShutdown(): void {
    this.stoppingUntil = Date.now() + this.config.http.shutdownTimeoutMs;
    this.decided.emit(SHUTDOWN);
  }

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
      if (this.stoppingUntil !== null && ticket?.status !== TicketStatus.Processing) return null;
      const left = Math.min(deadline, this.stoppingUntil ?? deadline) - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.decided.off(ticketId, done);
          this.decided.off(SHUTDOWN, done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(POLL_INTERVAL_MS, left));
        this.decided.on(ticketId, done);
        this.decided.on(SHUTDOWN, done);
      });
    }
  }
}
