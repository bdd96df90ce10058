import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { uuidV7 } from '../common/uuid-v7.js';
import { type SqlParts, UnitOfWork } from '../database/unit-of-work.js';
import { Message } from './entities/message.entity.js';
import { TicketEvent, type TicketEventType } from './entities/ticket-event.entity.js';
import { Ticket } from './entities/ticket.entity.js';
import { type Decision, TicketStatus } from './ticket-status.js';

export interface NewTicket {
  status: TicketStatus;
  statusReason?: string | null;
  customerEmail: string;
  customerName: string | null;
  subject: string;
  now: Date;
}

export interface TicketFilter {
  status?: TicketStatus;
  decision?: Decision;
  q?: string;
  page: number;
  limit: number;
}

export type TicketPatch = Partial<
  Omit<Ticket, 'id' | 'number' | 'createdAt' | 'updatedAt' | 'searchText' | 'revision' | 'claimToken' | 'leaseExpiresAt'>
>;

const SQLITE_NEXT_NUMBER = { column: 'number', sql: 'SELECT COALESCE(MAX("number"), 0) + 1 FROM "tickets"' };

/** Tickets and their audit trail. Method names say which question they answer. */
@Injectable()
export class TicketsRepository {
  constructor(private readonly uow: UnitOfWork) {}

  /**
   * Inserts a ticket; the database assigns its number: a sequence on PostgreSQL, the next after
   * the highest on SQLite, computed inside the INSERT (SQLite has one writer, so two inserts never
   * read the same highest; the unique index would refuse a repeat anyway). One statement: the
   * schema's trigger, kept for rows inserted by hand, made it an UPDATE and a SELECT more.
   */
  async insert(tx: EntityManager, data: NewTicket): Promise<Ticket> {
    const ticket = newTicketRow(data);
    const [row] = await this.uow.insertRows(tx, Ticket, [ticket], 'number', this.uow.dialect === 'postgres' ? undefined : SQLITE_NEXT_NUMBER);
    ticket.number = Number(row.number);
    return ticket;
  }

  /**
   * PostgreSQL: a new ticket with its first message and events in one statement, atomic on its own
   * (no transaction: one round trip instead of five). A repeated Message-ID fails it whole, like
   * the transaction it replaces.
   */
  async insertWithMessage(data: NewTicket, message: (ticketId: string) => Message, events: readonly PendingEvent[]): Promise<Ticket> {
    const ticket = newTicketRow(data);
    const [row] = await this.uow.insertTogether([
      { target: Ticket, rows: [ticket], returning: 'number' },
      { target: Message, rows: [message(ticket.id)] },
      { target: TicketEvent, rows: eventRows(ticket.id, events) },
    ]);
    ticket.number = Number(row.number);
    return ticket;
  }

  // Queries are SQL through UnitOfWork's select/change: TypeORM's find() and update() build the same
  // statements at several times the cost of running them, and these run for every ticket.

  findById(id: string, tx?: EntityManager): Promise<Ticket | null> {
    return this.uow.readWithin(tx, (db) => this.uow.selectOne(db, Ticket, ({ v }) => `SELECT * FROM "tickets" WHERE "id" = ${v('id', id)}`));
  }

  findByNumber(number: number, tx?: EntityManager): Promise<Ticket | null> {
    return this.uow.readWithin(tx, (db) => this.uow.selectOne(db, Ticket, ({ v }) => `SELECT * FROM "tickets" WHERE "number" = ${v('number', number)}`));
  }

  /**
   * The ticket, locked until `tx` ends, for a change that depends on its current status (a
   * follow-up: a worker or an operator must not move it between the read and the write). On
   * PostgreSQL SELECT … FOR UPDATE; SQLite runs one transaction at a time, so a plain read is as good.
   */
  findForUpdate(tx: EntityManager, where: { id: string } | { number: number }): Promise<Ticket | null> {
    const lock = this.uow.dialect === 'postgres' ? ' FOR UPDATE' : '';
    return this.uow.selectOne(tx, Ticket, ({ v }) =>
      'id' in where ? `SELECT * FROM "tickets" WHERE "id" = ${v('id', where.id)}${lock}` : `SELECT * FROM "tickets" WHERE "number" = ${v('number', where.number)}${lock}`,
    );
  }

  /** Newest first; `q` matches subject, customer address and name, case-insensitively in any script. */
  list(filter: TicketFilter): Promise<{ items: Ticket[]; total: number }> {
    return this.uow.read(async (db) => {
      const query = db.createQueryBuilder(Ticket, 't');
      if (filter.status) query.andWhere('t.status = :status', { status: filter.status });
      if (filter.decision) query.andWhere('t.decision = :decision', { decision: filter.decision });
      if (filter.q) {
        query.andWhere(`t.search_text LIKE :q ESCAPE '\\'`, { q: `%${escapeLike(filter.q.toLowerCase())}%` });
      }
      query
        .orderBy('t.created_at', 'DESC')
        .addOrderBy('t.number', 'DESC')
        .skip((filter.page - 1) * filter.limit)
        .take(filter.limit);
      const [items, total] = await query.getManyAndCount();
      return { items, total };
    });
  }

  /** Writes `patch` and bumps updatedAt; keeps the search column in step with the fields it mirrors. */
  async update(tx: EntityManager, ticket: Ticket, patch: TicketPatch, now = new Date()): Promise<void> {
    const next = { ...patch, updatedAt: now } as Partial<Ticket>;
    if (patch.subject !== undefined || patch.customerName !== undefined || patch.customerEmail !== undefined) {
      next.searchText = searchTextOf(
        patch.subject ?? ticket.subject,
        patch.customerEmail ?? ticket.customerEmail,
        patch.customerName === undefined ? ticket.customerName : patch.customerName,
      );
    }
    await this.uow.change(tx, Ticket, ({ v, set }) => `UPDATE "tickets" SET ${set(next)} WHERE "id" = ${v('id', ticket.id)}`);
    Object.assign(ticket, next);
  }

  /**
   * Takes a ticket for processing when it waits (`received`) or when the process that held it
   * stopped renewing its lease. A conditional UPDATE: of two processes racing, one wins and gets
   * the ticket back; the other gets null.
   */
  async claim(id: string, claimToken: string, leaseExpiresAt: Date, now: Date): Promise<Ticket | null> {
    const [ticket] = await this.uow.updateReturning(
      Ticket,
      ({ v: p }) =>
        `UPDATE "tickets" SET "status" = ${p('status', TicketStatus.Processing)}, "claim_token" = ${p('claimToken', claimToken)}, ` +
        `"lease_expires_at" = ${p('leaseExpiresAt', leaseExpiresAt)}, "updated_at" = ${p('updatedAt', now)}, ` +
        `"processing_attempts" = "processing_attempts" + 1 ` +
        `WHERE "id" = ${p('id', id)} AND ("status" = ${p('status', TicketStatus.Received)} OR ` +
        `("status" = ${p('status', TicketStatus.Processing)} AND ("lease_expires_at" IS NULL OR "lease_expires_at" < ${p('leaseExpiresAt', now)})))`,
    );
    return ticket ?? null;
  }

  /** Extends a claim while work goes on; false when the claim was lost (taken over after expiry). */
  async renewLease(id: string, claimToken: string, leaseExpiresAt: Date): Promise<boolean> {
    const changed = await this.uow.read((db) => this.uow.change(db, Ticket, ({ v }) => `UPDATE "tickets" SET "lease_expires_at" = ${v('leaseExpiresAt', leaseExpiresAt)} ${whereClaimed(v, id, claimToken)}`));
    return changed === 1;
  }

  /**
   * Ends a claim with the final fields, but only while this worker still holds the claim and no
   * new customer message arrived since the analysis started (`revision`). False otherwise: the
   * caller then discards its result.
   */
  async completeClaim(
    tx: EntityManager,
    ticket: Ticket,
    claimToken: string,
    revision: number,
    patch: TicketPatch,
    now = new Date(),
  ): Promise<boolean> {
    // processingAttempts counts the claims since the last decision (MAX_PROCESSING_ATTEMPTS).
    const changed = await this.uow.change(
      tx,
      Ticket,
      ({ v, set }) =>
        `UPDATE "tickets" SET ${set({ ...patch, claimToken: null, leaseExpiresAt: null, processingAttempts: 0, updatedAt: now })} ` +
        `${whereClaimed(v, ticket.id, claimToken)} AND "revision" = ${v('revision', revision)}`,
    );
    if (changed !== 1) return false;
    Object.assign(ticket, patch, { claimToken: null, leaseExpiresAt: null, processingAttempts: 0, updatedAt: now });
    return true;
  }

  /** Gives a claimed ticket back to the queue (a newer message arrived, or shutdown). */
  async releaseClaim(id: string, claimToken: string, now = new Date()): Promise<boolean> {
    const changed = await this.uow.read((db) =>
      this.uow.change(
        db,
        Ticket,
        ({ v, set }) => `UPDATE "tickets" SET ${set({ status: TicketStatus.Received, claimToken: null, leaseExpiresAt: null, updatedAt: now })} ${whereClaimed(v, id, claimToken)}`,
      ),
    );
    return changed === 1;
  }

  /**
   * A new customer message on an existing ticket: bump the revision and send the ticket back for
   * analysis. A ticket being processed stays claimed; its worker sees the new revision and redoes
   * the analysis with the whole conversation.
   */
  async reopenForFollowUp(tx: EntityManager, ticket: Ticket, now: Date): Promise<void> {
    const status = ticket.status === TicketStatus.Processing ? TicketStatus.Processing : TicketStatus.Received;
    await this.uow.change(tx, Ticket, ({ v, set }) => `UPDATE "tickets" SET "revision" = "revision" + 1, ${set({ status, updatedAt: now })} WHERE "id" = ${v('id', ticket.id)}`);
    ticket.revision += 1;
    ticket.status = status;
    ticket.updatedAt = now;
  }

  /**
   * An operator's status change, made only if the ticket is as the operator's request found it
   * (same status, no newer customer message): false when it moved in between.
   */
  async changeStatusIf(tx: EntityManager, ticket: Ticket, to: TicketStatus, reason: string, now: Date): Promise<boolean> {
    const changed = await this.uow.change(
      tx,
      Ticket,
      ({ v, set }) =>
        `UPDATE "tickets" SET ${set({ status: to, statusReason: reason, updatedAt: now })} ` +
        `WHERE "id" = ${v('id', ticket.id)} AND "status" = ${v('status', ticket.status)} AND "revision" = ${v('revision', ticket.revision)}`,
    );
    if (changed !== 1) return false;
    Object.assign(ticket, { status: to, statusReason: reason, updatedAt: now });
    return true;
  }

  /** Tickets waiting for a worker: received, or processing under an expired lease (its process died). */
  async findClaimable(now: Date, limit: number): Promise<string[]> {
    const rows = await this.uow.read((db) =>
      this.uow.selectRaw(
        db,
        Ticket,
        ({ v }) =>
          `SELECT t."id" AS "id" FROM "tickets" t WHERE t."status" = ${v('status', TicketStatus.Received)} ` +
          `OR (t."status" = ${v('status', TicketStatus.Processing)} AND (t."lease_expires_at" IS NULL OR t."lease_expires_at" < ${v('leaseExpiresAt', now)})) ` +
          `ORDER BY t."created_at" LIMIT ${Math.trunc(limit)}`,
      ),
    );
    return rows.map((row) => String(row.id));
  }

  async addEvent(
    tx: EntityManager | undefined,
    ticketId: string,
    type: TicketEventType,
    message: string,
    data?: Record<string, unknown>,
    now = new Date(),
  ): Promise<void> {
    await this.uow.within(tx, (db) => this.addEvents(db, ticketId, [{ type, message, data, at: now }]));
  }

  /** Several events in one statement (the orchestrator writes its steps together). */
  async addEvents(tx: EntityManager, ticketId: string, events: readonly PendingEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.uow.insertRows(tx, TicketEvent, eventRows(ticketId, events));
  }

  eventsOf(ticketId: string, tx?: EntityManager): Promise<TicketEvent[]> {
    return this.uow.readWithin(tx, (db) =>
      this.uow.select(db, TicketEvent, ({ v }) => `SELECT * FROM "ticket_events" WHERE "ticket_id" = ${v('ticketId', ticketId)} ORDER BY "id"`),
    );
  }
}

/** An event not written yet, with the time it happened. */
export interface PendingEvent {
  type: TicketEventType;
  message: string;
  data?: Record<string, unknown>;
  at: Date;
}

/** A new ticket's row; `number` is the database's to assign. */
function newTicketRow(data: NewTicket): Ticket {
  return {
    id: uuidV7(data.now.getTime()),
    number: 0,
    status: data.status,
    decision: null,
    statusReason: data.statusReason ?? null,
    customerEmail: data.customerEmail,
    customerName: data.customerName,
    subject: data.subject,
    issueSummary: null,
    draftReply: null,
    confidence: null,
    language: null,
    kbArticles: null,
    aiModel: null,
    aiPromptVersion: null,
    aiPromptTokens: null,
    aiCompletionTokens: null,
    aiTotalTokens: null,
    aiLatencyMs: null,
    revision: 1,
    claimToken: null,
    leaseExpiresAt: null,
    processingAttempts: 0,
    searchText: searchTextOf(data.subject, data.customerEmail, data.customerName),
    createdAt: data.now,
    updatedAt: data.now,
  };
}

function eventRows(ticketId: string, events: readonly PendingEvent[]): TicketEvent[] {
  return events.map((e) => ({ ticketId, type: e.type, message: e.message, data: e.data ?? null, createdAt: e.at }) as TicketEvent);
}

export function searchTextOf(subject: string, email: string, name: string | null): string {
  return [subject, email, name ?? ''].join('\n').toLowerCase();
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (ch) => `\\${ch}`);
}

/** The WHERE clause of a change a claim's holder makes: this ticket, still processing, still under this claim. */
function whereClaimed(v: SqlParts<Ticket>['v'], id: string, claimToken: string): string {
  return `WHERE "id" = ${v('id', id)} AND "claim_token" = ${v('claimToken', claimToken)} AND "status" = ${v('status', TicketStatus.Processing)}`;
}
