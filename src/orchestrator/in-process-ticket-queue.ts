import { randomUUID } from 'node:crypto';
import {
  type BeforeApplicationShutdown,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import type { Ticket } from '../tickets/entities/ticket.entity.js';
import { TicketsRepository } from '../tickets/tickets.repository.js';
import { type ProcessingResult, type TicketClaim, TicketProcessor, TicketQueue } from './ticket-queue.js';

/** How often the queue looks for tickets nobody is working on (another process crashed, or took mail). */
const SWEEP_INTERVAL_MS = 5_000;
const SWEEP_BATCH = 500;

/**
 * Processes tickets inside this process, at most PROCESSING_CONCURRENCY at a time. Durable through
 * the ticket status: each ticket is claimed with a conditional update (so two processes never work
 * the same ticket), the claim is a lease renewed while work goes on, and a sweep picks up tickets
 * left `received` or whose lease lapsed, at boot and periodically.
 */
@Injectable()
export class InProcessTicketQueue extends TicketQueue implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(InProcessTicketQueue.name);
  private readonly waiting: string[] = [];
  private readonly known = new Set<string>();
  private readonly running = new Map<string, Promise<void>>();
  /** Tickets enqueued again while their run was going on. */
  private readonly again = new Set<string>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly config: AppConfig,
    private readonly tickets: TicketsRepository,
    private readonly processor: TicketProcessor,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    // Resume what an earlier run left unfinished, then keep an eye out for abandoned claims.
    void this.sweep();
    this.sweepTimer = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    // Tickets not started stay `received` in the database; the next process to boot takes them.
    this.waiting.length = 0;
    this.again.clear();
    const inFlight = [...this.running.values()];
    if (inFlight.length === 0) return;
    this.logger.log({ msg: 'waiting for tickets in progress', count: inFlight.length });
    await Promise.race([
      Promise.allSettled(inFlight),
      new Promise((resolve) => setTimeout(resolve, this.config.http.shutdownTimeoutMs).unref()),
    ]);
  }

  enqueue(ticketId: string): void {
    if (this.stopped) return;
    // A follow-up can arrive after the worker recorded its decision but before its run ended: the
    // ticket is `received` again, so it goes round once more (the claim decides whether to work it).
    if (this.running.has(ticketId)) this.again.add(ticketId);
    if (this.known.has(ticketId)) return;
    this.known.add(ticketId);
    this.waiting.push(ticketId);
    this.pump();
  }

  /** Looks for claimable tickets now (boot, timer, or a test that wants it sooner). */
  sweep(): Promise<void> {
    this.sweeping ??= (async () => {
      try {
        const ids = await this.tickets.findClaimable(new Date(), SWEEP_BATCH);
        for (const id of ids) this.enqueue(id);
      } catch (error) {
        this.logger.warn({ msg: 'sweep for unclaimed tickets failed', err: String(error) });
      } finally {
        this.sweeping = null;
      }
    })();
    return this.sweeping;
  }

  private pump(): void {
    while (!this.stopped && this.running.size < this.config.processing.concurrency && this.waiting.length > 0) {
      const ticketId = this.waiting.shift()!;
      const run = this.run(ticketId).then((result) => {
        this.running.delete(ticketId);
        this.known.delete(ticketId);
        const again = this.again.delete(ticketId);
        if (result === 'requeue' || again) this.enqueue(ticketId);
        this.pump();
      });
      this.running.set(ticketId, run);
    }
  }

  private async run(ticketId: string): Promise<ProcessingResult> {
    const leaseMs = this.config.processing.leaseMs;
    const token = randomUUID();
    let claimed: Ticket | null;
    try {
      const now = new Date();
      claimed = await this.tickets.claim(ticketId, token, new Date(now.getTime() + leaseMs), now);
    } catch (error) {
      this.logger.warn({ msg: 'could not claim ticket', ticketId, err: String(error) });
      return 'done';
    }
    if (!claimed) return 'done'; // someone else has it, or it was decided meanwhile

    const claim = { token, lost: false };
    const heartbeat = setInterval(() => {
      this.tickets.renewLease(ticketId, token, new Date(Date.now() + leaseMs)).then(
        (renewed) => {
          if (!renewed && !claim.lost) {
            claim.lost = true;
            this.logger.warn({ msg: 'lost the claim on a ticket', ticketId });
          }
        },
        (error: unknown) => this.logger.warn({ msg: 'could not renew the claim', ticketId, err: String(error) }),
      );
    }, Math.max(1000, Math.floor(leaseMs / 3)));
    heartbeat.unref();
    try {
      return await this.processor.process(claimed, claim satisfies TicketClaim);
    } catch (error) {
      // The processor fails closed itself; reaching here means even that failed (database down).
      // The claim lapses and the ticket is taken again after the lease.
      this.logger.error({ msg: 'ticket processing failed', ticketId, err: String(error) });
      return 'done';
    } finally {
      clearInterval(heartbeat);
    }
  }
}
