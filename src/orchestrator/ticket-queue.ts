import type { Ticket } from '../tickets/entities/ticket.entity.js';

/**
 * Where the webhook hands tickets for analysis. The ticket's status in the database is the durable
 * queue (`received`); an implementation only decides when and where a ticket gets processed.
 */
export abstract class TicketQueue {
  /** Asks for the ticket to be processed soon. Idempotent; never throws. */
  abstract enqueue(ticketId: string): void;
}

/** A worker's hold on one ticket. */
export interface TicketClaim {
  readonly token: string;
  /** True once the lease could not be renewed (another process may have taken the ticket over). */
  readonly lost: boolean;
}

/** `requeue`: the claim was handed back (a newer message arrived mid-analysis); process the ticket again. */
export type ProcessingResult = 'done' | 'requeue';

/** What the queue runs for each claimed ticket (the TicketOrchestrator). Fails closed; throws only when the database is gone. */
export abstract class TicketProcessor {
  /** `ticket` as read when it was claimed. */
  abstract process(ticket: Ticket, claim: TicketClaim): Promise<ProcessingResult>;
}
