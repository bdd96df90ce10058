import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DeliveryStatus, MessageChannel, MessageDirection, MessageKind } from '../tickets/entities/message.entity.js';
import { TicketEventType } from '../tickets/entities/ticket-event.entity.js';
import type { Ticket } from '../tickets/entities/ticket.entity.js';
import { MessagesRepository } from '../tickets/messages.repository.js';
import { Decision, TicketStatus } from '../tickets/ticket-status.js';
import { TicketsRepository } from '../tickets/tickets.repository.js';
import { ChatSender } from './chat-sender.js';
import { renderEscalationNotice } from './telegram-message.js';

/**
 * Hands tickets to the operators: an escalation notice in the Telegram outbox, or, without
 * Telegram settings, the escalation recorded on the ticket and logged.
 */
@Injectable()
export class Escalations {
  private readonly logger = new Logger(Escalations.name);

  constructor(
    private readonly tickets: TicketsRepository,
    private readonly messages: MessagesRepository,
    private readonly chat: ChatSender,
  ) {}

  /** False without Telegram settings: escalations are then recorded only, nothing is queued. */
  get notifiesOperators(): boolean {
    return this.chat.isConfigured;
  }

  /** Queues the notice for a ticket that is (now) escalated. Runs inside the caller's transaction. */
  async notifyOperators(tx: EntityManager, ticket: Ticket, reason: string, now = new Date()): Promise<void> {
    if (!this.chat.isConfigured) {
      await this.tickets.addEvent(
        tx,
        ticket.id,
        TicketEventType.Escalated,
        `Escalated: ${reason}. Telegram is not configured, so no operator was notified; the escalation is recorded here only.`,
        { reason, notified: false },
        now,
      );
      this.logger.warn({ msg: 'ticket escalated; Telegram is not configured, nobody was notified', ticketId: ticket.id, ticketNumber: ticket.number, reason });
      return;
    }
    const notice = renderEscalationNotice({
      ticketNumber: ticket.number,
      customerName: ticket.customerName,
      customerEmail: ticket.customerEmail,
      subject: ticket.subject,
      summary: ticket.issueSummary,
      reason,
      draftReply: ticket.draftReply,
    });
    const message = await this.messages.insert(
      tx,
      {
        ticketId: ticket.id,
        direction: MessageDirection.Outbound,
        channel: MessageChannel.Telegram,
        kind: MessageKind.Escalation,
        messageId: null,
        rfcMessageId: null,
        inReplyTo: null,
        references: [],
        fromAddress: null,
        fromName: null,
        to: [this.chat.destination],
        cc: [],
        replyTo: null,
        subject: null,
        text: notice.text,
        html: notice.html,
        deliveryStatus: DeliveryStatus.Pending,
      },
      now,
    );
    await this.tickets.addEvent(tx, ticket.id, TicketEventType.Escalated, `Escalated: ${reason}`, { reason, notified: true }, now);
    await this.tickets.addEvent(tx, ticket.id, TicketEventType.DeliveryQueued, 'Operator notification queued for Telegram', { messageId: message.id, channel: MessageChannel.Telegram }, now);
  }

  /**
   * Escalates a ticket after the fact (its reply could not be delivered): status, reason and the
   * operators' notice, in the caller's transaction.
   */
  async escalate(tx: EntityManager, ticket: Ticket, reason: string, now = new Date()): Promise<void> {
    const before = ticket.status;
    await this.tickets.update(tx, ticket, { status: TicketStatus.Escalated, decision: Decision.EscalateToHuman, statusReason: reason }, now);
    if (before !== TicketStatus.Escalated) {
      await this.tickets.addEvent(tx, ticket.id, TicketEventType.StatusChanged, `${before} → ${TicketStatus.Escalated}`, { from: before, to: TicketStatus.Escalated }, now);
    }
    await this.notifyOperators(tx, ticket, reason, now);
  }
}
