import { In } from 'typeorm';
import { Message } from '../../src/tickets/entities/message.entity.js';
import { testDatabases } from '../support/databases.js';
import { alwaysDecide, eventsOf, outboundEmails, outboundNotices, uniqueAddress, withDatabase } from '../support/dispatch-helpers.js';
import { customerEmail, outboxSettled, postEmail, type TicketDetail, waitForTicket } from '../support/http.js';
import { type Stack, stackForSuite } from '../support/stack.js';

/** Posts one e-mail from `from` (optionally with Reply-To) and waits until its ticket's outbox settled. */
async function answer(stack: Stack, from: string, subject: string, replyTo?: string): Promise<TicketDetail> {
  const accepted = await postEmail(stack.t, customerEmail({ from, subject, ...(replyTo ? { replyTo } : {}) })).expect(202);
  return waitForTicket(stack.t, accepted.body.ticketId, (t) => outboxSettled(t) && (t.status !== 'escalated' || outboundNotices(t).length > 0));
}

/** AUTO_REPLY_LIMIT (SPEC.md "Loop safety"): at most N automatic e-mails to one address in 3 hours. */
describe.each(testDatabases())('auto-reply limit on %s', (kind) => {
  const stack = stackForSuite(kind, { gigachat: { scope: 'GIGACHAT_API_B2B' }, env: { AUTO_REPLY_LIMIT: '2' } });

  beforeEach(() => {
    alwaysDecide(stack.gigachat!, { decision: 'full_answer' });
  });

  it('the third automatic e-mail to one address within 3 hours is not sent: the ticket goes to a human', async () => {
    const address = uniqueAddress('busy');
    const first = await answer(stack, address, 'Вопрос 1');
    const second = await answer(stack, `Иван <${address.toUpperCase().replace('@EXAMPLE.RU', '@example.ru')}>`, 'Вопрос 2');
    expect([first.status, second.status]).toEqual(['answered', 'answered']);
    expect(stack.smtp!.mails).toHaveLength(2);

    const third = await answer(stack, address, 'Вопрос 3');
    expect(third).toMatchObject({ status: 'escalated', decision: 'escalate_to_human' });
    expect(third.statusReason).toContain('AUTO_REPLY_LIMIT=2');
    expect(outboundEmails(third)).toHaveLength(0);
    expect(eventsOf(third, 'decision.made')[0]!.data).toMatchObject({ aiDecision: 'full_answer', decision: 'escalate_to_human' });
    expect(stack.smtp!.mails).toHaveLength(2);
    expect(stack.telegram!.messages).toHaveLength(1);
    expect(stack.telegram!.messages[0]!.visibleText).toContain('AUTO_REPLY_LIMIT');
    expect(stack.telegram!.messages[0]!.visibleText).toContain(`#${third.number}`);

    // Another address is not affected.
    const other = await answer(stack, uniqueAddress('other'), 'Вопрос 4');
    expect(other.status).toBe('answered');
    expect(stack.smtp!.mails).toHaveLength(3);
  });

  it('counts the address the replies go to (Reply-To), not the sender', async () => {
    const home = uniqueAddress('home');
    await answer(stack, uniqueAddress('work1'), 'Вопрос 1', home);
    await answer(stack, uniqueAddress('work2'), 'Вопрос 2', home);
    const third = await answer(stack, uniqueAddress('work3'), 'Вопрос 3', home);
    expect(third.status).toBe('escalated');
    expect(third.statusReason).toContain(home);
    expect(stack.smtp!.mails.map((m) => m.recipients)).toEqual([[home], [home]]);
  });

  it('e-mails older than 3 hours no longer count', async () => {
    const address = uniqueAddress('window');
    const first = await answer(stack, address, 'Вопрос 1');
    const second = await answer(stack, address, 'Вопрос 2');
    const ids = [...outboundEmails(first), ...outboundEmails(second)].map((m) => m.id);
    expect(ids).toHaveLength(2);
    const age = async (ms: number) =>
      withDatabase(stack.database.url, (db) => db.update(Message, { id: In(ids) }, { createdAt: new Date(Date.now() - ms) }));

    // Just inside the window: still counted.
    await age(3 * 60 * 60_000 - 5 * 60_000);
    expect((await answer(stack, address, 'Вопрос 3')).status).toBe('escalated');
    // Just outside: forgotten.
    await age(3 * 60 * 60_000 + 5 * 60_000);
    expect((await answer(stack, address, 'Вопрос 4')).status).toBe('answered');
    expect(stack.smtp!.mails).toHaveLength(3);
  });

  it('a reply that failed does not count', async () => {
    const address = uniqueAddress('bounced');
    stack.smtp!.failNext(1, 550, '5.2.2 Mailbox full');
    const bounced = await answer(stack, address, 'Вопрос 1');
    expect(outboundEmails(bounced)[0]!.deliveryStatus).toBe('failed');
    const next = await answer(stack, address, 'Вопрос 2');
    const last = await answer(stack, address, 'Вопрос 3');
    expect([next.status, last.status]).toEqual(['answered', 'answered']);
    expect(stack.smtp!.mails).toHaveLength(2);
  });

  it('e-mails arriving together cannot overshoot the limit', async () => {
    const address = uniqueAddress('burst');
    stack.gigachat!.setLatency(150);
    try {
      const accepted = await Promise.all(
        [1, 2, 3, 4].map((i) => postEmail(stack.t, customerEmail({ from: address, subject: `Срочно ${i}` })).expect(202)),
      );
      const tickets = await Promise.all(
        accepted.map((res) => waitForTicket(stack.t, res.body.ticketId, (t) => outboxSettled(t) && (t.status !== 'escalated' || outboundNotices(t).length > 0))),
      );
      expect(tickets.filter((t) => t.status === 'answered')).toHaveLength(2);
      expect(tickets.filter((t) => t.status === 'escalated')).toHaveLength(2);
      expect(stack.smtp!.mails).toHaveLength(2);
    } finally {
      stack.gigachat!.setLatency(0);
    }
  });
});

describe.each(testDatabases())('AUTO_REPLY_LIMIT=0 on %s', (kind) => {
  const stack = stackForSuite(kind, { gigachat: { scope: 'GIGACHAT_API_B2B' }, env: { AUTO_REPLY_LIMIT: '0' } });

  it.each(['full_answer', 'need_more_info'] as const)('%s is escalated: no automatic e-mail at all', async (decision) => {
    stack.smtp!.reset();
    alwaysDecide(stack.gigachat!, { decision });
    const ticket = await answer(stack, uniqueAddress(), 'Вопрос');
    expect(ticket.status).toBe('escalated');
    expect(ticket.statusReason).toContain('AUTO_REPLY_LIMIT=0');
    expect(outboundEmails(ticket)).toHaveLength(0);
    expect(outboundNotices(ticket)[0]).toMatchObject({ deliveryStatus: 'sent' });
    expect(stack.smtp!.mails).toHaveLength(0);
  });
});
