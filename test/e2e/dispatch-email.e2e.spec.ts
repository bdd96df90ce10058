import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import type { ReceivedMail } from '../peers/smtp.peer.js';
import { testDatabases } from '../support/databases.js';
import {
  alwaysDecide,
  bareMessageId,
  emlFiles,
  eventsOf,
  foldedHeaderLines,
  messageIds,
  outboundEmails,
  rawHeader,
  uniqueAddress,
} from '../support/dispatch-helpers.js';
import { customerEmail, outboxSettled, postEmail, type TicketDetail, waitForTicket } from '../support/http.js';
import { decisionReply, fileOutboxStackForSuite, promptText, stackForSuite } from '../support/stack.js';

const SHOP_ADDRESS = 'support@severveter.example';
const DRAFT = 'Здравствуйте, Иван! Оформите возврат в разделе «Мои заказы» в течение 14 дней.\n\nСлужба поддержки';

/** Every header the contract names, checked on the mail as the server received it. */
function expectReplyHeaders(mail: ReceivedMail, ticket: TicketDetail, expected: { to: string; subject: string; inReplyTo: string; references: string[] }): void {
  expect(mail.envelopeFrom).toBe(SHOP_ADDRESS);
  expect(mail.recipients).toEqual([expected.to]);
  expect(mail.parsed.from?.value).toEqual([{ address: SHOP_ADDRESS, name: 'Северный Ветер' }]);
  const to = Array.isArray(mail.parsed.to) ? mail.parsed.to.flatMap((a) => a.value) : (mail.parsed.to?.value ?? []);
  expect(to.map((a) => a.address)).toEqual([expected.to]);
  expect(mail.parsed.subject).toBe(expected.subject);
  expect(mail.parsed.inReplyTo).toBe(expected.inReplyTo);
  expect(messageIds(mail.parsed.references)).toEqual(expected.references);
  expect(mail.parsed.headers.get('auto-submitted')).toBe('auto-replied');
  expect(mail.parsed.headers.get('x-auto-response-suppress')).toBe('All');

  // A Message-ID on MAIL_FROM's domain, the one stored on the outbound message.
  expect(mail.parsed.messageId).toMatch(/^<[^<>@\s]+@severveter\.example>$/);
  const stored = outboundEmails(ticket).find((m) => m.messageId === bareMessageId(mail));
  expect(stored, 'the Message-ID sent is the one stored').toBeDefined();
  expect(stored).toMatchObject({ deliveryStatus: 'sent', to: [expected.to], subject: expected.subject });
}

describe.each(testDatabases())('dispatch by e-mail over SMTP on %s', (kind) => {
  const stack = stackForSuite(kind, { gigachat: { scope: 'GIGACHAT_API_B2B' } });

  beforeEach(() => {
    stack.gigachat!.setResponder(undefined);
  });

  it('full_answer: the reply carries every threading and loop-safety header', async () => {
    const address = uniqueAddress('ivan');
    stack.gigachat!.script(decisionReply({ decision: 'full_answer', draft_reply: DRAFT }));
    const email = customerEmail({ from: `Иван Петров <${address}>`, references: '<older-1@mail.example.ru> <older-2@mail.example.ru>' });
    const accepted = await postEmail(stack.t, email).expect(202);
    const ticket = await waitForTicket(stack.t, accepted.body.ticketId, outboxSettled);
    expect(ticket.status).toBe('answered');

    const [mail] = await stack.smtp!.waitForMails(1);
    expectReplyHeaders(mail, ticket, {
      to: address,
      subject: `Re: Возврат кроссовок [#${ticket.number}]`,
      inReplyTo: email.messageId!,
      references: ['<older-1@mail.example.ru>', '<older-2@mail.example.ru>', email.messageId!],
    });
    expect(mail.parsed.text?.trim()).toBe(DRAFT);
    const [outbound] = outboundEmails(ticket);
    expect(outbound).toMatchObject({ kind: 'reply', attempts: 1, inReplyTo: email.messageId!.slice(1, -1) });
    expect(stack.smtp!.mails).toHaveLength(1);
  });

  it('need_more_info: the request goes to Reply-To when the customer gave one', async () => {
    const address = uniqueAddress('olga');
    const replyTo = uniqueAddress('olga.home');
    stack.gigachat!.script(decisionReply({ decision: 'need_more_info', draft_reply: 'Подскажите номер заказа, пожалуйста.', missing_details: ['номер заказа'] }));
    const email = customerEmail({ from: `Ольга <${address}>`, replyTo, subject: 'Где мой заказ?' });
    const accepted = await postEmail(stack.t, email).expect(202);
    const ticket = await waitForTicket(stack.t, accepted.body.ticketId, outboxSettled);
    expect(ticket.status).toBe('awaiting_customer');

    const [mail] = await stack.smtp!.waitForMails(1);
    expectReplyHeaders(mail, ticket, {
      to: replyTo,
      subject: `Re: Где мой заказ? [#${ticket.number}]`,
      inReplyTo: email.messageId!,
      references: [email.messageId!],
    });
    expect(outboundEmails(ticket)[0]!.kind).toBe('info_request');
  });

  it.each(['Re: Где мой заказ?', 'RE: Где мой заказ?', 'Ответ: Где мой заказ?', 'Re: RE: Где мой заказ?'])('subject %j gets no second prefix', async (subject) => {
    stack.gigachat!.script(decisionReply({ decision: 'full_answer' }));
    const accepted = await postEmail(stack.t, customerEmail({ from: uniqueAddress(), subject })).expect(202);
    const ticket = await waitForTicket(stack.t, accepted.body.ticketId, outboxSettled);
    const [mail] = await stack.smtp!.waitForMails(1);
    expect(mail.parsed.subject).toBe(`Re: Где мой заказ? [#${ticket.number}]`);
  });

  it('a long References chain is trimmed under 2 KB, keeping the first and the last ids', async () => {
    const chain = Array.from({ length: 100 }, (_, i) => `<ref-${String(i).padStart(3, '0')}-${'x'.repeat(40)}@mail.example.ru>`);
    stack.gigachat!.script(decisionReply({ decision: 'full_answer' }));
    const email = customerEmail({ from: uniqueAddress(), references: chain });
    const accepted = await postEmail(stack.t, email).expect(202);
    const ticket = await waitForTicket(stack.t, accepted.body.ticketId, outboxSettled);

    const [mail] = await stack.smtp!.waitForMails(1);
    const header = rawHeader(mail.raw, 'References')!;
    expect(`References: ${header}`.length).toBeLessThan(2048);
    const ids = messageIds(header);
    expect(ids[0]).toBe(chain[0]);
    expect(ids.at(-1)).toBe(email.messageId);
    expect(ids.at(-2)).toBe(chain[99]);
    expect(ids.length).toBeLessThan(chain.length);
    for (const line of foldedHeaderLines(mail.raw, 'References')) expect(line.length).toBeLessThanOrEqual(998);
    expect(outboundEmails(ticket)[0]!.references).toEqual(ids.map((id) => id.slice(1, -1)));
    expect(mail.parsed.inReplyTo).toBe(email.messageId);
  });

  it('In-Reply-To and References repeat the customer’s Message-IDs exactly as written', async () => {
    // Outlook mints ids with upper-case host names; threading compares ids as exact strings (RFC 5256).
    const messageId = `<AM0PR07MB4321F6E8C1D2B3A4${Date.now()}@AM0PR07MB4321.eurprd07.prod.outlook.com>`;
    const root = '<CAF=Root+Thread@Mail.Gmail.COM>';
    stack.gigachat!.script(decisionReply({ decision: 'full_answer' }));
    const accepted = await postEmail(stack.t, customerEmail({ from: uniqueAddress(), messageId, references: root })).expect(202);
    await waitForTicket(stack.t, accepted.body.ticketId, outboxSettled);
    const [mail] = await stack.smtp!.waitForMails(1);
    expect(mail.parsed.inReplyTo).toBe(messageId);
    expect(messageIds(mail.parsed.references)).toEqual([root, messageId]);
  });

  it('mail that came without a Message-ID gets a reply that names no made-up parent', async () => {
    stack.gigachat!.script(decisionReply({ decision: 'full_answer' }));
    const root = '<thread-root-without-id@mail.example.ru>';
    const accepted = await postEmail(stack.t, customerEmail({ from: uniqueAddress(), messageId: undefined, references: root })).expect(202);
    const ticket = await waitForTicket(stack.t, accepted.body.ticketId, outboxSettled);
    const [mail] = await stack.smtp!.waitForMails(1);
    // The de-duplication key we made up is on the stored message, never on the wire.
    expect(ticket.messages.find((m) => m.direction === 'inbound')!.messageId).toMatch(/@generated\.ai-support\.invalid$/);
    expect(mail.parsed.inReplyTo).toBeUndefined();
    expect(messageIds(mail.parsed.references)).toEqual([root]);
    expect(mail.raw).not.toContain('generated.ai-support.invalid');
    expect(outboundEmails(ticket)[0]).toMatchObject({ deliveryStatus: 'sent', inReplyTo: null });
  });

  it('replies one after another go over one kept SMTP connection', async () => {
    alwaysDecide(stack.gigachat!, { decision: 'full_answer' });
    for (let i = 0; i < 3; i++) {
      const accepted = await postEmail(stack.t, customerEmail({ from: uniqueAddress() })).expect(202);
      await waitForTicket(stack.t, accepted.body.ticketId, outboxSettled);
    }
    expect(await stack.smtp!.waitForMails(3)).toHaveLength(3);
    // At most one new connection: none when the one kept from an earlier test is still open.
    expect(stack.smtp!.connections).toBeLessThanOrEqual(1);
  });

  it('line breaks in the customer’s subject and ids cannot add headers or recipients', async () => {
    const address = uniqueAddress('crlf');
    stack.gigachat!.script(decisionReply({ decision: 'full_answer' }));
    const email = customerEmail({
      from: address,
      subject: 'Заказ\r\nBcc: evil@attacker.example\r\nX-Injected: 1',
      references: '<ok-1@mail.example.ru>\r\nBcc: evil@attacker.example',
      inReplyTo: '<ok-1@mail.example.ru>\nX-Injected: 1',
    });
    const accepted = await postEmail(stack.t, email).expect(202);
    const ticket = await waitForTicket(stack.t, accepted.body.ticketId, outboxSettled);
    const [mail] = await stack.smtp!.waitForMails(1);
    expect(mail.recipients).toEqual([address]);
    const head = mail.raw.split('\r\n\r\n', 1)[0]!;
    expect(head).not.toMatch(/^bcc:/im);
    expect(head).not.toMatch(/^x-injected:/im);
    expect(mail.parsed.bcc).toBeUndefined();
    expect(mail.parsed.subject).toBe(`Re: Заказ Bcc: evil@attacker.example X-Injected: 1 [#${ticket.number}]`);
    expect(mail.parsed.inReplyTo).toBe(email.messageId);
  });

  it('the customer’s answer to our Message-ID threads back into the ticket and is answered in the same thread', async () => {
    const address = uniqueAddress('loop');
    stack.gigachat!.script(
      decisionReply({ decision: 'full_answer', draft_reply: 'Вернуть товар можно в течение 14 дней.' }),
      decisionReply({ decision: 'full_answer', draft_reply: 'Деньги вернутся на карту за 3–5 рабочих дней.' }),
    );
    const first = customerEmail({ from: `Иван Петров <${address}>` });
    const accepted = await postEmail(stack.t, first).expect(202);
    const ticketId = accepted.body.ticketId as string;
    const answered = await waitForTicket(stack.t, ticketId, outboxSettled);
    const [reply] = await stack.smtp!.waitForMails(1);
    expect(reply.parsed.subject).toBe(`Re: Возврат кроссовок [#${answered.number}]`);

    // What a mail client sends when the customer presses "Reply".
    const answer = customerEmail({
      from: `Иван Петров <${address}>`,
      subject: `Re: ${reply.parsed.subject}`,
      inReplyTo: reply.parsed.messageId,
      references: [first.messageId!, reply.parsed.messageId!],
      text: 'Спасибо! А через сколько дней вернутся деньги?\n\n> Вернуть товар можно в течение 14 дней.',
    });
    const followUp = await postEmail(stack.t, answer).expect(202);
    expect(followUp.body.ticketId).toBe(ticketId);

    const ticket = await waitForTicket(stack.t, ticketId, (t) => outboxSettled(t) && outboundEmails(t).length === 2);
    expect(ticket.status).toBe('answered');
    expect(eventsOf(ticket, 'message.follow_up')).toHaveLength(1);
    expect(eventsOf(ticket, 'ai.completed')).toHaveLength(2);
    const secondPrompt = promptText(stack.gigachat!.chatBodies[1]!);
    expect(secondPrompt).toContain('Вернуть товар можно в течение 14 дней.');
    expect(secondPrompt).toContain('через сколько дней вернутся деньги');

    const mails = await stack.smtp!.waitForMails(2);
    expect(mails).toHaveLength(2);
    expectReplyHeaders(mails[1]!, ticket, {
      to: address,
      subject: `Re: Возврат кроссовок [#${ticket.number}]`,
      inReplyTo: answer.messageId!,
      references: [first.messageId!, reply.parsed.messageId!, answer.messageId!],
    });
    expect(mails[1]!.parsed.messageId).not.toBe(reply.parsed.messageId);
    expect(mails[1]!.parsed.text?.trim()).toBe('Деньги вернутся на карту за 3–5 рабочих дней.');
  });
});

describe.each(testDatabases())('dispatch by e-mail to .eml files (no SMTP_URL) on %s', (kind) => {
  const { stack, outboxDir } = fileOutboxStackForSuite(kind);

  it('the reply is written under MAIL_OUTBOX_DIR with the same headers', async () => {
    const address = uniqueAddress('file');
    stack.gigachat!.script(decisionReply({ decision: 'full_answer', draft_reply: DRAFT }));
    const email = customerEmail({ from: `Иван Петров <${address}>`, subject: 'RE: Возврат кроссовок', references: '<older-1@mail.example.ru>' });
    const accepted = await postEmail(stack.t, email).expect(202);
    const ticket = await waitForTicket(stack.t, accepted.body.ticketId, outboxSettled);
    expect(ticket.status).toBe('answered');
    const [outbound] = outboundEmails(ticket);
    expect(outbound).toMatchObject({ deliveryStatus: 'sent', attempts: 1 });

    const files = emlFiles(outboxDir);
    expect(files).toHaveLength(1);
    expect(readdirSync(outboxDir).filter((f) => !f.endsWith('.eml'))).toEqual([]);
    expect(files[0]).toContain(outbound!.messageId!.split('@')[0]);
    expect(outbound!.providerResponse).toContain(join(outboxDir, files[0]!));
    const raw = readFileSync(join(outboxDir, files[0]!));
    const parsed = await simpleParser(raw);
    expect(parsed.from?.value).toEqual([{ address: SHOP_ADDRESS, name: 'Северный Ветер' }]);
    const to = Array.isArray(parsed.to) ? parsed.to.flatMap((a) => a.value) : (parsed.to?.value ?? []);
    expect(to.map((a) => a.address)).toEqual([address]);
    expect(parsed.subject).toBe(`Re: Возврат кроссовок [#${ticket.number}]`);
    expect(parsed.inReplyTo).toBe(email.messageId);
    expect(messageIds(parsed.references)).toEqual(['<older-1@mail.example.ru>', email.messageId]);
    expect(parsed.headers.get('auto-submitted')).toBe('auto-replied');
    expect(parsed.headers.get('x-auto-response-suppress')).toBe('All');
    expect(parsed.messageId).toBe(`<${outbound!.messageId}>`);
    expect(outbound!.messageId).toMatch(/@severveter\.example$/);
    expect(parsed.text?.trim()).toBe(DRAFT);
  });

  it('several replies become one file each', async () => {
    alwaysDecide(stack.gigachat!, { decision: 'need_more_info', draft_reply: 'Уточните номер заказа.' });
    const before = emlFiles(outboxDir).length;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const accepted = await postEmail(stack.t, customerEmail({ from: uniqueAddress(), subject: `Вопрос ${i}` })).expect(202);
      ids.push(accepted.body.ticketId);
    }
    for (const id of ids) await waitForTicket(stack.t, id, outboxSettled);
    expect(emlFiles(outboxDir)).toHaveLength(before + 3);
  });
});
