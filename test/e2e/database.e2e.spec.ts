import { existsSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import type { Logger } from 'typeorm';
import { MIGRATIONS } from '../../src/database/data-source.options.js';
import { LeanerIndexes1795651200000 } from '../../src/database/migrations/1795651200000-leaner-indexes.js';
import { UnitOfWork } from '../../src/database/unit-of-work.js';
import { Message } from '../../src/tickets/entities/message.entity.js';
import { Ticket } from '../../src/tickets/entities/ticket.entity.js';
import { MessagesRepository } from '../../src/tickets/messages.repository.js';
import { TicketsRepository } from '../../src/tickets/tickets.repository.js';
import { TicketStatus } from '../../src/tickets/ticket-status.js';
import { createTestDatabase, type TestDatabase, testDatabases } from '../support/databases.js';
import { seedTicket } from '../support/seed.js';
import { startTestApp } from '../support/test-app.js';

describe.each(testDatabases())('database on %s', (kind) => {
  let database: TestDatabase;

  beforeEach(async () => {
    database = await createTestDatabase(kind);
  });

  afterEach(async () => {
    await database.drop();
  });

  it('applies the migrations to a fresh database at boot', async () => {
    if (kind === 'sqlite') expect(existsSync(database.url.slice('sqlite:'.length))).toBe(false);
    const t = await startTestApp({ DATABASE_URL: database.url });
    try {
      const applied = await t.dataSource.query(`SELECT "name" FROM "migrations"`);
      expect(applied.map((row: { name: string }) => row.name)).toEqual(['InitialSchema1764140000000', 'LeanerIndexes1795651200000']);
      expect(await t.dataSource.showMigrations()).toBe(false);
      for (const table of ['tickets', 'messages', 'ticket_events']) {
        expect(await t.dataSource.createQueryRunner().hasTable(table)).toBe(true);
      }
      if (kind === 'sqlite') expect(existsSync(join(database.url.slice('sqlite:'.length)))).toBe(true);
    } finally {
      await t.close();
    }
  });

  it('keeps tickets across a restart and does not migrate twice', async () => {
    const first = await startTestApp({ DATABASE_URL: database.url });
    const ticket = await seedTicket(first.app, { subject: 'Переживёт перезапуск', customerEmail: 'a@example.ru' });
    await first.close();

    const second = await startTestApp({ DATABASE_URL: database.url });
    try {
      const res = await request(second.http).get(`/api/tickets/${ticket.id}`).expect(200);
      expect(res.body).toMatchObject({ subject: 'Переживёт перезапуск', number: ticket.number });
      const applied = await second.dataSource.query(`SELECT "name" FROM "migrations"`);
      expect(applied).toHaveLength(MIGRATIONS.length);
    } finally {
      await second.close();
    }
  });

  it('reverts the latest migration and applies it again at the next boot, rows in place', async () => {
    const first = await startTestApp({ DATABASE_URL: database.url });
    const ticket = await seedTicket(first.app, { subject: 'До миграции', customerEmail: 'b@example.ru' });
    await first.dataSource.undoLastMigration({ transaction: 'each' });
    expect(await first.dataSource.showMigrations()).toBe(true);
    await first.close();

    const second = await startTestApp({ DATABASE_URL: database.url });
    try {
      expect(await second.dataSource.showMigrations()).toBe(false);
      const res = await request(second.http).get(`/api/tickets/${ticket.id}`).expect(200);
      expect(res.body).toMatchObject({ subject: 'До миграции', number: ticket.number });
      expect(await second.app.get(MessagesRepository).findTicketIdByMessageIds([`${ticket.id}@seed.example`])).toBe(ticket.id);
    } finally {
      await second.close();
    }
  });

  it('completes a half-done index migration when it runs again', async () => {
    const t = await startTestApp({ DATABASE_URL: database.url });
    const runner = t.dataSource.createQueryRunner();
    const indexes = async (): Promise<string[]> => {
      const rows: Array<{ name: string }> =
        kind === 'postgres'
          ? await runner.query(`SELECT indexname AS name FROM pg_indexes WHERE tablename IN ('tickets', 'messages')`)
          : await runner.query(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('tickets', 'messages')`);
      return rows.map((row) => row.name).filter((name) => name.startsWith('ix_'));
    };
    try {
      // As if the previous run stopped after building one new index and before dropping the old.
      await runner.query(`DROP INDEX "ix_tickets_status_created"`);
      await runner.query(`CREATE INDEX "ix_messages_message_id" ON "messages" ("message_id")`);
      await new LeanerIndexes1795651200000().up(runner);
      expect((await indexes()).sort()).toEqual([
        'ix_messages_outbound_message_id',
        'ix_messages_outbox',
        'ix_messages_recipient',
        'ix_messages_ticket',
        'ix_tickets_created_at',
        'ix_tickets_status_created',
      ]);
    } finally {
      await runner.release();
      await t.close();
    }
  });

  it('numbers tickets uniquely and in order under concurrent inserts', async () => {
    const t = await startTestApp({ DATABASE_URL: database.url });
    try {
      const tickets = t.app.get(TicketsRepository);
      const uow = t.app.get(UnitOfWork);
      const created = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          uow.transaction((tx) =>
            tickets.insert(tx, { status: TicketStatus.Received, customerEmail: `c${i}@example.ru`, customerName: null, subject: `#${i}`, now: new Date() }),
          ),
        ),
      );
      const numbers = created.map((ticket) => ticket.number).sort((a, b) => a - b);
      expect(new Set(numbers).size).toBe(40);
      expect(numbers[0]).toBe(1);
      expect(numbers[39]).toBe(40);
    } finally {
      await t.close();
    }
  });
  it('claims a waiting ticket once, reading back the whole row in the same statement', async () => {
    const t = await startTestApp({ DATABASE_URL: database.url });
    try {
      const tickets = t.app.get(TicketsRepository);
      const uow = t.app.get(UnitOfWork);
      const stored = await uow.transaction((tx) =>
        tickets.insert(tx, { status: TicketStatus.Received, customerEmail: 'claim@example.ru', customerName: 'Ольга', subject: 'Заявка', now: new Date() }),
      );
      const now = new Date();
      const lease = new Date(now.getTime() + 60_000);
      const claims = await Promise.all([tickets.claim(stored.id, 'token-a', lease, now), tickets.claim(stored.id, 'token-b', lease, now)]);
      const won = claims.filter((claim) => claim !== null);
      expect(won).toHaveLength(1);
      const [claimed] = won;
      expect(claimed).toMatchObject({
        id: stored.id,
        number: stored.number,
        status: TicketStatus.Processing,
        customerName: 'Ольга',
        subject: 'Заявка',
        processingAttempts: 1,
        revision: 1,
        kbArticles: null,
      });
      expect(['token-a', 'token-b']).toContain(claimed!.claimToken);
      expect(claimed!.leaseExpiresAt).toEqual(lease);
      expect(claimed!.createdAt).toBeInstanceOf(Date);

      // Under a live lease nobody else gets it; once the lease lapses, it can be taken over.
      expect(await tickets.claim(stored.id, 'token-c', lease, now)).toBeNull();
      const later = new Date(lease.getTime() + 1);
      const takenOver = await tickets.claim(stored.id, 'token-c', new Date(later.getTime() + 60_000), later);
      expect(takenOver).toMatchObject({ claimToken: 'token-c', processingAttempts: 2 });
    } finally {
      await t.close();
    }
  });

  // The outbox worker and the queue sweep poll these queries for the life of the service: a plan
  // that reads every row would grow with the whole history of mail.
  it('writes and reads rows through SQL as TypeORM would: values converted per column, changed rows counted', async () => {
    const t = await startTestApp({ DATABASE_URL: database.url });
    try {
      const uow = t.app.get(UnitOfWork);
      const tickets = t.app.get(TicketsRepository);
      const stored = await seedTicket(t.app, { subject: 'Колонки', customerEmail: 'columns@example.ru' });
      const decidedAt = new Date('2026-11-30T12:34:56.789Z');
      const articles = [{ id: 'returns/how-to-return', title: 'Как вернуть товар', score: 3.5, usedByAi: true }];
      const changed = await uow.transaction((tx) =>
        uow.change(tx, Ticket, ({ v, set }) => `UPDATE "tickets" SET ${set({ kbArticles: articles, confidence: 0.75, draftReply: null, customerName: undefined, updatedAt: decidedAt })} WHERE "id" = ${v('id', stored.id)}`),
      );
      expect(changed).toBe(1);
      expect(await uow.read((db) => uow.change(db, Ticket, ({ v }) => `UPDATE "tickets" SET "confidence" = 0 WHERE "id" = ${v('id', 'no-such-ticket')}`))).toBe(0);

      // Read back through the raw path and through TypeORM itself: the same entity.
      const raw = await tickets.findById(stored.id);
      const orm = await t.dataSource.manager.findOneBy(Ticket, { id: stored.id });
      expect(raw).toEqual(orm);
      expect(raw).toMatchObject({ kbArticles: articles, confidence: 0.75, draftReply: null, updatedAt: decidedAt, number: stored.number });
      expect(raw!.createdAt).toBeInstanceOf(Date);
      const messages = await t.app.get(MessagesRepository).ofTicket(stored.id);
      expect(messages).toEqual(await t.dataSource.manager.find(Message, { where: { ticketId: stored.id } }));
      expect(messages[0]).toMatchObject({ references: [], to: ['support@shop.example'], deliveryStatus: 'received' });
    } finally {
      await t.close();
    }
  });

  it('polls the outbox and the queue, and looks up Message-IDs, through indexes, never a scan of the table', async () => {
    const t = await startTestApp({ DATABASE_URL: database.url });
    const captured: Array<{ sql: string; params: unknown[] }> = [];
    const dataSource = t.dataSource as unknown as { logger: Logger };
    const original = dataSource.logger;
    // TypeORM's Logger interface: every query the repositories build passes through logQuery.
    dataSource.logger = {
      logQuery: (sql, params) => void captured.push({ sql, params: Array.isArray(params) ? params : [] }),
      logQueryError: () => undefined,
      logQuerySlow: () => undefined,
      logSchemaBuild: () => undefined,
      logMigration: () => undefined,
      log: () => undefined,
    };
    try {
      const messages = t.app.get(MessagesRepository);
      const tickets = t.app.get(TicketsRepository);
      const selectsOf = async (call: () => Promise<unknown>) => {
        captured.length = 0;
        await call();
        const selects = captured.filter((q) => q.sql.trimStart().startsWith('SELECT'));
        expect(selects.length).toBeGreaterThan(0);
        return selects;
      };
      const polls = [
        ...(await selectsOf(() => messages.findDueOutbound(new Date(), 10))),
        ...(await selectsOf(() => messages.nextOutboundDueAt())),
        ...(await selectsOf(() => messages.findAbandonedAttempts(new Date(), 10))),
        ...(await selectsOf(() => tickets.findClaimable(new Date(), 10))),
        // Every inbound e-mail: the duplicate check and threading by In-Reply-To/References.
        ...(await selectsOf(() => messages.findInboundByMessageId('x@example.com'))),
        ...(await selectsOf(() => messages.findTicketIdByMessageIds(['x@example.com', 'y@example.com']))),
        // Every automatic reply: the AUTO_REPLY_LIMIT count.
        ...(await selectsOf(() => messages.countAutomaticEmailsSince('x@example.com', new Date()))),
      ];
      // The operators' list filtered by status, newest first (a short page: TypeORM skips the count).
      const list = (await selectsOf(() => tickets.list({ status: TicketStatus.Escalated, page: 1, limit: 20 }))).filter((q) =>
        q.sql.includes('FROM "tickets"'),
      );
      dataSource.logger = original;
      expect(list).toHaveLength(1);
      // The outbox worker's own polls may have run meanwhile: they are checked too, once each.
      const selects = [...new Map([...polls, ...list].map((q) => [q.sql, q])).values()];

      if (kind === 'postgres') {
        // With sequential scans priced out, PostgreSQL still picks one only where no index can
        // serve the query (the tables are empty, so it would prefer them otherwise).
        const runner = t.dataSource.createQueryRunner();
        try {
          await runner.query('SET enable_seqscan = off');
          for (const { sql, params } of selects) {
            const plan = ((await runner.query(`EXPLAIN ${sql}`, params)) as Array<{ 'QUERY PLAN': string }>).map((row) => row['QUERY PLAN']);
            expect(plan.some((line) => /Index (Only )?Scan|Bitmap Index Scan/.test(line)), `${sql}\n${plan.join('\n')}`).toBe(true);
            expect(plan.filter((line) => line.includes('Seq Scan')), `${sql}\n${plan.join('\n')}`).toEqual([]);
          }
        } finally {
          await runner.release();
        }
        return;
      }
      for (const { sql, params } of selects) {
        const plan = (await t.dataSource.query(`EXPLAIN QUERY PLAN ${sql}`, params)) as Array<{ detail: string }>;
        const details = plan.map((row) => row.detail);
        expect(details.some((detail) => /USING (COVERING )?INDEX/.test(detail)), `${sql}\n${details.join('\n')}`).toBe(true);
        expect(details.filter((detail) => /^SCAN /.test(detail)), `${sql}\n${details.join('\n')}`).toEqual([]);
        // The list walks (status, created_at) newest first: only ties of its last term get sorted,
        // never every ticket of the status.
        if (sql === list[0].sql) expect(details).not.toContain('USE TEMP B-TREE FOR ORDER BY');
      }
    } finally {
      dataSource.logger = original;
      await t.close();
    }
  });
});
