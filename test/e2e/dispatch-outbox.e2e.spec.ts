import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { OutboxWorker } from '../../src/notifications/outbox.worker.js';
import { DeliveryStatus, Message } from '../../src/tickets/entities/message.entity.js';
import { type TestDatabase, testDatabases } from '../support/databases.js';
import { bareMessageId, emlFiles, eventsOf, outboundEmails, outboundNotices, uniqueAddress, withDatabase } from '../support/dispatch-helpers.js';
import { customerEmail, getTicket, outboxSettled, postEmail, type TicketDetail, waitForTicket } from '../support/http.js';
import { type AnalysisArgs, decisionReply, fileOutboxStackForSuite, type Stack, stackForSuite } from '../support/stack.js';

/*
 * The outbox across restarts (OutboxWorker's doc comment). Every attempt is recorded as `sending`,
 * with a lease, before the network call, and its outcome after it. A crash is simulated by stopping
 * the service and putting a row back into the state the crash would have left, through a
 * connection of our own, then starting the service again on the same database.
 *
 * What stays open, by design: the moment between the SMTP server accepting the message (250 after
 * DATA) and our commit of `sent`. A crash there leaves `sending`; SMTP cannot be asked afterwards,
 * so the message becomes `uncertain` and a human checks: no duplicate e-mail, but possibly an e-mail
 * that did go out reported as unknown. (A connection lost after the final "." but before the 250
 * arrives is not a crash: it comes back as a temporary error and is retried, so that narrow window
 * can still produce a duplicate.) The .eml transport has no such window: the file is written under
 * a temporary name and renamed, so after a crash it either exists whole (the mail counts as sent and
 * is not written again) or not at all (it is written once). Reconciliation only starts once the
 * lease has lapsed (at least 60 s in production), so until then an interrupted message stays
 * `sending`. Operator notices interrupted the same way are simply sent again.
 */

const FULL_ANSWER: AnalysisArgs = { decision: 'full_answer', draft_reply: 'Здравствуйте! Вернуть товар можно в течение 14 дней.' };
const ESCALATE: AnalysisArgs = { decision: 'escalate_to_human', escalation_reason: 'спор об оплате' };

/** The state a crash in the middle of a send leaves: `sending`, claimed, its lease run out. */
const INTERRUPTED = {
  deliveryStatus: DeliveryStatus.Sending,
  claimToken: 'x',
  leaseExpiresAt: new Date(Date.now() - 10 * 60_000),
  sentAt: null,
  providerResponse: null,
  externalId: null,
};

async function decided(stack: Stack, args: AnalysisArgs, predicate: (t: TicketDetail) => boolean = outboxSettled): Promise<TicketDetail> {
  stack.gigachat!.script(decisionReply(args));
  const accepted = await postEmail(stack.t, customerEmail({ from: uniqueAddress() })).expect(202);
  return waitForTicket(stack.t, accepted.body.ticketId, predicate);
}

/** Stops the service, changes one stored message as a crash would have left it, starts the service again. */
async function crashAndRestart(stack: Stack, database: TestDatabase, messageId: string, patch: Partial<Message>): Promise<void> {
  await stack.t.close();
  await withDatabase(database.url, async (db) => {
    const result = await db.update(Message, { id: messageId }, patch);
    expect(result.affected).toBe(1);
  });
  stack.smtp?.reset();
  stack.telegram?.reset();
  await stack.restart();
}

/** Lets the outbox run once more and finish: whatever it would still send, it has sent. */
async function outboxIdle(stack: Stack): Promise<void> {
  const worker = stack.t.app.get(OutboxWorker);
  worker.kick();
  await worker.idle();
}

describe.each(testDatabases())('outbox across restarts, SMTP, on %s', (kind) => {
  const stack = stackForSuite(kind, { gigachat: { scope: 'GIGACHAT_API_B2B' } });

  it('a reply still pending when the service stopped is sent once after the restart', async () => {
    const ticket = await decided(stack, FULL_ANSWER);
    const [reply] = outboundEmails(ticket);
    // As if the process died right after committing the decision, before the worker ran.
    await crashAndRestart(stack, stack.database, reply!.id, {
      deliveryStatus: DeliveryStatus.Pending,
      attempts: 0,
      nextAttemptAt: null,
      claimToken: null,
      leaseExpiresAt: null,
      sentAt: null,
      providerResponse: null,
    });

    const after = await waitForTicket(stack.t, ticket.id, (t) => outboundEmails(t)[0]!.deliveryStatus === 'sent');
    expect(outboundEmails(after)[0]).toMatchObject({ deliveryStatus: 'sent', attempts: 1 });
    const [mail] = await stack.smtp!.waitForMails(1);
    expect(bareMessageId(mail)).toBe(reply!.messageId);
    expect(mail.parsed.subject).toBe(reply!.subject);
    await outboxIdle(stack);
    expect(stack.smtp!.mails).toHaveLength(1);
    expect(after.status).toBe('answered');
  });

  it('a reply interrupted mid-send becomes uncertain, is not sent again, and the ticket goes to a human', async () => {
    const ticket = await decided(stack, FULL_ANSWER);
    expect(ticket.status).toBe('answered');
    const [reply] = outboundEmails(ticket);
    await crashAndRestart(stack, stack.database, reply!.id, INTERRUPTED);

    const after = await waitForTicket(stack.t, ticket.id, (t) => outboundEmails(t)[0]!.deliveryStatus === 'uncertain' && outboxSettled(t) && outboundNotices(t).length === 1);
    expect(outboundEmails(after)[0]).toMatchObject({ deliveryStatus: 'uncertain', attempts: 1 });
    expect(outboundEmails(after)[0]!.lastError).toMatch(/may or may not have reached the customer/);
    expect(after).toMatchObject({ status: 'escalated', decision: 'escalate_to_human' });
    expect(after.statusReason).toMatch(/uncertain/);
    expect(eventsOf(after, 'delivery.uncertain')).toHaveLength(1);
    expect(eventsOf(after, 'ticket.escalated')).toHaveLength(1);
    expect(stack.telegram!.messages).toHaveLength(1);
    expect(stack.telegram!.messages[0]!.visibleText).toContain(`#${after.number}`);
    expect(stack.telegram!.messages[0]!.visibleText).toMatch(/uncertain/);

    await outboxIdle(stack);
    expect(stack.smtp!.attempts).toBe(0);
    expect(stack.smtp!.mails).toHaveLength(0);
    expect(outboundEmails(await getTicket(stack.t, ticket.id))[0]!.deliveryStatus).toBe('uncertain');
  });

  it('an attempt whose lease has not run out is left to the process that holds it', async () => {
    const ticket = await decided(stack, FULL_ANSWER);
    const [reply] = outboundEmails(ticket);
    await crashAndRestart(stack, stack.database, reply!.id, { ...INTERRUPTED, leaseExpiresAt: new Date(Date.now() + 60 * 60_000) });

    await outboxIdle(stack);
    const after = await getTicket(stack.t, ticket.id);
    expect(outboundEmails(after)[0]).toMatchObject({ deliveryStatus: 'sending', attempts: 1 });
    expect(after.status).toBe('answered');
    expect(stack.smtp!.attempts).toBe(0);
    expect(stack.telegram!.messages).toHaveLength(0);
  });

  it('an operator notice interrupted mid-send is sent again', async () => {
    const ticket = await decided(stack, ESCALATE, (t) => outboxSettled(t) && outboundNotices(t).length === 1);
    const [notice] = outboundNotices(ticket);
    expect(notice).toMatchObject({ deliveryStatus: 'sent', attempts: 1 });
    await crashAndRestart(stack, stack.database, notice!.id, INTERRUPTED);

    const after = await waitForTicket(stack.t, ticket.id, (t) => outboundNotices(t)[0]!.deliveryStatus === 'sent');
    expect(stack.telegram!.messages).toHaveLength(1);
    expect(stack.telegram!.messages[0]!.visibleText).toContain(`#${ticket.number}`);
    expect(outboundNotices(after)[0]).toMatchObject({ deliveryStatus: 'sent', attempts: 2, externalId: String(stack.telegram!.messages[0]!.messageId) });
    expect(eventsOf(after, 'delivery.retry').map((e) => e.message)).toEqual([expect.stringMatching(/interrupted by a restart/)]);
    expect(after.status).toBe('escalated');
  });
});

describe.each(testDatabases())('outbox across restarts, .eml files, on %s', (kind) => {
  const { stack, outboxDir } = fileOutboxStackForSuite(kind);

  function fileOf(messageId: string): string {
    const matches = emlFiles(outboxDir).filter((f) => f.startsWith(messageId.split('@')[0]!));
    expect(matches).toHaveLength(1);
    return join(outboxDir, matches[0]!);
  }

  it('the file was written before the crash: marked sent, not written again', async () => {
    const ticket = await decided(stack, FULL_ANSWER);
    const [reply] = outboundEmails(ticket);
    const path = fileOf(reply!.messageId!);
    const before = statSync(path);
    const content = readFileSync(path);
    const files = emlFiles(outboxDir).length;
    await crashAndRestart(stack, stack.database, reply!.id, INTERRUPTED);

    const after = await waitForTicket(stack.t, ticket.id, (t) => outboundEmails(t)[0]!.deliveryStatus === 'sent');
    expect(outboundEmails(after)[0]).toMatchObject({ deliveryStatus: 'sent', attempts: 1, providerResponse: 'found delivered after a restart' });
    expect(eventsOf(after, 'delivery.sent').at(-1)!.message).toMatch(/found delivered after a restart/);
    expect(after.status).toBe('answered');
    await outboxIdle(stack);
    const now = statSync(path);
    expect(now.ino).toBe(before.ino);
    expect(now.mtimeMs).toBe(before.mtimeMs);
    expect(readFileSync(path).equals(content)).toBe(true);
    expect(emlFiles(outboxDir)).toHaveLength(files);
    expect(stack.telegram!.messages).toHaveLength(0);
  });

  it('the file was not written before the crash: written once after the restart', async () => {
    const ticket = await decided(stack, FULL_ANSWER);
    const [reply] = outboundEmails(ticket);
    const path = fileOf(reply!.messageId!);
    rmSync(path);
    const files = emlFiles(outboxDir).length;
    await crashAndRestart(stack, stack.database, reply!.id, INTERRUPTED);

    const after = await waitForTicket(stack.t, ticket.id, (t) => outboundEmails(t)[0]!.deliveryStatus === 'sent');
    expect(outboundEmails(after)[0]).toMatchObject({ deliveryStatus: 'sent', attempts: 2 });
    expect(eventsOf(after, 'delivery.retry').map((e) => e.message)).toEqual([expect.stringMatching(/interrupted by a restart/)]);
    expect(after.status).toBe('answered');
    await outboxIdle(stack);
    expect(emlFiles(outboxDir)).toHaveLength(files + 1);
    const parsed = await simpleParser(readFileSync(fileOf(reply!.messageId!)));
    expect(parsed.messageId).toBe(`<${reply!.messageId}>`);
    expect(parsed.subject).toBe(reply!.subject);
    expect(parsed.headers.get('auto-submitted')).toBe('auto-replied');
    expect(stack.telegram!.messages).toHaveLength(0);
  });
});
