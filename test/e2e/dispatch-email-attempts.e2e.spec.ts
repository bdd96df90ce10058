import { createTestDatabase, type TestDatabase, testDatabases } from '../support/databases.js';
import { alwaysDecide, eventsOf, outboundEmails, outboundNotices, uniqueAddress } from '../support/dispatch-helpers.js';
import { customerEmail, outboxSettled, postEmail, waitForTicket } from '../support/http.js';
import { type DropStage, DroppingSmtpServer } from '../support/dispatch-smtp-dropper.js';
import { decisionReply, type Stack, stackForSuite, startStack } from '../support/stack.js';

/**
 * Retries that must stop: a temporary refusal that never ends (the outbox gives up after
 * OUTBOX_MAX_ATTEMPTS and hands the ticket over), and a failure after the message was transmitted,
 * where a retry would mean a second copy.
 */
describe.each(testDatabases())('dispatch by e-mail with OUTBOX_MAX_ATTEMPTS=2 on %s', (kind) => {
  const stack = stackForSuite(kind, { gigachat: { scope: 'GIGACHAT_API_B2B' }, env: { OUTBOX_MAX_ATTEMPTS: '2' } });

  it('temporary failures until the attempts run out: failed, escalated, never sent', async () => {
    stack.gigachat!.script(decisionReply({ decision: 'full_answer' }));
    stack.smtp!.failNext(10, 451, '4.3.0 Mail server temporarily rejected message');
    const accepted = await postEmail(stack.t, customerEmail({ from: uniqueAddress() })).expect(202);
    const ticket = await waitForTicket(stack.t, accepted.body.ticketId, (t) => outboxSettled(t) && outboundNotices(t).length === 1);

    const [outbound] = outboundEmails(ticket);
    expect(outbound).toMatchObject({ deliveryStatus: 'failed', attempts: 2 });
    expect(outbound!.lastError).toMatch(/gave up after 2 attempts/);
    expect(outbound!.lastError).toMatch(/451/);
    expect(ticket.status).toBe('escalated');
    expect(ticket.statusReason).toMatch(/could not be delivered/);
    expect(eventsOf(ticket, 'delivery.retry')).toHaveLength(1);
    expect(eventsOf(ticket, 'delivery.failed')).toHaveLength(1);
    expect(stack.smtp!.attempts).toBe(2);
    expect(stack.smtp!.mails).toHaveLength(0);
    expect(stack.telegram!.messages).toHaveLength(1);
  });
});

describe.each(testDatabases())('an SMTP connection lost after the message was transmitted, on %s', (kind) => {
  let database: TestDatabase;
  let dropper: DroppingSmtpServer;
  let stack: Stack;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    dropper = await DroppingSmtpServer.start(1);
    stack = await startStack({ database, gigachat: { scope: 'GIGACHAT_API_B2B' }, env: { SMTP_URL: dropper.url } });
  });

  afterAll(async () => {
    await stack.close();
    await dropper.close();
    await database.drop();
  });

  it('the reply is not transmitted a second time: whether it arrived is unknown, so a human checks', async () => {
    stack.gigachat!.script(decisionReply({ decision: 'full_answer' }));
    const accepted = await postEmail(stack.t, customerEmail({ from: uniqueAddress() })).expect(202);
    const ticket = await waitForTicket(stack.t, accepted.body.ticketId, (t) => outboxSettled(t) && (t.status !== 'escalated' || outboundNotices(t).length > 0));

    const [outbound] = outboundEmails(ticket);
    // The server has the whole message; sending it again would give the customer two copies.
    expect(dropper.transmitted).toHaveLength(1);
    expect(dropper.transmitted[0]).toContain(`Message-ID: <${outbound!.messageId}>`);
    expect(outbound!.deliveryStatus).not.toBe('sent');
    expect(ticket.status).toBe('escalated');
  });
});

describe.each(testDatabases())('an SMTP connection lost before the message was sent, on %s', (kind) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
  });

  afterAll(async () => {
    await database.drop();
  });

  // Nothing of the reply reached the server yet: a retry cannot make a second copy, so the reply
  // is retried and delivered, not set aside as "maybe delivered".
  it.each<DropStage>(['MAIL', 'RCPT', 'DATA'])('dropped on %s: retried, delivered once, the ticket answered', async (stage) => {
    const dropper = await DroppingSmtpServer.start(1, stage);
    const stack = await startStack({ database, gigachat: { scope: 'GIGACHAT_API_B2B' }, env: { SMTP_URL: dropper.url } });
    try {
      stack.gigachat!.script(decisionReply({ decision: 'full_answer' }));
      const accepted = await postEmail(stack.t, customerEmail({ from: uniqueAddress() })).expect(202);
      const ticket = await waitForTicket(stack.t, accepted.body.ticketId, (t) => outboxSettled(t) && outboundEmails(t)[0]?.deliveryStatus === 'sent');

      const [outbound] = outboundEmails(ticket);
      expect(outbound).toMatchObject({ deliveryStatus: 'sent', attempts: 2 });
      expect(dropper.transmitted).toHaveLength(1);
      expect(dropper.transmitted[0]).toContain(`Message-ID: <${outbound!.messageId}>`);
      expect(ticket.status).toBe('answered');
      expect(eventsOf(ticket, 'delivery.retry')).toHaveLength(1);
      expect(eventsOf(ticket, 'delivery.uncertain')).toHaveLength(0);
    } finally {
      await stack.close();
      await dropper.close();
    }
  });

  // nodemailer forgets a pending login when its connection fails: the attempt must still end
  // (and the outbox go on), not wait for ever.
  it('dropped during AUTH: retried, delivered once, and the outbox keeps going', async () => {
    const dropper = await DroppingSmtpServer.start(1, 'AUTH');
    const url = dropper.url.replace('smtp://', 'smtp://robot:secret@');
    const stack = await startStack({ database, gigachat: { scope: 'GIGACHAT_API_B2B' }, env: { SMTP_URL: url } });
    try {
      alwaysDecide(stack.gigachat!, { decision: 'full_answer' });
      const first = await postEmail(stack.t, customerEmail({ from: uniqueAddress() })).expect(202);
      const ticket = await waitForTicket(stack.t, first.body.ticketId, (t) => outboxSettled(t) && outboundEmails(t)[0]?.deliveryStatus === 'sent');
      expect(outboundEmails(ticket)[0]).toMatchObject({ deliveryStatus: 'sent', attempts: 2 });
      const second = await postEmail(stack.t, customerEmail({ from: uniqueAddress() })).expect(202);
      await waitForTicket(stack.t, second.body.ticketId, (t) => outboxSettled(t) && outboundEmails(t)[0]?.deliveryStatus === 'sent');
      expect(dropper.transmitted).toHaveLength(2);
    } finally {
      await stack.close();
      await dropper.close();
    }
  });
});
