import request from 'supertest';
import { testDatabases } from '../support/databases.js';
import { alwaysDecide } from '../support/dispatch-helpers.js';
import { customerEmail, type EmailJson, getTicket, outboxSettled, postEmail, type TicketDetail, waitForTicket } from '../support/http.js';
import { eventTypes, tableCounts } from '../support/ingestion-helpers.js';
import { seedTicket } from '../support/seed.js';
import { type Stack, stackForSuite } from '../support/stack.js';
import { TicketStatus } from '../../src/tickets/ticket-status.js';

let sequence = 0;

/** A customer of their own per test, so auto-reply limits and threads never mix. */
function customer(): string {
  return `Мария Соколова <maria.${process.pid}.${++sequence}@example.ru>`;
}

async function settledTicket(stack: Stack, email: EmailJson): Promise<TicketDetail> {
  const accepted = await postEmail(stack.t, email).expect(202);
  return waitForTicket(stack.t, accepted.body.ticketId, outboxSettled);
}

function patchStatus(stack: Stack, id: string, body: unknown) {
  return request(stack.t.http).patch(`/api/tickets/${id}`).set('Content-Type', 'application/json').send(JSON.stringify(body));
}

function statusChanges(ticket: TicketDetail) {
  return ticket.events.filter((event) => event.type === 'status.changed');
}

/** Operators mark handled tickets `resolved` or `closed` (SPEC.md statuses) with PATCH /api/tickets/:id. */
describe.each(testDatabases())('ticket status changes by operators on %s', (kind) => {
  const stack = stackForSuite(kind, { gigachat: { scope: 'GIGACHAT_API_B2B' } });

  it('resolved: recorded with the note, listed under its status; repeating it changes nothing', async () => {
    alwaysDecide(stack.gigachat!, { decision: 'escalate_to_human', escalation_reason: 'спор об оплате' });
    const escalated = await settledTicket(stack, customerEmail({ from: customer(), subject: 'Двойное списание' }));
    expect(escalated.status).toBe('escalated');

    const res = await patchStatus(stack, escalated.id, { status: 'resolved', note: 'Вернули деньги вручную' }).expect(200);
    expect(res.body).toMatchObject({ id: escalated.id, status: 'resolved', statusReason: 'Marked resolved by an operator: Вернули деньги вручную' });
    expect(statusChanges(res.body).at(-1)).toMatchObject({ data: { from: 'escalated', to: 'resolved', by: 'operator', note: 'Вернули деньги вручную' } });

    const listed = await request(stack.t.http).get('/api/tickets').query({ status: 'resolved' }).expect(200);
    expect(listed.body.items.map((t: { id: string }) => t.id)).toContain(escalated.id);

    const again = await patchStatus(stack, escalated.id, { status: 'resolved' }).expect(200);
    expect(statusChanges(again.body)).toHaveLength(statusChanges(res.body).length);
  });

  it('a reply in the thread of a resolved ticket reopens it and it is analysed again', async () => {
    alwaysDecide(stack.gigachat!, { decision: 'full_answer' });
    const from = customer();
    const first = customerEmail({ from });
    const answered = await settledTicket(stack, first);
    expect(answered.status).toBe('answered');
    await patchStatus(stack, answered.id, { status: 'resolved' }).expect(200);

    alwaysDecide(stack.gigachat!, { decision: 'need_more_info', draft_reply: 'Уточните, пожалуйста, номер заказа.' });
    const reply = await postEmail(stack.t, customerEmail({ from, subject: 'Re: Возврат кроссовок', inReplyTo: first.messageId, text: 'Деньги так и не пришли.' })).expect(202);
    expect(reply.body.ticketId).toBe(answered.id);
    const reopened = await waitForTicket(stack.t, answered.id, (t) => outboxSettled(t) && t.status === 'awaiting_customer');
    expect(statusChanges(reopened).map((e) => e.data)).toEqual(expect.arrayContaining([expect.objectContaining({ from: 'resolved', to: 'received' })]));
    expect(reopened.messages.filter((m) => m.direction === 'inbound')).toHaveLength(2);
  });

  it('closed is final: a reply in its thread opens a new ticket that refers to it; an auto-reply stays with it', async () => {
    alwaysDecide(stack.gigachat!, { decision: 'full_answer' });
    const from = customer();
    const first = customerEmail({ from });
    const answered = await settledTicket(stack, first);
    const ours = answered.messages.find((m) => m.direction === 'outbound' && m.channel === 'email')!;
    const closed = (await patchStatus(stack, answered.id, { status: 'closed' }).expect(200)).body as TicketDetail;
    expect(closed.status).toBe('closed');

    // The customer answers our reply, quoting its Message-ID and the ticket tag.
    const reply = customerEmail({ from, subject: `Re: Возврат кроссовок [#${answered.number}]`, inReplyTo: ours.messageId!, references: [first.messageId!, ours.messageId!], text: 'А ещё вопрос про доставку.' });
    const fresh = await settledTicket(stack, reply);
    expect(fresh.id).not.toBe(answered.id);
    expect(fresh.events[0]).toMatchObject({ type: 'ticket.received', data: { previousTicketId: answered.id, previousTicketNumber: answered.number } });
    expect(fresh.status).toBe('answered');

    // An out-of-office in the closed thread is kept there and changes nothing.
    const outOfOffice = await postEmail(stack.t, customerEmail({ from, subject: 'Автоответ: Re: Возврат кроссовок', inReplyTo: ours.messageId!, headers: { 'Auto-Submitted': 'auto-replied' } })).expect(202);
    expect(outOfOffice.body.ticketId).toBe(answered.id);
    const after = await getTicket(stack.t, answered.id);
    expect(after.status).toBe('closed');
    expect(eventTypes(after).at(-1)).toBe('message.ignored');

    // Closed does not go back to resolved.
    const refused = await patchStatus(stack, answered.id, { status: 'resolved' }).expect(409);
    expect(refused.body).toMatchObject({ statusCode: 409, code: 'CONFLICT', message: expect.stringContaining('closed') });
    expect((await getTicket(stack.t, answered.id)).status).toBe('closed');
  });

  it('a ticket still being analysed cannot be changed (409): its decision would overwrite the change', async () => {
    for (const status of [TicketStatus.Received, TicketStatus.Processing]) {
      // Stored straight in the database: the queue only picks up tickets the webhook hands it.
      const seeded = await seedTicket(stack.t.app, { subject: 'Где заказ?', customerEmail: 'olga@example.ru', status });
      const res = await patchStatus(stack, seeded.id, { status: 'closed' }).expect(409);
      expect(res.body).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('being analysed') });
      expect((await getTicket(stack.t, seeded.id)).status).toBe(status);
    }
  });

  it.each<[string, unknown, string]>([
    ['a status the service sets itself', { status: 'answered' }, 'status'],
    ['no status', { note: 'готово' }, 'status'],
    ['a status of the wrong type', { status: 3 }, 'status'],
    ['a note of the wrong type', { status: 'closed', note: ['a'] }, 'note'],
    ['a note over 2,000 characters', { status: 'closed', note: 'x'.repeat(2001) }, 'note'],
    ['an unknown field', { status: 'closed', assignee: 'anna' }, 'assignee'],
    ['an array', [{ status: 'closed' }], 'body'],
  ])('400 for %s, naming the field, and the ticket is left as it was', async (_what, body, field) => {
    const ticket = await seedTicket(stack.t.app, { subject: 'Вопрос', customerEmail: 'petr@example.ru', status: TicketStatus.Escalated });
    const before = await tableCounts(stack.t);
    const res = await patchStatus(stack, ticket.id, body).expect(400);
    expect(res.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(await tableCounts(stack.t)).toEqual(before);
    expect((await getTicket(stack.t, ticket.id)).status).toBe('escalated');
  });

  it('400 for a malformed id, 404 for an unknown one', async () => {
    expect((await patchStatus(stack, 'not-a-uuid', { status: 'closed' }).expect(400)).body.errors).toEqual([{ field: 'id', message: 'must be a UUID' }]);
    expect((await patchStatus(stack, '0190a5e0-0000-7000-8000-000000000000', { status: 'closed' }).expect(404)).body).toMatchObject({ code: 'NOT_FOUND' });
  });
});
