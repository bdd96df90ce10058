import { TicketQueue } from '../../src/orchestrator/ticket-queue.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { customerEmail, postEmail } from '../support/http.js';
import { dbQuery, waitUntil } from '../support/ingestion-helpers.js';
import { decisionReply, type Stack, startStack } from '../support/stack.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const EMAILS = 30;

/** What InProcessTicketQueue offers besides enqueue: a sweep for claimable tickets, on demand. */
interface Sweeping {
  sweep(): Promise<void>;
}

/**
 * Two service processes on one PostgreSQL database (two replicas behind a load balancer): every
 * ticket is claimed by exactly one of them, so each e-mail is analysed and answered once.
 * PostgreSQL only (TEST_POSTGRES_URL): the SQLite file is not meant for several writers.
 */
describe.runIf(process.env.TEST_POSTGRES_URL)('two processes on one PostgreSQL database (needs TEST_POSTGRES_URL)', () => {
  let database: TestDatabase;
  let stack: Stack;
  let second: TestApp;

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    stack = await startStack({ database, gigachat: { scope: 'GIGACHAT_API_B2B', latencyMs: 100 }, smtp: false });
    second = await startTestApp(stack.env);
  });

  afterAll(async () => {
    await second?.close();
    await stack?.close();
    await database?.drop();
  });

  it(`${EMAILS} e-mails posted to both: each ticket claimed once, ${EMAILS} GigaChat calls, all decided`, async () => {
    const gigachat = stack.gigachat!;
    gigachat.setResponder(() =>
      decisionReply({ decision: 'escalate_to_human', escalation_reason: 'проверка двух процессов', issue_summary: 'Вопрос клиента' }),
    );
    const apps = [stack.t, second];
    const queues = apps.map((t) => t.app.get(TicketQueue) as unknown as Sweeping);

    // Both processes keep looking for claimable tickets the whole time, so every ticket is
    // contended by both: the one that ingested it (enqueue) and the other (sweep).
    let posting = true;
    const sweeping = (async () => {
      while (posting) {
        await Promise.all(queues.map((q) => q.sweep()));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    const results = await Promise.all(
      Array.from({ length: EMAILS }, (_, i) =>
        postEmail(apps[i % 2], customerEmail({ from: `Клиент ${i} <client.${i}@example.ru>`, subject: `Вопрос ${i}`, text: `Вопрос номер ${i} про доставку` })),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(EMAILS).fill(202));
    const ids = results.map((r) => r.body.ticketId as string);

    try {
      await waitUntil(async () => {
        const [row] = await dbQuery<{ n: string | number }>(stack.t, `SELECT COUNT(*) AS "n" FROM "tickets" WHERE "status" NOT IN ('received', 'processing')`);
        return Number(row.n) === EMAILS;
      }, `all ${EMAILS} tickets decided`, 30_000);
    } finally {
      posting = false;
      await sweeping;
    }

    const statuses = await dbQuery<{ id: string; status: string }>(stack.t, `SELECT "id", "status" FROM "tickets"`);
    expect(statuses.map((s) => s.id).sort()).toEqual([...ids].sort());
    expect(new Set(statuses.map((s) => s.status))).toEqual(new Set(['escalated']));

    const perTicket = await dbQuery<{ ticket_id: string; type: string; n: string | number }>(
      stack.t,
      `SELECT "ticket_id", "type", COUNT(*) AS "n" FROM "ticket_events" WHERE "type" IN ('ai.requested', 'decision.made') GROUP BY "ticket_id", "type"`,
    );
    for (const type of ['ai.requested', 'decision.made']) {
      const counts = new Map(perTicket.filter((r) => r.type === type).map((r) => [r.ticket_id, Number(r.n)]));
      expect(ids.map((id) => [id, counts.get(id) ?? 0])).toEqual(ids.map((id) => [id, 1]));
    }
    expect(gigachat.stats.chatCalls).toBe(EMAILS);
    expect(gigachat.stats.rejectedForConcurrency).toBe(0);

    const escalations = await dbQuery<{ n: string | number }>(stack.t, `SELECT COUNT(*) AS "n" FROM "messages" WHERE "direction" = 'outbound' AND "channel" = 'telegram'`);
    expect(Number(escalations[0].n)).toBe(EMAILS);
    gigachat.setResponder(undefined);
  });
});
