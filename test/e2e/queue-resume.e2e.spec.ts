import { testDatabases } from '../support/databases.js';
import { customerEmail, getTicket, outboxSettled, postEmail, waitForTicket } from '../support/http.js';
import { countOf, dbQuery, eventTypes, waitUntil } from '../support/ingestion-helpers.js';
import { decisionReply, promptText, stackForSuite } from '../support/stack.js';

/**
 * The ticket status is the durable queue: whatever a process leaves behind when it stops — tickets
 * still `received` (never started) or `processing` under a lease nobody renews (it crashed
 * mid-analysis) — is decided by the next process on the same database, and nothing twice.
 */
describe.each(testDatabases())('queue resume after a restart on %s', (kind) => {
  // One ticket at a time, so a stuck analysis leaves the others `received`.
  const stack = stackForSuite(kind, { gigachat: { scope: 'GIGACHAT_API_B2B' }, env: { PROCESSING_CONCURRENCY: '1' } });

  it('tickets left received, and one left processing under an expired lease, are all decided after a restart', async () => {
    const gigachat = stack.gigachat!;
    // The first analysis never gets an answer: the process is stopped in the middle of it.
    gigachat.script({ ...decisionReply({ decision: 'full_answer' }), delayMs: 120_000 });
    const stuck = await postEmail(stack.t, customerEmail({ from: 'Анна <anna.stuck@example.ru>', subject: 'Застрявшее письмо', text: 'Застрявший вопрос про возврат' })).expect(202);
    await waitUntil(() => gigachat.chatBodies.length === 1, 'the first analysis to reach GigaChat');
    expect(promptText(gigachat.chatBodies[0])).toContain('Застрявший вопрос');

    const waiting: string[] = [];
    for (let i = 1; i <= 3; i++) {
      const res = await postEmail(stack.t, customerEmail({ from: `Клиент ${i} <waiting.${i}@example.ru>`, subject: `Ожидающее письмо ${i}`, text: `Ожидающий вопрос ${i}` })).expect(202);
      waiting.push(res.body.ticketId as string);
    }
    expect((await getTicket(stack.t, stuck.body.ticketId)).status).toBe('processing');
    for (const id of waiting) expect((await getTicket(stack.t, id)).status).toBe('received');
    expect(gigachat.chatBodies).toHaveLength(1); // the single worker is busy

    // From now on GigaChat answers at once.
    gigachat.setResponder(() => decisionReply({ decision: 'full_answer', draft_reply: 'Здравствуйте! Ответ после перезапуска. Служба поддержки' }));
    await stack.restart();

    // The tickets that never started are taken by the new process, each analysed once.
    for (const id of waiting) {
      const ticket = await waitForTicket(stack.t, id, outboxSettled);
      expect(ticket.status).toBe('answered');
      expect(countOf(eventTypes(ticket), 'ai.requested')).toBe(1);
      expect(countOf(eventTypes(ticket), 'decision.made')).toBe(1);
    }
    // The ticket the stopped process held is still under its lease: nobody else takes it yet.
    const held = await getTicket(stack.t, stuck.body.ticketId);
    expect(held.status).toBe('processing');
    expect(countOf(eventTypes(held), 'ai.requested')).toBe(1);

    // What a crashed process leaves once its lease runs out.
    await dbQuery(stack.t, `UPDATE "tickets" SET "lease_expires_at" = '2000-01-01 00:00:00.000' WHERE "id" = $1 AND "status" = 'processing'`, [stuck.body.ticketId]);
    const [row] = await dbQuery<{ status: string }>(stack.t, `SELECT "status" FROM "tickets" WHERE "id" = $1`, [stuck.body.ticketId]);
    expect(row.status).toBe('processing');
    await stack.restart();

    const resumed = await waitForTicket(stack.t, stuck.body.ticketId, outboxSettled);
    expect(resumed.status).toBe('answered');
    expect(countOf(eventTypes(resumed), 'ai.requested')).toBe(2); // the lost attempt and the one that finished
    expect(countOf(eventTypes(resumed), 'decision.made')).toBe(1);
    expect(resumed.messages.filter((m) => m.direction === 'outbound')).toHaveLength(1);

    // Every customer got exactly one answer.
    const recipients = stack.smtp!.mails.flatMap((m) => m.recipients).sort();
    expect(recipients).toEqual(['anna.stuck@example.ru', 'waiting.1@example.ru', 'waiting.2@example.ru', 'waiting.3@example.ru']);
    gigachat.setResponder(undefined);
  });
});
