import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import type { EntityManager } from 'typeorm';
import { GroupCommit } from '../database/group-commit.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { TicketQueue } from '../orchestrator/ticket-queue.js';
import { DeliveryStatus, MessageChannel, MessageDirection, MessageKind } from '../tickets/entities/message.entity.js';
import { TicketEventType } from '../tickets/entities/ticket-event.entity.js';
import { isInboundMessageIdConflict, MessagesRepository } from '../tickets/messages.repository.js';
import { TicketStatus } from '../tickets/ticket-status.js';
import { TicketsRepository } from '../tickets/tickets.repository.js';
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
  private readonly writes: GroupCommit<IngestionResult>;

  constructor(
    private readonly config: AppConfig,
    uow: UnitOfWork,
    private readonly tickets: TicketsRepository,
    private readonly messages: MessagesRepository,
    private readonly threads: ThreadResolver,
    private readonly queue: TicketQueue,
  ) {
    // SQLite has one writer and a commit costs far more than the inserts it carries: a burst of
    // mail (a newsletter reply storm) commits in a few grouped transactions instead of one each.
    // PostgreSQL groups concurrent commits itself; there, e-mails get their own transactions, at
    // most 8 at once so analysis keeps connections of the pool of 10. (Grouping with savepoints
    // measured no faster on PostgreSQL and doubled p99: each unit waits for its batch.)
    this.writes =
      uow.dialect === 'postgres'
        ? new GroupCommit(uow, { maxBatch: 1, concurrency: 8 })
        : new GroupCommit(uow, { maxBatch: 64, concurrency: 1 });
  }

  async ingest(email: InboundEmail): Promise<IngestionResult> {
    const ignoredReason =
      detectAutomatedMail(email, { ownAddress: this.config.mail.fromAddress, ownDomain: this.config.mail.fromDomain }) ?? undefined;
    const cleanText = extractCleanText({ text: email.text, html: email.html });

    let result: IngestionResult;
    try {
      result = await this.writes.run((tx) => this.store(tx, email, cleanText, ignoredReason));
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

  /** Stores one e-mail; a repeat fails on the unique Message-ID index (and rolls back whole). */
  private async store(tx: EntityManager, email: InboundEmail, cleanText: string, ignoredReason: string | undefined): Promise<IngestionResult> {
    const now = new Date();
    let ticket = await this.threads.findThread(email, tx);
    const followUp = ticket !== null;
    if (!ticket) {
      ticket = await this.tickets.insert(tx, {
        status: ignoredReason ? TicketStatus.Ignored : TicketStatus.Received,
        statusReason: ignoredReason ? `Not answered automatically: ${ignoredReason}` : null,
        customerEmail: email.from.address,
        customerName: email.from.name ?? null,
        subject: email.subject,
        now,
      });
    }

    await this.messages.insert(
      tx,
      {
        ticketId: ticket.id,
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
      },
      now,
    );

    const sender = email.from.address;
    if (!followUp) {
      await this.tickets.addEvent(tx, ticket.id, TicketEventType.Received, `E-mail from ${sender}`, { messageId: email.messageId }, now);
      if (ignoredReason) {
        await this.tickets.addEvent(tx, ticket.id, TicketEventType.MessageIgnored, `Not answered automatically: ${ignoredReason}`, { messageId: email.messageId }, now);
      }
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
