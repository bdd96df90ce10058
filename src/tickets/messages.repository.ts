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

/** The columns the orchestrator reads of a conversation: all but HTML, headers and attachments. */
const CONVERSATION_COLUMNS = [
  'id', 'ticket_id', 'direction', 'channel', 'kind', 'message_id', 'rfc_message_id', 'in_reply_to', 'references',
  'from_address', 'from_name', 'reply_to', 'subject', 'text', 'clean_text', 'received_at', 'delivery_status', 'created_at',
]
  .map((column) => `m."${column}"`)
  .join(', ');

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

  // Queries are SQL through UnitOfWork's select/change: TypeORM's find() and update() build the same
  // statements at several times the cost of running them, and these run for every e-mail.

  findInboundByMessageId(messageId: string, tx?: EntityManager): Promise<Message | null> {
    return this.uow.readWithin(tx, (db) =>
      this.uow.selectOne(db, Message, ({ v }) => `SELECT m.* FROM "messages" m WHERE ${IS_INBOUND} AND m."message_id" = ${v('messageId', messageId)} LIMIT 1`),
    );
  }

  /**
   * The ticket that holds any of these Message-IDs (ours or the customer's), most recent first.
   * Inbound and outbound ids live in two partial indexes: one OR branch for each, so both
   * databases read the two (SQLite's OR optimisation, PostgreSQL's BitmapOr) in one statement.
   */
  async findTicketIdByMessageIds(messageIds: string[], tx?: EntityManager): Promise<string | null> {
    if (messageIds.length === 0) return null;
    const ids = messageIds.slice(0, 100);
    const [match] = await this.uow.readWithin(tx, (db) =>
      this.uow.selectRaw(db, Message, ({ v }) => {
        const list = () => ids.map((id) => v('messageId', id)).join(', ');
        return (
          `SELECT m."ticket_id" AS "ticketId" FROM "messages" m ` +
          `WHERE (${IS_INBOUND} AND m."message_id" IN (${list()})) OR (${IS_OUTBOUND} AND m."message_id" IN (${list()})) ` +
          `ORDER BY m."created_at" DESC LIMIT 1`
        );
      }),
    );
    return match ? String(match.ticketId) : null;
  }

  ofTicket(ticketId: string, tx?: EntityManager): Promise<Message[]> {
    return this.uow.readWithin(tx, (db) =>
      this.uow.select(db, Message, ({ v }) => `SELECT m.* FROM "messages" m WHERE m."ticket_id" = ${v('ticketId', ticketId)} ORDER BY m."created_at", m."id"`),
    );
  }

  /**
   * What the orchestrator reads of a ticket's messages, oldest first: everything but the stored
   * HTML, headers and attachments (the heavy columns it never uses).
   */
  conversationOf(ticketId: string, tx?: EntityManager): Promise<Message[]> {
    return this.uow.readWithin(tx, (db) =>
      this.uow.select(
        db,
        Message,
        ({ v }) => `SELECT ${CONVERSATION_COLUMNS} FROM "messages" m WHERE m."ticket_id" = ${v('ticketId', ticketId)} ORDER BY m."created_at", m."id"`,
      ),
    );
  }

  findById(id: string, tx?: EntityManager): Promise<Message | null> {
    return this.uow.readWithin(tx, (db) => this.uow.selectOne(db, Message, ({ v }) => `SELECT m.* FROM "messages" m WHERE m."id" = ${v('id', id)}`));
  }

  /** Automatic e-mails to one address since `since` that went out or are about to (not failed ones). */
  async countAutomaticEmailsSince(recipientKey: string, since: Date, tx?: EntityManager): Promise<number> {
    const counted = [DeliveryStatus.Pending, DeliveryStatus.Sending, DeliveryStatus.Sent, DeliveryStatus.Uncertain];
    const [row] = await this.uow.readWithin(tx, (db) =>
      this.uow.selectRaw(
        db,
        Message,
        ({ v }) =>
          `SELECT COUNT(*) AS "count" FROM "messages" m WHERE m."recipient_key" = ${v('recipientKey', recipientKey)} AND ${IS_OUTBOUND} ` +
          `AND m."channel" = ${v('channel', MessageChannel.Email)} AND m."created_at" >= ${v('createdAt', since)} ` +
          `AND m."delivery_status" IN (${counted.map((status) => v('deliveryStatus', status)).join(', ')})`,
      ),
    );
    return Number(row?.count ?? 0);
  }

  // ---- outbox -------------------------------------------------------------------------------

  /** Outbound messages whose next attempt is due, oldest first. */
  async findDueOutbound(now: Date, limit: number): Promise<string[]> {
    const rows = await this.uow.read((db) =>
      this.uow.selectRaw(
        db,
        Message,
        ({ v }) =>
          `SELECT m."id" AS "id" FROM "messages" m WHERE ${IS_OUTBOUND} AND m."delivery_status" = ${v('deliveryStatus', DeliveryStatus.Pending)} ` +
          `AND (m."next_attempt_at" IS NULL OR m."next_attempt_at" <= ${v('nextAttemptAt', now)}) ORDER BY m."created_at" LIMIT ${Math.trunc(limit)}`,
      ),
    );
    return rows.map((row) => String(row.id));
  }

  /** The earliest time a pending outbound message becomes due (a new one is due at once), for the worker's timer. */
  async nextOutboundDueAt(): Promise<Date | null> {
    const [row] = await this.uow.read((db) =>
      this.uow.selectRaw(
        db,
        Message,
        ({ v }) =>
          `SELECT MIN(COALESCE(m."next_attempt_at", m."created_at")) AS "due" FROM "messages" m ` +
          `WHERE ${IS_OUTBOUND} AND m."delivery_status" = ${v('deliveryStatus', DeliveryStatus.Pending)}`,
      ),
    );
    const due = row?.due as string | Date | null | undefined;
    if (!due) return null;
    return due instanceof Date ? due : parseStoredDate(due);
  }

  /**
   * Records an attempt before the network call: the message moves to `sending` with a lease and an
   * incremented attempt count. Only one process can win this conditional update.
   */
  async claimForDelivery(id: string, claimToken: string, leaseExpiresAt: Date, now: Date): Promise<Message | null> {
    const [message] = await this.uow.updateReturning(
      Message,
      ({ v: p }) =>
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
    const changed = await this.uow.change(
      tx,
      Message,
      ({ v, set }) =>
        `UPDATE "messages" SET ${set({ ...patch, claimToken: null, leaseExpiresAt: null, updatedAt: now })} ` +
        `WHERE "id" = ${v('id', id)} AND "claim_token" = ${v('claimToken', claimToken)} AND "delivery_status" = ${v('deliveryStatus', DeliveryStatus.Sending)}`,
    );
    return changed === 1;
  }

  /** Attempts that were recorded but never finished: their process died mid-send. */
  findAbandonedAttempts(now: Date, limit: number): Promise<Message[]> {
    return this.uow.read((db) =>
      this.uow.select(
        db,
        Message,
        ({ v }) =>
          `SELECT m.* FROM "messages" m WHERE ${IS_OUTBOUND} AND m."delivery_status" = ${v('deliveryStatus', DeliveryStatus.Sending)} ` +
          `AND m."lease_expires_at" < ${v('leaseExpiresAt', now)} ORDER BY m."created_at" LIMIT ${Math.trunc(limit)}`,
      ),
    );
  }

  /** Moves an abandoned attempt to `status`, if nobody else reconciled it first. */
  async reconcileAbandoned(
    tx: EntityManager,
    message: Message,
    patch: Partial<Pick<Message, 'deliveryStatus' | 'lastError' | 'providerResponse' | 'sentAt' | 'nextAttemptAt'>>,
    now: Date,
  ): Promise<boolean> {
    const changed = await this.uow.change(
      tx,
      Message,
      ({ v, set }) =>
        `UPDATE "messages" SET ${set({ ...patch, claimToken: null, leaseExpiresAt: null, updatedAt: now })} ` +
        `WHERE "id" = ${v('id', message.id)} AND "delivery_status" = ${v('deliveryStatus', DeliveryStatus.Sending)} ` +
        `AND ${message.claimToken === null ? '"claim_token" IS NULL' : `"claim_token" = ${v('claimToken', message.claimToken)}`}`,
    );
    return changed === 1;
  }
}

/** SQLite returns aggregate datetimes as the stored UTC text. */
function parseStoredDate(value: string): Date {
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(' ', 'T')}Z`);
}
