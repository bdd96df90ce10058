import type { AppConfig } from '../../src/config/app-config.js';
import { InProcessTicketQueue } from '../../src/orchestrator/in-process-ticket-queue.js';
import { type ProcessingResult, TicketProcessor } from '../../src/orchestrator/ticket-queue.js';
import type { Ticket } from '../../src/tickets/entities/ticket.entity.js';
import type { TicketsRepository } from '../../src/tickets/tickets.repository.js';

/** The in-process queue's bookkeeping, with named fakes of the repository and the processor. */

class FakeTickets {
  claims: string[] = [];
  waiting = new Set<string>();
  async claim(id: string): Promise<Ticket | null> {
    this.claims.push(id);
    if (!this.waiting.delete(id)) return null;
    return { id, revision: 0, processingAttempts: 1 } as Ticket;
  }
  async renewLease(): Promise<boolean> {
    return true;
  }
  async findClaimable(): Promise<string[]> {
    return [...this.waiting];
  }
}

class GatedProcessor extends TicketProcessor {
  runs: string[] = [];
  private release: (() => void) | null = null;
  async process(ticket: Ticket): Promise<ProcessingResult> {
    this.runs.push(ticket.id);
    await new Promise<void>((resolve) => (this.release = resolve));
    return 'done';
  }
  finish(): void {
    this.release?.();
  }
}

const config = { processing: { concurrency: 2, leaseMs: 60_000 }, http: { shutdownTimeoutMs: 1000 } } as unknown as AppConfig;
const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('InProcessTicketQueue', () => {
  it('runs a ticket again when it was enqueued while its run was going on (a follow-up after the decision)', async () => {
    const tickets = new FakeTickets();
    const processor = new GatedProcessor();
    const queue = new InProcessTicketQueue(config, tickets as unknown as TicketsRepository, processor);
    tickets.waiting.add('t1');
    queue.enqueue('t1');
    await settle();
    expect(processor.runs).toEqual(['t1']);

    // The decision is recorded; the customer answers before the run has returned.
    tickets.waiting.add('t1');
    queue.enqueue('t1');
    processor.finish();
    await settle();
    expect(tickets.claims).toEqual(['t1', 't1']);
    expect(processor.runs).toEqual(['t1', 't1']);
    processor.finish();
    await settle();
    await queue.beforeApplicationShutdown();
  });

  it('does not run a ticket twice for repeated enqueues while it waits', async () => {
    const tickets = new FakeTickets();
    const processor = new GatedProcessor();
    const queue = new InProcessTicketQueue({ ...config, processing: { concurrency: 1, leaseMs: 60_000 } } as unknown as AppConfig, tickets as unknown as TicketsRepository, processor);
    for (const id of ['a', 'b']) tickets.waiting.add(id);
    queue.enqueue('a');
    queue.enqueue('b');
    queue.enqueue('b');
    await settle();
    processor.finish();
    await settle();
    processor.finish();
    await settle();
    expect(tickets.claims).toEqual(['a', 'b']);
    await queue.beforeApplicationShutdown();
  });
});
