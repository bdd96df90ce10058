import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { uuidV7 } from '../common/uuid-v7.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { DeliveryStatus, Message, MessageChannel, MessageDirection } from './entities/message.entity.js';

export type NewMessage = Omit<
  Message,
  | 'id'
  | 'attempts'
  | 'nextAttemptAt'
  | 'claimToken'
  | 'leaseExpiresAt'
  | 'lastError'
  | 'providerResponse'
  | 'externalId'
  | 'sentAt'
  | 'createdAt'
  | 'updatedAt'
  | 'recipientKey'
  | 'ignoredReason'
  | 'cleanText'
  | 'headers'
  | 'attachments'
  | 'receivedAt'
  | 'html'
> &
  Partial<Pick<Message, 'recipientKey' | 'ignoredReason' | 'cleanText' | 'headers' | 'attachments' | 'receivedAt' | 'html' | 'nextAttemptAt'>>;

/**
 * The partial indexes (`WHERE direction = 'outbound'` for the outbox and our Message-IDs, `'inbound'`
 * for the customers' Message-IDs) serve a bound `direction = ?` only by SQLite planning the
 * statement again for every value bound (about 5× the cost of the query itself here), and never
 * in PostgreSQL's generic plans; so these queries carry the literal (a constant of ours, never input).
 */
const IS_OUTBOUND = `m.direction = '${MessageDirection.Outbound}'`;
const IS_INBOUND = `m.direction = '${MessageDirection.Inbound}'`;

/** Postgres and SQLite both name the violated unique index in their error text. */
export function isInboundMessageIdConflict(error: unknown): boolean {
  const text = error instanceof Error ? `${error.message} ${(error as { detail?: string }).detail ?? ''}` : '';
  return (
    text.includes('uq_messages_inbound_message_id') ||
    (text.includes('UNIQUE constraint failed') && text.includes('messages.message_id'))
  );
}

/** A new message's row, with everything the database would otherwise default. */
export function newMessageRow(data: NewMessage, now: Date): Message {
  return {
    recipientKey: null,
    ignoredReason: null,
    cleanText: null,
    headers: null,
    attachments: null,
    receivedAt: null,
    html: null,
    nextAttemptAt: null,
    ...data,
    id: uuidV7(now.getTime()),
    attempts: 0,
    claimToken: null,
    leaseExpiresAt: null,
    lastError: null,
    providerResponse: null,
    externalId: null,
    sentAt: null,
    createdAt: now,
    updatedAt: now,
  };
}

/** Messages of tickets: inbound mail, and the outbox of replies and escalations. */
@Injectable()
export class MessagesRepository {
  constructor(private readonly uow: UnitOfWork) {}

  async insert(tx: EntityManager, data: NewMessage, now: Date): Promise<Message> {
    const message = newMessageRow(data, now);
    await this.uow.insertRows(tx, Message, [message]);
    return message;
  }

  findInboundByMessageId(messageId: string, tx?: EntityManager): Promise<Message | null> {
    return this.uow.readWithin(tx, (db) =>
      db.createQueryBuilder(Message, 'm').where(IS_INBOUND).andWhere('m.message_id = :messageId', { messageId }).getOne(),
    );
  }

  /**
   * The ticket that holds any of these Message-IDs (ours or the customer's), most recent first.
   * Inbound and outbound ids live in two partial indexes: one OR branch for each, so both
   * databases read the two (SQLite's OR optimisation, PostgreSQL's BitmapOr) in one statement.
   */
  async findTicketIdByMessageIds(messageIds: string[], tx?: EntityManager): Promise<string | null> {
    if (messageIds.length === 0) return null;
    return this.uow.readWithin(tx, async (db) => {
      const match = await db
        .createQueryBuilder(Message, 'm')
        .select('m.ticket_id', 'ticketId')
        .where(`((${IS_INBOUND} AND m.message_id IN (:...ids)) OR (${IS_OUTBOUND} AND m.message_id IN (:...ids)))`, {
          ids: messageIds.slice(0, 100),
        })
        .orderBy('m.created_at', 'DESC')
        .limit(1)
        .getRawOne<{ ticketId: string }>();
      return match?.ticketId ?? null;
    });
  }

  ofTicket(ticketId: string, tx?: EntityManager): Promise<Message[]> {
    return this.uow.readWithin(tx, (db) =>
      db.find(Message, { where: { ticketId }, order: { createdAt: 'ASC', id: 'ASC' } }),
    );
  }

  /**
   * What the orchestrator reads of a ticket's messages, oldest first: everything but the stored
   * HTML, headers and attachments (the heavy columns it never uses).
   */
  conversationOf(ticketId: string, tx?: EntityManager): Promise<Message[]> {
    return this.uow.readWithin(tx, (db) =>
      db.find(Message, {
        select: {
          id: true,
          ticketId: true,
          direction: true,
          channel: true,
          kind: true,
          messageId: true,
          rfcMessageId: true,
          inReplyTo: true,
          references: true,
          fromAddress: true,
          fromName: true,
          replyTo: true,
          subject: true,
          text: true,
          cleanText: true,
          receivedAt: true,
          deliveryStatus: true,
          createdAt: true,
        },
        where: { ticketId },
        order: { createdAt: 'ASC', id: 'ASC' },
      }),
    );
  }

  findById(id: string, tx?: EntityManager): Promise<Message | null> {
    return this.uow.readWithin(tx, (db) => db.findOneBy(Message, { id }));
  }

  /** Automatic e-mails to one address since `since` that went out or are about to (not failed ones). */
  countAutomaticEmailsSince(recipientKey: string, since: Date, tx?: EntityManager): Promise<number> {
    return this.uow.readWithin(tx, (db) =>
      db
        .createQueryBuilder(Message, 'm')
        .where('m.recipient_key = :recipientKey', { recipientKey })
        .andWhere(IS_OUTBOUND)
        .andWhere('m.channel = :email', { email: MessageChannel.Email })
        .andWhere('m.created_at >= :since', { since })
        .andWhere('m.delivery_status IN (:...counted)', {
          counted: [DeliveryStatus.Pending, DeliveryStatus.Sending, DeliveryStatus.Sent, DeliveryStatus.Uncertain],
        })
        .getCount(),
    );
  }

  // ---- outbox -------------------------------------------------------------------------------

  /** Outbound messages whose next attempt is due, oldest first. */
  findDueOutbound(now: Date, limit: number): Promise<string[]> {
    return this.uow.read(async (db) => {
      const rows = await db
        .createQueryBuilder(Message, 'm')
        .select('m.id', 'id')
        .where(IS_OUTBOUND)
        .andWhere('m.delivery_status = :pending', { pending: DeliveryStatus.Pending })
        .andWhere('(m.next_attempt_at IS NULL OR m.next_attempt_at <= :now)', { now })
        .orderBy('m.created_at', 'ASC')
        .limit(limit)
        .getRawMany<{ id: string }>();
      return rows.map((row) => row.id);
    });
  }

  /** The earliest time a pending outbound message becomes due (a new one is due at once), for the worker's timer. */
  nextOutboundDueAt(): Promise<Date | null> {
    return this.uow.read(async (db) => {
      const row = await db
        .createQueryBuilder(Message, 'm')
        .select('MIN(COALESCE(m.next_attempt_at, m.created_at))', 'due')
        .where(IS_OUTBOUND)
        .andWhere('m.delivery_status = :pending', { pending: DeliveryStatus.Pending })
        .getRawOne<{ due: string | Date | null }>();
      if (!row?.due) return null;
      return row.due instanceof Date ? row.due : parseStoredDate(row.due);
    });
  }

  /**
   * Records an attempt before the network call: the message moves to `sending` with a lease and an
   * incremented attempt count. Only one process can win this conditional update.
   */
  async claimForDelivery(id: string, claimToken: string, leaseExpiresAt: Date, now: Date): Promise<Message | null> {
    const [message] = await this.uow.updateReturning(
      Message,
      (p) =>
        `UPDATE "messages" SET "delivery_status" = ${p('deliveryStatus', DeliveryStatus.Sending)}, "claim_token" = ${p('claimToken', claimToken)}, ` +
        `"lease_expires_at" = ${p('leaseExpiresAt', leaseExpiresAt)}, "attempts" = "attempts" + 1, "updated_at" = ${p('updatedAt', now)} ` +
        `WHERE "id" = ${p('id', id)} AND "delivery_status" = ${p('deliveryStatus', DeliveryStatus.Pending)} ` +
        `AND ("next_attempt_at" IS NULL OR "next_attempt_at" <= ${p('nextAttemptAt', now)})`,
    );
    return message ?? null;
  }

  /** Ends a delivery attempt held under `claimToken`. */
  async finishAttempt(
    tx: EntityManager,
    id: string,
    claimToken: string,
    patch: Partial<Pick<Message, 'deliveryStatus' | 'nextAttemptAt' | 'lastError' | 'providerResponse' | 'externalId' | 'sentAt' | 'messageId'>>,
    now: Date,
  ): Promise<boolean> {
    const result = await tx.update(
      Message,
      { id, claimToken, deliveryStatus: DeliveryStatus.Sending },
      { ...patch, claimToken: null, leaseExpiresAt: null, updatedAt: now },
    );
    return result.affected === 1;
  }

  /** Attempts that were recorded but never finished: their process died mid-send. */
  findAbandonedAttempts(now: Date, limit: number): Promise<Message[]> {
    return this.uow.read((db) =>
      db
        .createQueryBuilder(Message, 'm')
        .where(IS_OUTBOUND)
        .andWhere('m.delivery_status = :sending', { sending: DeliveryStatus.Sending })
        .andWhere('m.lease_expires_at < :now', { now })
        .orderBy('m.created_at', 'ASC')
        .limit(limit)
        .getMany(),
    );
  }

  /** Moves an abandoned attempt to `status`, if nobody else reconciled it first. */
  async reconcileAbandoned(
    tx: EntityManager,
    message: Message,
    patch: Partial<Pick<Message, 'deliveryStatus' | 'lastError' | 'providerResponse' | 'sentAt' | 'nextAttemptAt'>>,
    now: Date,
  ): Promise<boolean> {
    const result = await tx.update(
      Message,
      { id: message.id, claimToken: message.claimToken ?? undefined, deliveryStatus: DeliveryStatus.Sending },
      { ...patch, claimToken: null, leaseExpiresAt: null, updatedAt: now },
    );
    return result.affected === 1;
  }
}

/** SQLite returns aggregate datetimes as the stored UTC text. */
function parseStoredDate(value: string): Date {
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(' ', 'T')}Z`);
}
