import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { addressKey } from '../common/email-address.js';
import { isGeneratedMessageId, ownMessageId } from '../common/message-id.js';
import { AppConfig } from '../config/app-config.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { DeliveryStatus, type Message, MessageChannel, MessageDirection, MessageKind } from '../tickets/entities/message.entity.js';
import { TicketEventType } from '../tickets/entities/ticket-event.entity.js';
import type { Ticket } from '../tickets/entities/ticket.entity.js';
import { MessagesRepository } from '../tickets/messages.repository.js';
import { Decision, TicketStatus } from '../tickets/ticket-status.js';
import { TicketsRepository } from '../tickets/tickets.repository.js';
import { Escalations } from './escalations.js';
import { OutboxWorker } from './outbox.worker.js';
import { replyReferences, replySubject } from './reply-headers.js';

export interface DispatchRequest {
  decision: Decision;
  /** Why the ticket goes to a human (escalations). */
  reason: string | null;
  /** The text for the customer (answers and requests for details). */
  draftReply: string | null;
}

/** What will happen to a ticket, decided before anything is written. */
export interface DispatchPlan {
  decision: Decision;
  status: TicketStatus;
  statusReason: string | null;
  /** Set when the e-mail goes out: the address and the kind of message. */
  email: { recipient: string; kind: MessageKind } | null;
}

/**
 * Acts on decisions (SPEC.md): `full_answer` and `need_more_info` become an e-mail to the customer,
 * `escalate_to_human` a notice to the operators. Nothing is sent here: messages go into the outbox
 * in the same transaction as the ticket's new status, and the OutboxWorker delivers them.
 */
@Injectable()
export class DispatchService {
  constructor(
    private readonly config: AppConfig,
    private readonly uow: UnitOfWork,
    private readonly tickets: TicketsRepository,
    private readonly messages: MessagesRepository,
    private readonly escalations: Escalations,
    private readonly outbox: OutboxWorker,
  ) {}

  /**
   * The status a decision leads to, after AUTO_REPLY_LIMIT: an address that already got that many
   * automatic e-mails in 3 hours gets a human instead (two auto-responders can otherwise ping-pong).
   */
  async plan(tx: EntityManager, ticket: Ticket, request: DispatchRequest, replyTo: Message | null, now = new Date()): Promise<DispatchPlan> {
    switch (request.decision) {
      case Decision.FullAnswer:
      case Decision.NeedMoreInfo: {
        const recipient = replyTo?.replyTo ?? replyTo?.fromAddress ?? ticket.customerEmail;
        const { autoReplyLimit, autoReplyWindowMs } = this.config.processing;
        // Count and insert under one lock per address: replies to the same address decided at the
        // same moment (several tickets, several processes) must not all pass the count.
        await this.uow.lockFor(tx, `auto-reply:${addressKey(recipient)}`);
        const sent = await this.messages.countAutomaticEmailsSince(addressKey(recipient), new Date(now.getTime() - autoReplyWindowMs), tx);
        if (sent >= autoReplyLimit) {
          return escalation(
            `${sent} automatic e-mail(s) already went to ${recipient} in the last 3 hours (AUTO_REPLY_LIMIT=${autoReplyLimit}); the ${request.decision} reply was not sent`,
          );
        }
        return {
          decision: request.decision,
          status: request.decision === Decision.FullAnswer ? TicketStatus.Answered : TicketStatus.AwaitingCustomer,
          statusReason: null,
          email: { recipient, kind: request.decision === Decision.FullAnswer ? MessageKind.Reply : MessageKind.InfoRequest },
        };
      }
      case Decision.EscalateToHuman:
        return escalation(request.reason ?? 'the AI asked for a human');
    }
  }

  /** Queues the plan's message; call in the transaction that gave the ticket `plan.status`. */
  async execute(tx: EntityManager, ticket: Ticket, plan: DispatchPlan, request: DispatchRequest, replyTo: Message | null, now = new Date()): Promise<void> {
    if (!plan.email) {
      await this.escalations.notifyOperators(tx, ticket, plan.statusReason ?? 'escalated', now);
      return;
    }
    const ownId = ownMessageId(randomUUID(), this.config.mail.fromDomain);
    const customerId = replyTo ? (replyTo.rfcMessageId ?? replyTo.messageId) : null;
    // Mail that came without a Message-ID has one we made up for de-duplication: the customer's
    // client never saw it, so the reply names no parent rather than a false one.
    const parentId = customerId && !isGeneratedMessageId(customerId) ? customerId : null;
    const reply = await this.messages.insert(
      tx,
      {
        ticketId: ticket.id,
        direction: MessageDirection.Outbound,
        channel: MessageChannel.Email,
        kind: plan.email.kind,
        messageId: ownId,
        rfcMessageId: ownId,
        // The customer's ids exactly as they wrote them: some clients thread case-sensitively.
        inReplyTo: parentId,
        references: replyReferences(replyTo?.references ?? [], parentId, replyTo?.inReplyTo ?? null),
        fromAddress: this.config.mail.fromAddress,
        fromName: this.config.mail.fromName ?? null,
        to: [plan.email.recipient],
        cc: [],
        replyTo: null,
        recipientKey: addressKey(plan.email.recipient),
        subject: replySubject(replyTo?.subject ?? ticket.subject, ticket.number),
        text: request.draftReply ?? '',
        deliveryStatus: DeliveryStatus.Pending,
      },
      now,
    );
    await this.tickets.addEvent(tx, ticket.id, TicketEventType.DeliveryQueued, `E-mail to ${plan.email.recipient} queued`, {
      messageId: reply.id,
      rfcMessageId: reply.messageId,
      channel: MessageChannel.Email,
    }, now);
  }

  /** Wakes the outbox after a commit that queued something, so it leaves now rather than at the next poll. */
  deliverSoon(plan: DispatchPlan): void {
    if (plan.email || this.escalations.notifiesOperators) this.outbox.kick();
  }
}

function escalation(reason: string): DispatchPlan {
  return { decision: Decision.EscalateToHuman, status: TicketStatus.Escalated, statusReason: reason, email: null };
}
