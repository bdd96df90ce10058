import request from 'supertest';
import { Decision, TicketStatus } from '../../src/tickets/ticket-status.js';
import { createTestDatabase, type TestDatabase, testDatabases } from '../support/databases.js';
import { seedTicket } from '../support/seed.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const ADMIN_KEY = 'test-admin-key-0123456789';
const auth = { Authorization: `Bearer ${ADMIN_KEY}` };

describe.each(testDatabases())('tickets API on %s', (kind) => {
  let database: TestDatabase;
  let t: TestApp;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    t = await startTestApp({ DATABASE_URL: database.url, ADMIN_API_KEY: ADMIN_KEY });
    const base = Date.parse('2026-11-01T10:00:00Z');
    const seeds = [
      { subject: 'Возврат кроссовок', customerEmail: 'ivan@example.ru', customerName: 'Иван Петров', status: TicketStatus.Answered, decision: Decision.FullAnswer },
      { subject: 'Где мой заказ?', customerEmail: 'olga@example.ru', customerName: 'Ольга', status: TicketStatus.AwaitingCustomer, decision: Decision.NeedMoreInfo },
      { subject: 'Двойное списание', customerEmail: 'petr@example.com', customerName: null, status: TicketStatus.Escalated, decision: Decision.EscalateToHuman },
      { subject: 'Out of office', customerEmail: 'bot@example.com', customerName: null, status: TicketStatus.Ignored, decision: null },
      { subject: 'ВОЗВРАТ денег 100%_ok', customerEmail: 'anna@example.ru', customerName: 'Анна', status: TicketStatus.Received, decision: null },
    ];
    for (const [i, seed] of seeds.entries()) {
      await seedTicket(t.app, { ...seed, createdAt: new Date(base + i * 60_000) });
    }
    for (let i = 0; i < 25; i++) {
      await seedTicket(t.app, { subject: `Вопрос ${i}`, customerEmail: `bulk${i}@example.com`, createdAt: new Date(base - (i + 1) * 60_000) });
    }
  });

  afterAll(async () => {
    await t.close();
    await database.drop();
  });

  it('needs the bearer key when ADMIN_API_KEY is set', async () => {
    const missing = await request(t.http).get('/api/tickets').expect(401);
    expect(missing.body).toMatchObject({ statusCode: 401, code: 'UNAUTHORIZED' });
    expect(missing.headers['www-authenticate']).toContain('Bearer');
    await request(t.http).get('/api/tickets').set({ Authorization: 'Bearer wrong-key' }).expect(401);
    await request(t.http).get('/api/tickets').set({ Authorization: ADMIN_KEY }).expect(401);
    await request(t.http).get('/api/tickets').set(auth).expect(200);
  });

  it('needs the bearer key to change a status too, and changes nothing without it', async () => {
    const [ticket] = (await request(t.http).get('/api/tickets?status=escalated').set(auth).expect(200)).body.items;
    const refused = await request(t.http).patch(`/api/tickets/${ticket.id}`).send({ status: 'closed' }).expect(401);
    expect(refused.body).toMatchObject({ statusCode: 401, code: 'UNAUTHORIZED' });
    expect((await request(t.http).get(`/api/tickets/${ticket.id}`).set(auth).expect(200)).body.status).toBe('escalated');
  });

  it('lists newest first with paging', async () => {
    const first = await request(t.http).get('/api/tickets?limit=3').set(auth).expect(200);
    expect(first.body).toMatchObject({ total: 30, page: 1, limit: 3 });
    expect(first.body.items.map((i: { subject: string }) => i.subject)).toEqual(['ВОЗВРАТ денег 100%_ok', 'Out of office', 'Двойное списание']);
    const last = await request(t.http).get('/api/tickets?limit=20&page=2').set(auth).expect(200);
    expect(last.body.items).toHaveLength(10);
    expect(last.body.items.at(-1).subject).toBe('Вопрос 24');
    const beyond = await request(t.http).get('/api/tickets?page=9').set(auth).expect(200);
    expect(beyond.body).toMatchObject({ items: [], total: 30, page: 9 });
  });

  it('caps the page size', async () => {
    const res = await request(t.http).get('/api/tickets?limit=1000').set(auth).expect(200);
    expect(res.body.limit).toBe(100);
    expect(res.body.items).toHaveLength(30);
  });

  it('filters by status and decision', async () => {
    const escalated = await request(t.http).get('/api/tickets?status=escalated').set(auth).expect(200);
    expect(escalated.body.total).toBe(1);
    expect(escalated.body.items[0]).toMatchObject({ subject: 'Двойное списание', status: 'escalated', decision: 'escalate_to_human' });
    const info = await request(t.http).get('/api/tickets?decision=need_more_info').set(auth).expect(200);
    expect(info.body.items.map((i: { customerEmail: string }) => i.customerEmail)).toEqual(['olga@example.ru']);
  });

  it('searches subject, address and name case-insensitively in Cyrillic too', async () => {
    const bySubject = await request(t.http).get('/api/tickets').query({ q: 'возврат' }).set(auth).expect(200);
    expect(bySubject.body.items.map((i: { subject: string }) => i.subject).sort()).toEqual(['ВОЗВРАТ денег 100%_ok', 'Возврат кроссовок']);
    const byName = await request(t.http).get('/api/tickets').query({ q: 'ПЕТРОВ' }).set(auth).expect(200);
    expect(byName.body.items.map((i: { customerEmail: string }) => i.customerEmail)).toEqual(['ivan@example.ru']);
    const byAddress = await request(t.http).get('/api/tickets').query({ q: 'PETR@EXAMPLE' }).set(auth).expect(200);
    expect(byAddress.body.total).toBe(1);
    // LIKE wildcards in the query are literal characters.
    const literal = await request(t.http).get('/api/tickets').query({ q: '100%_' }).set(auth).expect(200);
    expect(literal.body.total).toBe(1);
    const none = await request(t.http).get('/api/tickets').query({ q: '%' }).set(auth).expect(200);
    expect(none.body.items.map((i: { subject: string }) => i.subject)).toEqual(['ВОЗВРАТ денег 100%_ok']);
  });

  it.each([
    ['status=unknown', 'status'],
    ['decision=maybe', 'decision'],
    ['page=0', 'page'],
    ['page=abc', 'page'],
    ['page=1e20', 'page'],
    ['page=1000001', 'page'],
    ['limit=-5', 'limit'],
    ['unexpected=1', 'unexpected'],
  ])('refuses %s naming the field', async (query, field) => {
    const res = await request(t.http).get(`/api/tickets?${query}`).set(auth).expect(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it('returns one ticket with its messages and events', async () => {
    const list = await request(t.http).get('/api/tickets?status=answered').set(auth).expect(200);
    const id = list.body.items[0].id;
    const res = await request(t.http).get(`/api/tickets/${id}`).set(auth).expect(200);
    expect(res.body).toMatchObject({
      id,
      number: expect.any(Number),
      status: 'answered',
      customerName: 'Иван Петров',
      articles: [],
      ai: { model: null },
    });
    expect(res.body.messages).toHaveLength(1);
    expect(res.body.messages[0]).toMatchObject({ direction: 'inbound', channel: 'email', messageId: `${id}@seed.example`, deliveryStatus: 'received' });
    expect(res.body.events[0]).toMatchObject({ type: 'ticket.received' });
  });

  it('answers 404 for an unknown id and 400 for a malformed one', async () => {
    const missing = await request(t.http).get('/api/tickets/0b6f5c1e-4a4e-4f6a-8f00-000000000000').set(auth).expect(404);
    expect(missing.body.code).toBe('NOT_FOUND');
    const malformed = await request(t.http).get('/api/tickets/not-a-uuid').set(auth).expect(400);
    expect(malformed.body.errors).toEqual([{ field: 'id', message: 'must be a UUID' }]);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await request(t.http).get('/api/nothing-here').set(auth).expect(404);
    expect(res.body).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
  });
});
