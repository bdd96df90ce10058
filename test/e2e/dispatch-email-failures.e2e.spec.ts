import { testDatabases } from '../support/databases.js';
import { bareMessageId, eventsOf, outboundEmails, outboundNotices, uniqueAddress } from '../support/dispatch-helpers.js';
import { customerEmail, outboxSettled, postEmail, waitForTicket } from '../support/http.js';
import { decisionReply, stackForSuite } from '../support/stack.js';

/*
 * Exactly once over SMTP: temporary refusals are retried until the mail is taken, permanent ones
 * are not retried and hand the ticket to the operators. The operators' notice queued when a reply
 * fails currently leaves only at the outbox's next poll (every 5 s): nothing wakes the outbox after
 * that escalation, which is why the tests that wait for it take seconds rather than milliseconds.
 */
describe.each(testDatabases())('e-mail delivery failures on %s', (kind) => {
  const stack = stackForSuite(kind, { gigachat: { scope: 'GIGACHAT_API_B2B' } });

  it('SMTP 451 then success: exactly one mail, sent on the second attempt', async () => {
    stack.gigachat!.script(decisionReply({ decision: 'full_answer' }));
    stack.smtp!.failNext(1, 451, '4.7.1 Greylisted, try again later');
    const accepted = await postEmail(stack.t, customerEmail({ from: uniqueAddress() })).expect(202);
    const ticket = await waitForTicket(stack.t, accepted.body.ticketId, outboxSettled);

    expect(ticket.status).toBe('answered');
    const [outbound] = outboundEmails(ticket);
    expect(outbound).toMatchObject({ deliveryStatus: 'sent', attempts: 2, lastError: null });
    expect(outbound!.providerResponse).toMatch(/^250/);
    const retries = eventsOf(ticket, 'delivery.retry');
    expect(retries).toHaveLength(1);
    expect(retries[0]!.message).toContain('451');
    expect(eventsOf(ticket, 'delivery.sent')).toHaveLength(1);
    expect(stack.smtp!.attempts).toBe(2);
    expect(stack.smtp!.mails).toHaveLength(1);
    expect(bareMessageId(stack.smtp!.mails[0]!)).toBe(outbound!.messageId);
    expect(stack.telegram!.messages).toHaveLength(0);
  });

  it.each(['data', 'rcpt'] as const)('SMTP 550 at %s: the reply fails once, is not retried, and the ticket goes to the operators', async (stage) => {
    stack.gigachat!.script(decisionReply({ decision: 'full_answer' }));
    stack.smtp!.failNext(1, 550, '5.1.1 Mailbox does not exist', stage);
    const accepted = await postEmail(stack.t, customerEmail({ from: uniqueAddress() })).expect(202);
    const ticket = await waitForTicket(stack.t, accepted.body.ticketId, (t) => outboxSettled(t) && outboundNotices(t).length === 1);

    const [outbound] = outboundEmails(ticket);
    expect(outbound).toMatchObject({ deliveryStatus: 'failed', attempts: 1 });
    expect(outbound!.lastError).toMatch(/550/);
    expect(ticket).toMatchObject({ status: 'escalated', decision: 'escalate_to_human' });
    expect(ticket.statusReason).toMatch(/could not be delivered/);
    expect(ticket.statusReason).toMatch(/SMTP 550/);
    expect(eventsOf(ticket, 'delivery.failed')).toHaveLength(1);
    expect(eventsOf(ticket, 'delivery.retry')).toHaveLength(0);
    expect(eventsOf(ticket, 'ticket.escalated')).toHaveLength(1);

    expect(stack.smtp!.attempts).toBe(1);
    expect(stack.smtp!.mails).toHaveLength(0);
    expect(stack.telegram!.messages).toHaveLength(1);
    const notice = stack.telegram!.messages[0]!;
    expect(notice.visibleText).toContain(`#${ticket.number}`);
    expect(notice.visibleText).toContain('SMTP 550');
    expect(outboundNotices(ticket)[0]).toMatchObject({ deliveryStatus: 'sent', externalId: String(notice.messageId) });
  });
});
