import { existsSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { UnitOfWork } from '../../src/database/unit-of-work.js';
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
      expect(applied.map((row: { name: string }) => row.name)).toEqual(['InitialSchema1764140000000']);
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
      expect(applied).toHaveLength(1);
    } finally {
      await second.close();
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
});
