import { randomUUID } from 'node:crypto';
import {
  type BeforeApplicationShutdown,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Semaphore } from '../common/async-lock.js';
import { backoffDelay } from '../common/backoff.js';
import { AppConfig } from '../config/app-config.js';
import type { EntityManager } from 'typeorm';
import { UnitOfWork } from '../database/unit-of-work.js';
import { DeliveryStatus, type Message, MessageChannel } from '../tickets/entities/message.entity.js';
import { TicketEventType } from '../tickets/entities/ticket-event.entity.js';
import { MessagesRepository } from '../tickets/messages.repository.js';
import { TicketsRepository } from '../tickets/tickets.repository.js';
import { ChatDeliveryError, ChatSender } from './chat-sender.js';
import { EmailDeliveryError, EmailSender } from './email-sender.js';
import { Escalations } from './escalations.js';

/** Polled at this interval besides being woken: catches retries, restarts and other processes' mail. */
const POLL_INTERVAL_MS = 5_000;
const BATCH = 25;
const PARALLEL_SENDS = 4;
const MAX_RETRY_DELAY_MS = 60 * 60 * 1000;

/**
 * Delivers the outbox: pending customer e-mails and operator notices.
 *
 * Exactly once, as far as a network allows: each attempt is recorded (`sending`, with a lease)
 * before the network call and its outcome after. A message still `pending` after a crash was never
 * attempted and is sent. One left `sending` was in flight when the process died: if the transport
 * can tell (the .eml outbox), it is settled; if it cannot (SMTP), it becomes `uncertain` and its
 * ticket is escalated for a human to check, instead of risking a second e-mail. Operator notices
 * in that state are sent again: a duplicate notice is better than none.
 */
@Injectable()
export class OutboxWorker implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxWorker.name);
  private readonly sends = new Semaphore(PARALLEL_SENDS);
  private readonly leaseMs: number;
  private pollTimer: NodeJS.Timeout | null = null;
  private dueTimer: NodeJS.Timeout | null = null;
  private draining: Promise<void> | null = null;
  private again = false;
  private reconcileDue = false;
  private stopped = false;

  constructor(
    private readonly config: AppConfig,
    private readonly uow: UnitOfWork,
    private readonly tickets: TicketsRepository,
    private readonly messages: MessagesRepository,
    private readonly email: EmailSender,
    private readonly chat: ChatSender,
    private readonly escalations: Escalations,
  ) {
    // Longer than any single send can take (each sender bounds its own), so a live attempt never
    // looks abandoned to the reconciliation of this or another process.
    this.leaseMs = Math.max(60_000, 2 * Math.max(email.maxSendMs, config.telegram.timeoutMs));
  }

  onApplicationBootstrap(): void {
    this.poll();
    this.pollTimer = setInterval(() => this.poll(), POLL_INTERVAL_MS);
    this.pollTimer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.clearTimers();
    await this.draining?.catch(() => undefined);
  }

  /** Last, after in-flight work had its chance to queue and send. */
  async onApplicationShutdown(): Promise<void> {
    await this.email.close();
  }

  /** Run the outbox now (coalesced: a run in progress takes one more pass). */
  kick(): void {
    this.start(false);
  }

  /** The periodic run: also settles attempts abandoned by a dead process. */
  private poll(): void {
    this.reconcileDue = true;
    this.start(true);
  }

  private start(reconcile: boolean): void {
    if (this.stopped) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    const withReconcile = reconcile || this.reconcileDue;
    this.reconcileDue = false;
    this.draining = this.drain(withReconcile).finally(() => {
      this.draining = null;
      if (this.again && !this.stopped) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** Resolves once the outbox holds nothing due (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(reconcile: boolean): Promise<void> {
    try {
      if (reconcile) await this.reconcileAbandonedAttempts();
      let delivered = 0;
      for (;;) {
        if (this.stopped) return;
        const due = await this.messages.findDueOutbound(new Date(), BATCH);
        if (due.length === 0) break;
        await Promise.all(due.map((id) => this.sends.run(() => this.deliver(id))));
        delivered += due.length;
        if (due.length < BATCH) break;
      }
      // Retries scheduled by this run may fall due before the next poll.
      if (delivered > 0 || reconcile) await this.scheduleNextDue();
    } catch (error) {
      this.logger.error({ msg: 'outbox run failed; retrying at the next poll', err: String(error) });
    }
  }

  private async scheduleNextDue(): Promise<void> {
    if (this.dueTimer) clearTimeout(this.dueTimer);
    this.dueTimer = null;
    const next = await this.messages.nextOutboundDueAt();
    if (!next) return;
    const wait = next.getTime() - Date.now();
    if (wait >= POLL_INTERVAL_MS) return; // the poll will get it
    this.dueTimer = setTimeout(() => this.kick(), Math.max(0, wait) + 5);
    this.dueTimer.unref();
  }

  private async deliver(id: string): Promise<void> {
    const token = randomUUID();
    const now = new Date();
    const message = await this.messages.claimForDelivery(id, token, new Date(now.getTime() + this.leaseMs), now);
    if (!message) return; // another process took it, or it is no longer due
    try {
      if (message.channel === MessageChannel.Email) await this.deliverEmail(message, token);
      else await this.deliverChat(message, token);
    } catch (error) {
      // Recording the outcome failed (database down): the lease lapses and reconciliation decides.
      this.logger.error({ msg: 'could not record a delivery outcome', ticketId: message.ticketId, messageId: message.id, err: String(error) });
    }
  }

  private async deliverEmail(message: Message, token: string): Promise<void> {
    let outcome: { response: string } | EmailDeliveryError;
    try {
      outcome = await this.email.send({
        messageId: message.messageId!,
        from: this.config.mail.from,
        to: message.to,
        subject: message.subject ?? '',
        text: message.text ?? '',
        inReplyTo: message.inReplyTo,
        references: message.references,
        headers: {
          // RFC 3834: this is an automatic reply; compliant auto-responders must not answer it.
          'Auto-Submitted': 'auto-replied',
          // Exchange/Outlook: no out-of-office or delivery receipts back to us.
          'X-Auto-Response-Suppress': 'All',
        },
      });
    } catch (error) {
      outcome = error instanceof EmailDeliveryError ? error : new EmailDeliveryError(String(error), 'temporary');
    }
    await this.settle(message, token, outcome instanceof EmailDeliveryError ? outcome : null, outcome instanceof EmailDeliveryError ? undefined : outcome.response);
  }

  private async deliverChat(message: Message, token: string): Promise<void> {
    // The send's outcome is kept apart from recording it: a database error while recording a
    // delivered notice must not pass for a Telegram failure (that would send it again).
    let outcome: { messageId: string } | ChatDeliveryError;
    try {
      outcome = await this.chat.send({ html: message.html ?? message.text ?? '', text: message.text ?? '' });
    } catch (error) {
      outcome = error instanceof ChatDeliveryError ? error : new ChatDeliveryError(String(error), false);
    }
    if (outcome instanceof ChatDeliveryError) await this.settle(message, token, outcome);
    else await this.settle(message, token, null, `telegram message_id ${outcome.messageId}`, outcome.messageId);
  }

  /** Records how an attempt ended: sent, to be retried, or failed for good (then escalated). */
  private async settle(
    message: Message,
    token: string,
    failure: EmailDeliveryError | ChatDeliveryError | null,
    response?: string,
    externalId?: string,
  ): Promise<void> {
    const now = new Date();
    const channel = message.channel === MessageChannel.Email ? 'e-mail' : 'operator notice';
    await this.uow.transaction(async (tx) => {
      if (!failure) {
        if (!(await this.finishAttempt(tx, message, token, { deliveryStatus: DeliveryStatus.Sent, sentAt: now, providerResponse: response ?? null, externalId: externalId ?? null, lastError: null }, now))) return;
        await this.tickets.addEvent(tx, message.ticketId, TicketEventType.DeliverySent, `${capitalize(channel)} delivered`, { messageId: message.id, attempt: message.attempts, response }, now);
        this.logger.log({ msg: `${channel} delivered`, ticketId: message.ticketId, messageId: message.id, attempt: message.attempts });
        return;
      }
      if (failure instanceof EmailDeliveryError && failure.kind === 'uncertain') {
        // The message went out whole and the answer was lost: it may have been delivered. Never twice.
        const reason = `the connection failed after the whole reply was sent, so it may or may not have reached the customer (${failure.message}); check before answering again`;
        if (!(await this.finishAttempt(tx, message, token, { deliveryStatus: DeliveryStatus.Uncertain, lastError: reason }, now))) return;
        await this.tickets.addEvent(tx, message.ticketId, TicketEventType.DeliveryUncertain, `E-mail delivery uncertain: ${reason}`, { messageId: message.id, attempt: message.attempts }, now);
        this.logger.warn({ msg: 'e-mail delivery uncertain; not retried, ticket escalated', ticketId: message.ticketId, messageId: message.id, error: failure.message });
        await this.escalateTicket(tx, message.ticketId, `reply delivery uncertain: ${reason}`, now);
        return;
      }
      const exhausted = message.attempts >= this.config.mail.maxAttempts;
      if (!failure.permanent && !exhausted) {
        const requested = failure instanceof ChatDeliveryError ? failure.retryAfterMs : undefined;
        const delay = backoffDelay(message.attempts, { baseMs: this.config.mail.retryBaseMs, maxMs: MAX_RETRY_DELAY_MS }, requested);
        const nextAttemptAt = new Date(now.getTime() + delay);
        if (!(await this.finishAttempt(tx, message, token, { deliveryStatus: DeliveryStatus.Pending, nextAttemptAt, lastError: failure.message }, now))) return;
        await this.tickets.addEvent(tx, message.ticketId, TicketEventType.DeliveryRetry, `${capitalize(channel)} not delivered yet (${failure.message}); retry at ${nextAttemptAt.toISOString()}`, { messageId: message.id, attempt: message.attempts, delayMs: delay }, now);
        this.logger.warn({ msg: `${channel} delivery failed; will retry`, ticketId: message.ticketId, messageId: message.id, attempt: message.attempts, delayMs: delay, error: failure.message });
        return;
      }
      const why = failure.permanent ? failure.message : `gave up after ${message.attempts} attempts; last error: ${failure.message}`;
      if (!(await this.finishAttempt(tx, message, token, { deliveryStatus: DeliveryStatus.Failed, lastError: why }, now))) return;
      await this.tickets.addEvent(tx, message.ticketId, TicketEventType.DeliveryFailed, `${capitalize(channel)} could not be delivered: ${why}`, { messageId: message.id, attempt: message.attempts }, now);
      this.logger.error({ msg: `${channel} could not be delivered`, ticketId: message.ticketId, messageId: message.id, error: why });
      if (message.channel === MessageChannel.Email) {
        await this.escalateTicket(tx, message.ticketId, `the reply to the customer could not be delivered (${why})`, now);
      }
    });
  }

  /** Records an attempt's outcome while the claim holds; says so in the log when it no longer did. */
  private async finishAttempt(tx: EntityManager, message: Message, token: string, patch: Parameters<MessagesRepository['finishAttempt']>[3], now: Date): Promise<boolean> {
    const recorded = await this.messages.finishAttempt(tx, message.id, token, patch, now);
    if (!recorded) {
      this.logger.warn({ msg: 'delivery outcome not recorded: the attempt was reconciled meanwhile', ticketId: message.ticketId, messageId: message.id, outcome: patch.deliveryStatus });
    }
    return recorded;
  }

  /** A reply that did not (or may not have) reach the customer: a human takes over, notified now. */
  private async escalateTicket(tx: EntityManager, ticketId: string, reason: string, now: Date): Promise<void> {
    const ticket = await this.tickets.findById(ticketId, tx);
    if (!ticket) return;
    await this.escalations.escalate(tx, ticket, reason, now);
    // The operators' notice was just queued: one more pass sends it without waiting for the poll.
    this.again = true;
  }

  /** Attempts whose process died mid-send (their lease lapsed while still `sending`). */
  private async reconcileAbandonedAttempts(): Promise<void> {
    const abandoned = await this.messages.findAbandonedAttempts(new Date(), BATCH);
    for (const message of abandoned) {
      const now = new Date();
      if (message.channel === MessageChannel.Email) {
        const delivered = await this.email.wasDelivered(message.messageId!);
        await this.uow.transaction(async (tx) => {
          if (delivered === true) {
            if (!(await this.messages.reconcileAbandoned(tx, message, { deliveryStatus: DeliveryStatus.Sent, sentAt: now, providerResponse: 'found delivered after a restart' }, now))) return;
            await this.tickets.addEvent(tx, message.ticketId, TicketEventType.DeliverySent, 'E-mail found delivered after a restart', { messageId: message.id }, now);
          } else if (delivered === false) {
            if (!(await this.messages.reconcileAbandoned(tx, message, { deliveryStatus: DeliveryStatus.Pending, nextAttemptAt: now, lastError: 'interrupted by a restart before it was written' }, now))) return;
            await this.tickets.addEvent(tx, message.ticketId, TicketEventType.DeliveryRetry, 'E-mail interrupted by a restart; sending it now', { messageId: message.id }, now);
          } else {
            const reason = 'the process stopped while the reply was being sent, so it may or may not have reached the customer; check before answering again';
            if (!(await this.messages.reconcileAbandoned(tx, message, { deliveryStatus: DeliveryStatus.Uncertain, lastError: reason }, now))) return;
            await this.tickets.addEvent(tx, message.ticketId, TicketEventType.DeliveryUncertain, `E-mail delivery uncertain: ${reason}`, { messageId: message.id }, now);
            await this.escalateTicket(tx, message.ticketId, `reply delivery uncertain: ${reason}`, now);
            this.logger.warn({ msg: 'e-mail delivery uncertain after a restart; ticket escalated', ticketId: message.ticketId, messageId: message.id });
          }
        });
      } else {
        await this.uow.transaction(async (tx) => {
          if (!(await this.messages.reconcileAbandoned(tx, message, { deliveryStatus: DeliveryStatus.Pending, nextAttemptAt: now, lastError: 'interrupted by a restart; sent again' }, now))) return;
          await this.tickets.addEvent(tx, message.ticketId, TicketEventType.DeliveryRetry, 'Operator notice interrupted by a restart; sending it again', { messageId: message.id }, now);
        });
      }
    }
  }

  private clearTimers(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.dueTimer) clearTimeout(this.dueTimer);
    this.pollTimer = null;
    this.dueTimer = null;
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
