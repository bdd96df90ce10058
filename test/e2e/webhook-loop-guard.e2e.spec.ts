import { randomUUID } from 'node:crypto';
import { testDatabases } from '../support/databases.js';
import { customerEmail, type EmailJson, getTicket, outboxSettled, postEmail, postRawEmail, type TicketDetail, waitForTicket } from '../support/http.js';
import { countOf, decidedControl, eventTypes } from '../support/ingestion-helpers.js';
import { crlf } from '../support/ingestion-mime.js';
import { decisionReply, promptText, stackForSuite } from '../support/stack.js';

/**
 * SPEC.md "Loop safety": automatic mail (auto-replies, lists, bounces, ourselves) is stored as
 * `ignored` with its reason, is never analysed (no GigaChat call) and never answered.
 */
describe.each(testDatabases())('webhook loop guard on %s', (kind) => {
  const stack = stackForSuite(kind, { gigachat: { scope: 'GIGACHAT_API_B2B' } });

  /**
   * The e-mail is taken (202, `ignored`, with the reason), stored as an ignored ticket with a
   * `message.ignored` event, and after a control e-mail has been analysed it is clear that
   * GigaChat never saw it and nobody was written to.
   */
  async function expectIgnored(res: { status: number; body: Record<string, unknown> }, marker: string, reason: RegExp): Promise<TicketDetail> {
    expect({ status: res.status, body: res.body }).toMatchObject({ status: 202, body: { status: 'ignored', duplicate: false, ignoredReason: expect.stringMatching(reason) } });
    const ticketId = res.body.ticketId as string;

    const control = await decidedControl(stack);
    expect(stack.gigachat!.chatBodies).toHaveLength(1);
    expect(promptText(stack.gigachat!.chatBodies[0])).toContain(control.subject);
    expect(stack.gigachat!.chatBodies.map(promptText).join('\n')).not.toContain(marker);
    expect(stack.smtp!.mails).toHaveLength(0);
    expect(stack.telegram!.messages.map((m) => m.visibleText).join('\n')).not.toContain(marker);

    const ticket = await getTicket(stack.t, ticketId);
    expect(ticket).toMatchObject({ status: 'ignored', decision: null, statusReason: expect.stringMatching(reason) });
    expect(ticket.messages).toHaveLength(1);
    expect(ticket.messages[0]).toMatchObject({ direction: 'inbound', deliveryStatus: 'ignored', ignoredReason: expect.stringMatching(reason) });
    expect(eventTypes(ticket)).toEqual(['ticket.received', 'message.ignored']);
    expect(ticket.events[1].message).toMatch(reason);
    return ticket;
  }

  const marked = (overrides: Partial<EmailJson>) => {
    const marker = `авто-${randomUUID().slice(0, 8)}`;
    return { marker, email: customerEmail({ subject: `Письмо ${marker}`, text: `Текст письма ${marker}: заказ доставлен?`, ...overrides }) };
  };

  const headerRules: Array<[string, Record<string, string>, RegExp]> = [
    ['Auto-Submitted: auto-replied', { 'Auto-Submitted': 'auto-replied' }, /auto-submitted/i],
    ['Auto-Submitted: auto-generated', { 'Auto-Submitted': 'auto-generated' }, /auto-submitted/i],
    ['Auto-Submitted: auto-notified with a parameter', { 'Auto-Submitted': 'auto-notified; owner-email="robot@example.ru"' }, /auto-submitted/i],
    ['auto-submitted (header name in lower case)', { 'auto-submitted': 'auto-replied' }, /auto-submitted/i],
    ['Precedence: bulk', { Precedence: 'bulk' }, /precedence/i],
    ['Precedence: junk', { Precedence: 'junk' }, /precedence/i],
    ['Precedence: list', { Precedence: 'list' }, /precedence/i],
    ['Precedence: auto_reply', { Precedence: 'auto_reply' }, /precedence/i],
    ['PRECEDENCE: BULK (any case)', { PRECEDENCE: 'BULK' }, /precedence/i],
    ['X-Precedence: bulk', { 'X-Precedence': 'bulk' }, /precedence/i],
    ['X-Precedence: junk', { 'X-Precedence': 'junk' }, /precedence/i],
    ['X-Precedence: list', { 'X-Precedence': 'list' }, /precedence/i],
    ['X-Precedence: auto_reply', { 'X-Precedence': 'auto_reply' }, /precedence/i],
    ['X-Autoreply', { 'X-Autoreply': 'yes' }, /x-autoreply/i],
    ['X-Autorespond', { 'X-Autorespond': 'Vacation' }, /x-autorespond/i],
    ['X-Autoresponder', { 'X-Autoresponder': 'true' }, /x-autoresponder/i],
    ['X-Loop', { 'X-Loop': 'support@severveter.example' }, /x-loop/i],
    ['List-Id', { 'List-Id': 'Новости магазина <news.shop.example>' }, /list-id/i],
    ['List-Unsubscribe', { 'List-Unsubscribe': '<mailto:unsubscribe@news.shop.example>, <https://news.shop.example/u/1>' }, /list-unsubscribe/i],
    ['null Return-Path <>', { 'Return-Path': '<>' }, /return-path/i],
    ['Precedence twice (first-class, bulk): either one counts', { Precedence: 'first-class', precedence: 'bulk' }, /precedence/i],
    ['Auto-Submitted twice (no, auto-replied): the automatic one counts', { 'Auto-Submitted': 'no', 'auto-submitted': 'auto-replied' }, /auto-submitted/i],
  ];

  it.each(headerRules)('%s → ignored, never analysed, never answered', async (_name, headers, reason) => {
    const { marker, email } = marked({ headers });
    await expectIgnored(await postEmail(stack.t, email), marker, reason);
  });

  const senderRules: Array<[string, string, RegExp]> = [
    ['MAILER-DAEMON', 'Mail Delivery Subsystem <MAILER-DAEMON@mx.example.ru>', /mailer-daemon/i],
    ['postmaster', 'postmaster@example.ru', /postmaster/i],
    ['noreply', 'Магазин <noreply@shop.example>', /noreply/i],
    ['no-reply', 'no-reply@accounts.example.com', /no-reply/i],
    ['no-reply-aws', 'Amazon Web Services <no-reply-aws@amazon.example>', /no-reply-aws/i],
    ['noreply-dmarc-support', 'noreply-dmarc-support@google.example', /noreply-dmarc/i],
    ['notifications-noreply', 'notifications-noreply@linkedin.example', /notifications-noreply/i],
    ['noreply+tag', 'noreply+bounce-42@shop.example', /noreply\+bounce/i],
    ['do_not_reply', 'DO_NOT_REPLY@bank.example', /do_not_reply/i],
    ["MAIL_FROM's own address", 'Северный Ветер <support@severveter.example>', /own|our/i],
    ["MAIL_FROM's own address in another case", 'SUPPORT@SEVERVETER.EXAMPLE', /own|our/i],
  ];

  it.each(senderRules)('mail from %s → ignored, never analysed, never answered', async (_name, from, reason) => {
    const { marker, email } = marked({ from });
    await expectIgnored(await postEmail(stack.t, email), marker, reason);
  });

  it.each([
    ['as we mint it', (uuid: string) => `<ais-${uuid}@severveter.example>`],
    ['with the domain upper-cased', (uuid: string) => `<ais-${uuid}@SEVERVETER.EXAMPLE>`],
  ])('a Message-ID minted by us (%s) → ignored: our own mail came back', async (_name, id) => {
    const { marker, email } = marked({ from: 'Иван <ivan.loop@example.ru>', messageId: id(randomUUID()) });
    await expectIgnored(await postEmail(stack.t, email), marker, /message-id|own|our/i);
  });

  it('a delivery status report (raw multipart/report; report-type=delivery-status) → ignored', async () => {
    const marker = `dsn-${randomUUID().slice(0, 8)}`;
    const raw = crlf(`From: Mail Delivery System <mail-robot@mx.example.ru>
To: support@severveter.example
Subject: Undelivered Mail Returned to Sender ${marker}
Date: Wed, 26 Nov 2025 10:00:00 +0300
Message-ID: <dsn-${randomUUID()}@mx.example.ru>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
 boundary="dsn-boundary-1"

--dsn-boundary-1
Content-Type: text/plain; charset=utf-8
Content-Description: Notification

This is the mail system at host mx.example.ru. ${marker}
I'm sorry to have to inform you that your message could not be delivered.

<ivan.gone@example.ru>: host mx.example.ru said: 550 5.1.1 User unknown

--dsn-boundary-1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.ru
Arrival-Date: Wed, 26 Nov 2025 10:00:00 +0300

Final-Recipient: rfc822; ivan.gone@example.ru
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--dsn-boundary-1
Content-Type: text/rfc822-headers

From: Северный Ветер <support@severveter.example>
To: ivan.gone@example.ru
Subject: Re: Где мой заказ?

--dsn-boundary-1--
`);
    await expectIgnored(await postRawEmail(stack.t, raw), marker, /delivery status/i);
  });

  it.each([
    ['X-Autoreply: no', { from: 'Иван <ivan.person1@example.ru>', headers: { 'X-Autoreply': 'no' } }],
    ['a name that merely contains "reply"', { from: 'Нора <nora.reply@example.ru>' }],
    ['a local part that merely starts with "noreply"', { from: 'noreplyfan@example.ru' }],
  ])('%s is a person writing: analysed as usual', async (_name, overrides) => {
    const { marker, email } = marked(overrides);
    const res = await postEmail(stack.t, email).expect(202);
    expect(res.body).toMatchObject({ status: 'received' });
    expect(res.body.ignoredReason).toBeUndefined();
    const ticket = await waitForTicket(stack.t, res.body.ticketId, outboxSettled);
    expect(eventTypes(ticket)).not.toContain('message.ignored');
    expect(stack.gigachat!.chatBodies.map(promptText).join('\n')).toContain(marker);
  });

  it('Auto-Submitted: no is a person writing: analysed as usual', async () => {
    const { marker, email } = marked({ headers: { 'Auto-Submitted': 'no', Precedence: 'first-class' } });
    const res = await postEmail(stack.t, email).expect(202);
    expect(res.body).toMatchObject({ status: 'received' });
    expect(res.body.ignoredReason).toBeUndefined();
    const ticket = await waitForTicket(stack.t, res.body.ticketId, outboxSettled);
    expect(ticket.status).toBe('escalated'); // the peer's default answer is not a valid analysis
    expect(eventTypes(ticket)).not.toContain('message.ignored');
    expect(countOf(eventTypes(ticket), 'ai.requested')).toBe(1);
    expect(stack.gigachat!.chatBodies.map(promptText).join('\n')).toContain(marker);
  });

  describe('an out-of-office reply threaded into an existing ticket', () => {
    async function answeredTicket(customer: string): Promise<TicketDetail> {
      stack.gigachat!.script(decisionReply({ decision: 'full_answer', draft_reply: 'Здравствуйте! Возврат оформляется в личном кабинете. Служба поддержки' }));
      const res = await postEmail(stack.t, customerEmail({ from: customer, subject: 'Как вернуть товар?' })).expect(202);
      const ticket = await waitForTicket(stack.t, res.body.ticketId, outboxSettled);
      expect(ticket.status).toBe('answered');
      stack.gigachat!.reset();
      return ticket;
    }

    async function expectStoredAndIgnored(ticket: TicketDetail, res: { status: number; body: Record<string, unknown> }, marker: string): Promise<void> {
      expect({ status: res.status, body: res.body }).toMatchObject({ status: 202, body: { ticketId: ticket.id, followUp: true, duplicate: false, ignoredReason: expect.stringMatching(/auto-submitted/i) } });
      await decidedControl(stack);
      expect(stack.gigachat!.chatBodies).toHaveLength(1);
      expect(promptText(stack.gigachat!.chatBodies[0])).not.toContain(marker);
      expect(stack.smtp!.mails).toHaveLength(1); // only the original answer

      const after = await getTicket(stack.t, ticket.id);
      expect(after).toMatchObject({ status: 'answered', decision: 'full_answer', statusReason: ticket.statusReason, draftReply: ticket.draftReply });
      expect(after.messages).toHaveLength(ticket.messages.length + 1);
      expect(after.messages.at(-1)).toMatchObject({ direction: 'inbound', deliveryStatus: 'ignored', ignoredReason: expect.stringMatching(/auto-submitted/i) });
      expect(after.messages.at(-1)!.text).toContain(marker);
      const added = after.events.slice(ticket.events.length).map((e) => e.type);
      expect(added).toEqual(['message.ignored']);
    }

    it('as JSON: stored on the ticket as ignored; status unchanged; no analysis; no e-mail', async () => {
      const ticket = await answeredTicket('Иван <ivan.ooo1@example.ru>');
      const ours = ticket.messages.find((m) => m.direction === 'outbound')!.messageId!;
      const marker = `отпуск-${randomUUID().slice(0, 8)}`;
      const res = await postEmail(
        stack.t,
        customerEmail({
          from: 'Иван <ivan.ooo1@example.ru>',
          subject: `Автоматический ответ: Re: Как вернуть товар? [#${ticket.number}]`,
          text: `Я в отпуске до 1 декабря, отвечу после возвращения. ${marker}`,
          inReplyTo: `<${ours}>`,
          headers: { 'Auto-Submitted': 'auto-replied', 'X-Auto-Response-Suppress': 'All' },
        }),
      );
      await expectStoredAndIgnored(ticket, res, marker);
    });

    it('as raw MIME (Outlook-style headers): the same', async () => {
      const ticket = await answeredTicket('ivan.ooo2@example.ru');
      const ours = ticket.messages.find((m) => m.direction === 'outbound')!.messageId!;
      const marker = `ooo-${randomUUID().slice(0, 8)}`;
      const raw = crlf(`From: Ivan <ivan.ooo2@example.ru>
To: =?UTF-8?B?0KHQtdCy0LXRgNC90YvQuSDQktC10YLQtdGA?= <support@severveter.example>
Subject: =?UTF-8?B?${Buffer.from(`Автоматический ответ: Re: Как вернуть товар? [#${ticket.number}]`).toString('base64')}?=
Date: Wed, 26 Nov 2025 10:00:00 +0300
Message-ID: <ooo-${randomUUID()}@outlook.example.ru>
In-Reply-To: <${ours}>
References: <${ticket.messages[0].messageId}> <${ours}>
Auto-Submitted: auto-replied
X-Auto-Response-Suppress: All
Content-Type: text/plain; charset=utf-8

I am out of the office until 1 December. ${marker}
`);
      await expectStoredAndIgnored(ticket, await postRawEmail(stack.t, raw), marker);
    });
  });
});
