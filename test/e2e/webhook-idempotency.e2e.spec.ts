import { testDatabases } from '../support/databases.js';
import { customerEmail, type EmailJson, getTicket, outboxSettled, postEmail, postRawEmail, waitForTicket } from '../support/http.js';
import { bare, countOf, decidedControl, eventTypes, storedInbound, tableCounts } from '../support/ingestion-helpers.js';
import { crlf } from '../support/ingestion-mime.js';
import { decisionReply, promptText, stackForSuite } from '../support/stack.js';

/**
 * SPEC.md "Webhook": the Message-ID is the de-duplication key. A repeat answers
 * `200 {ticketId, duplicate: true}` and changes nothing, even when deliveries race each other; a
 * missing Message-ID gets a deterministic one (sender, subject, date, body).
 */
describe.each(testDatabases())('webhook idempotency on %s', (kind) => {
  const stack = stackForSuite(kind, { gigachat: { scope: 'GIGACHAT_API_B2B' } });
  let seq = 0;
  const uniqueId = (label: string) => `<${label}-${process.pid}-${Date.now()}-${++seq}@Mail.Example.RU>`;

  /** Posts, expects 202, and waits until the ticket is decided and its messages delivered. */
  async function ingestSettled(email: EmailJson) {
    const res = await postEmail(stack.t, email).expect(202);
    return waitForTicket(stack.t, res.body.ticketId, outboxSettled);
  }

  it('a repeat answers 200 {ticketId, duplicate: true} and changes nothing (ticket, messages, events, AI calls)', async () => {
    const email = customerEmail({ messageId: uniqueId('Repeat') });
    const first = await ingestSettled(email);
    expect(stack.gigachat!.stats.chatCalls).toBe(1);
    const counts = await tableCounts(stack.t);

    for (const query of ['', '?wait=true']) {
      const again = await postEmail(stack.t, email, query).expect(200);
      expect(again.body).toEqual({ ticketId: first.id, duplicate: true });
    }
    // Re-delivered with different content under the same Message-ID: still the same message.
    const altered = await postEmail(stack.t, { ...email, subject: 'Другая тема', text: 'Совсем другой текст' }).expect(200);
    expect(altered.body).toEqual({ ticketId: first.id, duplicate: true });

    const control = await decidedControl(stack);
    expect(await tableCounts(stack.t)).toMatchObject({ tickets: counts.tickets + 1 });
    expect(await getTicket(stack.t, first.id)).toEqual(first);
    expect(stack.gigachat!.chatBodies.map(promptText).filter((p) => p.includes(email.text!))).toHaveLength(1);
    expect(stack.gigachat!.stats.chatCalls).toBe(2); // the first analysis and the control's
    expect(promptText(stack.gigachat!.chatBodies[1])).toContain(control.subject);
  });

  it('Message-IDs compare without angle brackets and with the domain in any case; the local part stays case-sensitive', async () => {
    const local = `Key-${process.pid}-${Date.now()}`;
    const first = await postEmail(stack.t, customerEmail({ messageId: `<${local}@Mail.Example.COM>` })).expect(202);
    const ticket = await getTicket(stack.t, first.body.ticketId);
    expect(ticket.messages[0].messageId).toBe(`${local}@mail.example.com`);

    for (const variant of [`${local}@mail.example.com`, `  <${local}@MAIL.EXAMPLE.COM>  `, `<${local}@mail.Example.com>`]) {
      const res = await postEmail(stack.t, customerEmail({ messageId: variant }));
      expect({ variant, status: res.status, body: res.body as unknown }).toEqual({ variant, status: 200, body: { ticketId: ticket.id, duplicate: true } });
    }
    const other = await postEmail(stack.t, customerEmail({ messageId: `<${local.toLowerCase()}@mail.example.com>` })).expect(202);
    expect(other.body.ticketId).not.toBe(ticket.id);
    await waitForTicket(stack.t, ticket.id, outboxSettled);
    await waitForTicket(stack.t, other.body.ticketId, outboxSettled);
  });

  it('duplicate deliveries sent concurrently make one ticket, one message and one analysis', async () => {
    const email = customerEmail({ messageId: uniqueId('Race'), text: 'Гонка доставок: заказ 4242 не пришёл' });
    const before = await tableCounts(stack.t);
    const results = await Promise.all(Array.from({ length: 12 }, () => postEmail(stack.t, email)));

    const accepted = results.filter((r) => r.status === 202);
    const duplicates = results.filter((r) => r.status === 200);
    expect(results.map((r) => r.status).filter((s) => s !== 200 && s !== 202)).toEqual([]);
    expect(accepted).toHaveLength(1);
    const ticketId = accepted[0].body.ticketId as string;
    expect(duplicates).toHaveLength(11);
    for (const res of duplicates) expect(res.body).toEqual({ ticketId, duplicate: true });

    const ticket = await waitForTicket(stack.t, ticketId, outboxSettled);
    expect(ticket.messages.filter((m) => m.direction === 'inbound')).toHaveLength(1);
    expect(countOf(eventTypes(ticket), 'ticket.received')).toBe(1);
    expect(countOf(eventTypes(ticket), 'ai.requested')).toBe(1);
    const after = await tableCounts(stack.t);
    expect(after.tickets).toBe(before.tickets + 1);
    await decidedControl(stack);
    expect(stack.gigachat!.chatBodies.map(promptText).filter((p) => p.includes('Гонка доставок'))).toHaveLength(1);
  });

  it('the same e-mail raced as JSON and as raw MIME is still one ticket', async () => {
    const messageId = uniqueId('Race-Formats');
    const json = customerEmail({ messageId, subject: 'Двумя путями', text: 'Одно письмо, два формата' });
    const raw = crlf(`From: ${json.from}
To: support@severveter.example
Subject: Двумя путями
Message-ID: ${messageId}
Content-Type: text/plain; charset=utf-8

Одно письмо, два формата
`);
    const before = await tableCounts(stack.t);
    const results = await Promise.all([postEmail(stack.t, json), postRawEmail(stack.t, raw), postEmail(stack.t, json), postRawEmail(stack.t, raw)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 202]);
    const ticketId = results.find((r) => r.status === 202)!.body.ticketId as string;
    for (const res of results.filter((r) => r.status === 200)) expect(res.body).toEqual({ ticketId, duplicate: true });
    expect((await tableCounts(stack.t)).tickets).toBe(before.tickets + 1);
    await waitForTicket(stack.t, ticketId, outboxSettled);
  });

  it('concurrent duplicates of a follow-up join the ticket once', async () => {
    stack.gigachat!.script(decisionReply({ decision: 'need_more_info', draft_reply: 'Подскажите номер заказа. Служба поддержки', missing_details: ['номер заказа'] }));
    const original = await ingestSettled(customerEmail({ messageId: uniqueId('Thread-Root'), subject: 'Где заказ?', text: 'Заказ не пришёл' }));
    expect(original.status).toBe('awaiting_customer');

    const followUp = customerEmail({ messageId: uniqueId('Thread-Reply'), inReplyTo: `<${original.messages[0].messageId}>`, subject: 'Re: Где заказ?', text: 'Номер заказа 777111' });
    const results = await Promise.all(Array.from({ length: 6 }, () => postEmail(stack.t, followUp)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 202]);
    for (const res of results) expect(res.body.ticketId).toBe(original.id);
    expect(results.find((r) => r.status === 202)!.body).toMatchObject({ followUp: true, duplicate: false });

    const ticket = await waitForTicket(stack.t, original.id, (t) => outboxSettled(t) && countOf(eventTypes(t), 'decision.made') === 2);
    expect(ticket.messages.filter((m) => m.direction === 'inbound').map((m) => m.text)).toEqual(['Заказ не пришёл', 'Номер заказа 777111']);
    expect(countOf(eventTypes(ticket), 'message.follow_up')).toBe(1);
    expect(countOf(eventTypes(ticket), 'ai.requested')).toBe(2);
  });

  describe('a missing Message-ID', () => {
    const base = (): EmailJson => {
      const { messageId: _drop, ...email } = customerEmail({ from: 'Пётр <petr@example.org>', subject: `Без Message-ID ${++seq}`, text: 'Письмо без идентификатора' });
      return email;
    };

    it('gets a deterministic one: the same e-mail again is a duplicate and changes nothing', async () => {
      const email = base();
      const first = await ingestSettled(email);
      const generated = first.messages[0].messageId;
      expect(generated).toMatch(/\S+@\S+/);
      expect(generated).not.toMatch(/severveter\.example$/); // never mistaken for our own mail
      expect(first.status).not.toBe('ignored');
      const counts = await tableCounts(stack.t);

      const again = await postEmail(stack.t, email).expect(200);
      expect(again.body).toEqual({ ticketId: first.id, duplicate: true });
      expect(await tableCounts(stack.t)).toEqual(counts);
      expect(await getTicket(stack.t, first.id)).toEqual(first);
    });

    it.each<[string, (e: EmailJson) => EmailJson]>([
      ['sender', (e) => ({ ...e, from: 'Пётр <petr.other@example.org>' })],
      ['subject', (e) => ({ ...e, subject: `${e.subject}!` })],
      ['date', (e) => ({ ...e, receivedAt: '2025-11-25T09:15:00Z' })],
      ['body', (e) => ({ ...e, text: `${e.text}.` })],
    ])('a different %s is a different e-mail', async (_part, change) => {
      const email = base();
      const first = await postEmail(stack.t, email).expect(202);
      const second = await postEmail(stack.t, change(email)).expect(202);
      expect(second.body.ticketId).not.toBe(first.body.ticketId);
      const [a, b] = [await getTicket(stack.t, first.body.ticketId), await getTicket(stack.t, second.body.ticketId)];
      expect(a.messages[0].messageId).not.toBe(b.messages[0].messageId);
      await waitForTicket(stack.t, a.id, outboxSettled);
      await waitForTicket(stack.t, b.id, outboxSettled);
    });

    it('the same e-mail with its Date is the same again (a provider retrying)', async () => {
      const email = { ...base(), headers: { Date: 'Tue, 25 Nov 2025 09:15:00 +0300' } };
      const first = await postEmail(stack.t, email).expect(202);
      expect((await postEmail(stack.t, email).expect(200)).body).toEqual({ ticketId: first.body.ticketId, duplicate: true });
      const otherDate = await postEmail(stack.t, { ...email, headers: { Date: 'Tue, 25 Nov 2025 09:16:00 +0300' } }).expect(202);
      expect(otherDate.body.ticketId).not.toBe(first.body.ticketId);
      await waitForTicket(stack.t, first.body.ticketId, outboxSettled);
      await waitForTicket(stack.t, otherDate.body.ticketId, outboxSettled);
    });

    it('raw MIME without a Message-ID is de-duplicated the same way', async () => {
      const raw = crlf(`From: Пётр <petr@example.org>
To: support@severveter.example
Subject: MIME без Message-ID ${++seq}
Date: Tue, 25 Nov 2025 09:15:00 +0300
Content-Type: text/plain; charset=utf-8

Письмо без идентификатора, пришедшее целиком.
`);
      const first = await postRawEmail(stack.t, raw).expect(202);
      const again = await postRawEmail(stack.t, raw).expect(200);
      expect(again.body).toEqual({ ticketId: first.body.ticketId, duplicate: true });
      await waitForTicket(stack.t, first.body.ticketId, outboxSettled);
    });

    it('two concurrent deliveries without a Message-ID make one ticket', async () => {
      const email = base();
      const before = await tableCounts(stack.t);
      const results = await Promise.all(Array.from({ length: 6 }, () => postEmail(stack.t, email)));
      expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 202]);
      expect((await tableCounts(stack.t)).tickets).toBe(before.tickets + 1);
      await waitForTicket(stack.t, results.find((r) => r.status === 202)!.body.ticketId, outboxSettled);
    });
  });

  it('a repeat of an ignored auto-reply is a duplicate too', async () => {
    const email = customerEmail({ messageId: uniqueId('Auto-Repeat'), headers: { 'Auto-Submitted': 'auto-replied' }, subject: 'Автоответ: я в отпуске' });
    const first = await postEmail(stack.t, email).expect(202);
    expect(first.body).toMatchObject({ status: 'ignored' });
    const counts = await tableCounts(stack.t);
    expect((await postEmail(stack.t, email).expect(200)).body).toEqual({ ticketId: first.body.ticketId, duplicate: true });
    expect(await tableCounts(stack.t)).toEqual(counts);
    expect((await storedInbound(stack.t, bare(email.messageId!)))?.deliveryStatus).toBe('ignored');
  });
});
