import { Injectable, Logger } from '@nestjs/common';
import { Semaphore } from '../common/async-lock.js';
import { AppConfig } from '../config/app-config.js';
import type { EntityManager } from 'typeorm';
import { GroupCommit } from '../database/group-commit.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { TicketQueue } from '../orchestrator/ticket-queue.js';
import { DeliveryStatus, MessageChannel, MessageDirection, MessageKind } from '../tickets/entities/message.entity.js';
import { TicketEventType } from '../tickets/entities/ticket-event.entity.js';
import type { Ticket } from '../tickets/entities/ticket.entity.js';
import { isInboundMessageIdConflict, MessagesRepository, type NewMessage, newMessageRow } from '../tickets/messages.repository.js';
import { TicketStatus } from '../tickets/ticket-status.js';
import { type NewTicket, type PendingEvent, TicketsRepository } from '../tickets/tickets.repository.js';
import type { InboundEmail } from './inbound-email.js';
import { detectAutomatedMail } from './loop-guard.js';
import { extractCleanText } from './reply-text.js';
import { ThreadResolver } from './thread-resolver.js';

export interface IngestionResult {
  ticketId: string;
  ticketNumber: number;
  /** The ticket's status after this e-mail (`received`, `ignored`, or the status it already had). */
  status: TicketStatus;
  duplicate: boolean;
  /** Why the loop guard set this e-mail aside, when it did. */
  ignoredReason?: string;
  followUp: boolean;
}

/**
 * Takes one inbound e-mail exactly once: stores the ticket (or the follow-up on an existing one)
 * and its message in one transaction, then hands the ticket to the processing queue. The Message-ID
 * is the idempotency key, enforced by a unique index, so two deliveries racing each other still
 * make one ticket.
 */
@Injectable()
export class EmailIngestionService {
  private readonly logger = new Logger(EmailIngestionService.name);
  /** SQLite: e-mails arriving together share a transaction. */
  private readonly sqliteWrites: GroupCommit<IngestionResult> | null;
  /** PostgreSQL: e-mails stored at once, at most 8, so analysis keeps connections of the pool of 10. */
  private readonly postgresWrites: Semaphore | null;

  constructor(
    private readonly config: AppConfig,
    private readonly uow: UnitOfWork,
    private readonly tickets: TicketsRepository,
    private readonly messages: MessagesRepository,
    private readonly threads: ThreadResolver,
    private readonly queue: TicketQueue,
  ) {
    // SQLite has one writer and a commit costs far more than the inserts it carries: a burst of
    // mail (a newsletter reply storm) commits in a few grouped transactions instead of one each.
    // PostgreSQL groups concurrent commits itself; there each e-mail is stored on its own.
    // (Grouping with savepoints measured no faster on PostgreSQL and doubled p99: each unit
    // waits for its batch.)
    const postgres = uow.dialect === 'postgres';
    this.sqliteWrites = postgres ? null : new GroupCommit(uow, 64);
    this.postgresWrites = postgres ? new Semaphore(8) : null;
  }

  async ingest(email: InboundEmail): Promise<IngestionResult> {
    const ignoredReason =
      detectAutomatedMail(email, { ownAddress: this.config.mail.fromAddress, ownDomain: this.config.mail.fromDomain }) ?? undefined;
    const cleanText = extractCleanText({ text: email.text, html: email.html });

    let result: IngestionResult;
    try {
      result = this.postgresWrites
        ? await this.postgresWrites.run(() => this.storeOnPostgres(email, cleanText, ignoredReason))
        : await this.sqliteWrites!.run((tx) => this.store(tx, email, cleanText, ignoredReason));
    } catch (error) {
      // An earlier or concurrent delivery of the same e-mail holds the unique index: a duplicate.
      if (!isInboundMessageIdConflict(error)) throw error;
      const existing = await this.messages.findInboundByMessageId(email.messageId);
      if (!existing) throw error;
      const ticket = await this.tickets.findById(existing.ticketId);
      result = { ticketId: existing.ticketId, ticketNumber: ticket?.number ?? 0, status: ticket?.status ?? TicketStatus.Received, duplicate: true, followUp: false };
    }

    if (result.duplicate) {
      this.logger.log({ msg: 'duplicate e-mail ignored', ticketId: result.ticketId, messageId: email.messageId });
    } else {
      this.logger.log({
        msg: result.followUp ? 'follow-up stored' : 'ticket stored',
        ticketId: result.ticketId,
        ticketNumber: result.ticketNumber,
        status: result.status,
        ignoredReason: result.ignoredReason,
        messageIdGenerated: email.messageIdGenerated || undefined,
      });
      if (result.status === TicketStatus.Received) this.queue.enqueue(result.ticketId);
    }
    return result;
  }

  /**
   * PostgreSQL: a new conversation (the usual case) is stored by one statement, atomic on its own;
   * a follow-up reads and updates its ticket in a transaction. Each statement is a round trip, and
   * on this path they cost more of the service's time than anything else.
   */
  private async storeOnPostgres(email: InboundEmail, cleanText: string, ignoredReason: string | undefined): Promise<IngestionResult> {
    const thread = await this.threads.findThread(email);
    if (thread && joinsThread(thread, ignoredReason)) {
      return this.uow.transaction((tx) => this.store(tx, email, cleanText, ignoredReason));
    }
    const now = new Date();
    const ticket = await this.tickets.insertWithMessage(
      newTicketOf(email, ignoredReason, now),
      (ticketId) => newMessageRow(inboundMessageOf(email, cleanText, ignoredReason, ticketId), now),
      newTicketEvents(email, ignoredReason, now, thread),
    );
    return { ticketId: ticket.id, ticketNumber: ticket.number, status: ticket.status, duplicate: false, ignoredReason, followUp: false };
  }

  /** Stores one e-mail; a repeat fails on the unique Message-ID index (and rolls back whole). */
  private async store(tx: EntityManager, email: InboundEmail, cleanText: string, ignoredReason: string | undefined): Promise<IngestionResult> {
    const now = new Date();
    const thread = await this.threads.findThread(email, tx);
    const followUp = thread !== null && joinsThread(thread, ignoredReason);
    const ticket = followUp ? thread : await this.tickets.insert(tx, newTicketOf(email, ignoredReason, now));
    await this.messages.insert(tx, inboundMessageOf(email, cleanText, ignoredReason, ticket.id), now);

    const sender = email.from.address;
    if (!followUp) {
      await this.tickets.addEvents(tx, ticket.id, newTicketEvents(email, ignoredReason, now, thread));
    } else if (ignoredReason) {
      // An auto-reply in an existing thread is kept with the conversation but changes nothing.
      await this.tickets.addEvent(tx, ticket.id, TicketEventType.MessageIgnored, `Automatic reply in the thread not analysed: ${ignoredReason}`, { messageId: email.messageId }, now);
    } else {
      const before = ticket.status;
      await this.tickets.reopenForFollowUp(tx, ticket, now);
      await this.tickets.addEvent(tx, ticket.id, TicketEventType.FollowUp, `Follow-up from ${sender}; the conversation goes back for analysis`, { messageId: email.messageId, revision: ticket.revision }, now);
      if (before !== ticket.status) {
        await this.tickets.addEvent(tx, ticket.id, TicketEventType.StatusChanged, `${before} → ${ticket.status}`, { from: before, to: ticket.status }, now);
      }
    }

    return {
      ticketId: ticket.id,
      ticketNumber: ticket.number,
      status: ticket.status,
      duplicate: false,
      ignoredReason,
      followUp,
    };
  }
}

function newTicketOf(email: InboundEmail, ignoredReason: string | undefined, now: Date): NewTicket {
  return {
    status: ignoredReason ? TicketStatus.Ignored : TicketStatus.Received,
    statusReason: ignoredReason ? `Not answered automatically: ${ignoredReason}` : null,
    customerEmail: email.from.address,
    customerName: email.from.name ?? null,
    subject: email.subject,
    now,
  };
}

function inboundMessageOf(email: InboundEmail, cleanText: string, ignoredReason: string | undefined, ticketId: string): NewMessage {
  return {
    ticketId,
    direction: MessageDirection.Inbound,
    channel: MessageChannel.Email,
    kind: MessageKind.Customer,
    messageId: email.messageId,
    rfcMessageId: email.rfcMessageId,
    inReplyTo: email.inReplyTo,
    references: email.references,
    fromAddress: email.from.address,
    fromName: email.from.name ?? null,
    to: email.to,
    cc: email.cc,
    replyTo: email.replyTo?.address ?? null,
    subject: email.subject,
    text: email.text,
    html: email.html,
    // Stored only when it differs from the text (no quotes to strip is common): half the bytes.
    cleanText: cleanText === email.text ? null : cleanText,
    headers: email.headers,
    attachments: email.attachments,
    receivedAt: email.receivedAt,
    deliveryStatus: ignoredReason ? DeliveryStatus.Ignored : DeliveryStatus.Received,
    ignoredReason: ignoredReason ?? null,
  };
}

/**
 * Whether an e-mail in `thread` joins it. A closed ticket stays closed: the customer's reply opens
 * a new ticket (newTicketEvents links them), while an auto-reply is kept with the conversation,
 * changing nothing, as on any other ticket.
 */
function joinsThread(thread: Ticket, ignoredReason: string | undefined): boolean {
  return thread.status !== TicketStatus.Closed || ignoredReason !== undefined;
}

/** The audit trail a new ticket starts with; `closedThread` is the closed ticket it continues, if any. */
function newTicketEvents(email: InboundEmail, ignoredReason: string | undefined, now: Date, closedThread: Ticket | null = null): PendingEvent[] {
  const events: PendingEvent[] = [
    closedThread
      ? {
          type: TicketEventType.Received,
          message: `E-mail from ${email.from.address} in the thread of closed ticket #${closedThread.number}: a new ticket`,
          data: { messageId: email.messageId, previousTicketId: closedThread.id, previousTicketNumber: closedThread.number },
          at: now,
        }
      : { type: TicketEventType.Received, message: `E-mail from ${email.from.address}`, data: { messageId: email.messageId }, at: now },
  ];
  if (ignoredReason) {
    events.push({ type: TicketEventType.MessageIgnored, message: `Not answered automatically: ${ignoredReason}`, data: { messageId: email.messageId }, at: now });
  }
  return events;
}
