import type { TelegramScriptedReply } from '../peers/telegram.peer.js';
import { testDatabases } from '../support/databases.js';
import { eventsOf, outboundEmails, outboundNotices, uniqueAddress } from '../support/dispatch-helpers.js';
import { customerEmail, outboxSettled, postEmail, type TicketDetail, waitForTicket } from '../support/http.js';
import { type AnalysisArgs, decisionReply, stackForSuite } from '../support/stack.js';

const HOSTILE = '<script>alert(1)</script> a < b & c "quotes" &amp; literally';

const ESCALATE: AnalysisArgs = {
  decision: 'escalate_to_human',
  issue_summary: 'Клиент требует вернуть деньги за двойное списание',
  draft_reply: 'Здравствуйте! Мы проверяем платёж.',
  escalation_reason: 'спор об оплате',
};

function telegramError(status: number, description: string): TelegramScriptedReply {
  return { status, body: { ok: false, error_code: status, description } };
}

describe.each(testDatabases())('dispatch to Telegram on %s', (kind) => {
  const stack = stackForSuite(kind, { gigachat: { scope: 'GIGACHAT_API_B2B' } });

  beforeEach(() => {
    stack.gigachat!.setResponder(undefined);
  });

  /** Posts an e-mail the AI escalates and waits until the operators' notice settled. */
  async function escalated(args: Partial<AnalysisArgs> = {}, email = customerEmail({ from: uniqueAddress() })): Promise<TicketDetail> {
    stack.gigachat!.script(decisionReply({ ...ESCALATE, ...args }));
    const accepted = await postEmail(stack.t, email).expect(202);
    return waitForTicket(stack.t, accepted.body.ticketId, (t) => outboxSettled(t) && outboundNotices(t).length > 0);
  }

  it('a notice with parse_mode HTML reaches the operators’ chat and is stored with its message_id', async () => {
    const ticket = await escalated();
    expect(ticket).toMatchObject({ status: 'escalated', decision: 'escalate_to_human', statusReason: 'the AI asked for a human: спор об оплате' });
    expect(stack.telegram!.messages).toHaveLength(1);
    const notice = stack.telegram!.messages[0]!;
    expect(notice).toMatchObject({ chatId: stack.telegram!.chatId, parseMode: 'HTML' });
    for (const part of [`#${ticket.number}`, 'Иван Петров', ticket.customerEmail, 'Возврат кроссовок', 'двойное списание', 'спор об оплате', 'Мы проверяем платёж.']) {
      expect(notice.visibleText).toContain(part);
    }
    const [stored] = outboundNotices(ticket);
    expect(stored).toMatchObject({ kind: 'escalation', deliveryStatus: 'sent', attempts: 1, externalId: String(notice.messageId), to: [`telegram:${stack.telegram!.chatId}`] });
    expect(outboundEmails(ticket)).toHaveLength(0);
    expect(stack.smtp!.mails).toHaveLength(0);
  });

  it('429 with retry_after, then success: one message, sent on the second attempt after the delay Telegram asked for', async () => {
    stack.telegram!.failWith429(1, 1);
    const ticket = await escalated();

    expect(stack.telegram!.requests).toHaveLength(2);
    expect(stack.telegram!.messages).toHaveLength(1);
    const [stored] = outboundNotices(ticket);
    expect(stored).toMatchObject({ deliveryStatus: 'sent', attempts: 2, externalId: String(stack.telegram!.messages[0]!.messageId), lastError: null });
    const retries = eventsOf(ticket, 'delivery.retry');
    expect(retries).toHaveLength(1);
    expect(retries[0]!.message).toMatch(/Too Many Requests/);
    expect(retries[0]!.data).toMatchObject({ delayMs: 1000 });
  });

  it('a 400 about entities: sent again as plain text, without parse_mode, and delivered', async () => {
    stack.telegram!.script(telegramError(400, 'Bad Request: can\'t parse entities: Unsupported start tag "foo" at byte offset 12'));
    const ticket = await escalated({ issue_summary: `Суть: ${HOSTILE}` }, customerEmail({ from: uniqueAddress(), subject: `Тема ${HOSTILE}` }));

    expect(stack.telegram!.requests).toHaveLength(2);
    expect((stack.telegram!.requests[0]!.body as Record<string, unknown>).parse_mode).toBe('HTML');
    expect(stack.telegram!.messages).toHaveLength(1);
    const notice = stack.telegram!.messages[0]!;
    expect(notice.parseMode).toBeUndefined();
    expect(notice.raw.parse_mode).toBeUndefined();
    // Plain text is shown as is: no tags, no entities.
    expect(notice.text).toBe(notice.visibleText);
    expect(notice.text).not.toContain('<b>');
    expect(notice.text).toContain(`Тема ${HOSTILE}`);
    expect(notice.text).toContain(`Суть: ${HOSTILE}`);
    expect(notice.text).toContain(`#${ticket.number}`);
    expect(outboundNotices(ticket)[0]).toMatchObject({ deliveryStatus: 'sent', attempts: 1, externalId: String(notice.messageId) });
  });

  it.each<[string, TelegramScriptedReply]>([
    ['502 Bad Gateway', telegramError(502, 'Bad Gateway')],
    ['500 Internal Server Error', telegramError(500, 'Internal Server Error')],
    ['a dropped connection', { status: 0, body: '', dropConnection: true }],
  ])('%s, then success: retried once and delivered once', async (_name, failure) => {
    stack.telegram!.script(failure);
    const ticket = await escalated();

    expect(stack.telegram!.requests).toHaveLength(2);
    expect(stack.telegram!.messages).toHaveLength(1);
    expect(outboundNotices(ticket)[0]).toMatchObject({ deliveryStatus: 'sent', attempts: 2, externalId: String(stack.telegram!.messages[0]!.messageId) });
    expect(eventsOf(ticket, 'delivery.retry')).toHaveLength(1);
    expect(ticket.status).toBe('escalated');
  });

  it.each<[string, TelegramScriptedReply]>([
    ['400 chat not found', telegramError(400, 'Bad Request: chat not found')],
    ['403 bot was kicked', telegramError(403, 'Forbidden: bot was kicked from the supergroup chat')],
    ['401 Unauthorized', telegramError(401, 'Unauthorized')],
  ])('a permanent refusal (%s): failed at once, recorded, the ticket stays escalated', async (_name, failure) => {
    const { description } = failure.body as { description: string };
    stack.telegram!.script(failure);
    const ticket = await escalated();

    const [stored] = outboundNotices(ticket);
    expect(stored).toMatchObject({ deliveryStatus: 'failed', attempts: 1 });
    expect(stored!.lastError).toContain(description);
    const failed = eventsOf(ticket, 'delivery.failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.message).toContain(description);
    expect(eventsOf(ticket, 'delivery.retry')).toHaveLength(0);
    expect(ticket).toMatchObject({ status: 'escalated', statusReason: 'the AI asked for a human: спор об оплате' });
    expect(stack.telegram!.requests).toHaveLength(1);
    expect(stack.telegram!.messages).toHaveLength(0);
    // The token is part of the URL: it must not leak into what is stored.
    expect(JSON.stringify(ticket)).not.toContain(stack.telegram!.token);
  });

  it('hostile customer and AI text reaches the chat intact (the peer refuses unescaped HTML)', async () => {
    const email = customerEmail({
      from: `"${HOSTILE}" <${uniqueAddress('hostile')}>`,
      subject: `Тема ${HOSTILE}`,
      text: `Текст ${HOSTILE}`,
    });
    const ticket = await escalated(
      {
        full_name: 'Иван "Ваня" <b>Петров</b> & Co',
        issue_summary: `Суть ${HOSTILE}`,
        escalation_reason: `причина ${HOSTILE}`,
        draft_reply: `Черновик ${HOSTILE} </blockquote><i>`,
      },
      email,
    );

    expect(stack.telegram!.requests).toHaveLength(1);
    expect(stack.telegram!.messages).toHaveLength(1);
    const notice = stack.telegram!.messages[0]!;
    expect(notice.parseMode).toBe('HTML');
    for (const part of [
      `Иван "Ваня" <b>Петров</b> & Co <${ticket.customerEmail}>`,
      `Тема ${HOSTILE}`,
      `Суть ${HOSTILE}`,
      `причина ${HOSTILE}`,
      `Черновик ${HOSTILE} </blockquote><i>`,
    ]) {
      expect(notice.visibleText).toContain(part);
    }
    expect(notice.text).not.toContain('<script>');
    expect(outboundNotices(ticket)[0]).toMatchObject({ deliveryStatus: 'sent', attempts: 1 });
  });

  it('a 20,000-character e-mail with a long draft: the notice fits 4096 characters and keeps what matters', async () => {
    const body = 'Очень длинное письмо клиента о проблеме с заказом. '.repeat(400).slice(0, 20_000);
    const subject = `Проблема с заказом 12345 ${'и ещё одна подробность '.repeat(300)}`;
    const reason = `слишком сложный случай ${'подробности '.repeat(150)}`.slice(0, 2000);
    const email = customerEmail({ from: `Иван Петров <${uniqueAddress('long')}>`, subject, text: body });
    const ticket = await escalated(
      {
        issue_summary: `Суть ${'х'.repeat(1990)}`,
        escalation_reason: reason,
        draft_reply: `Здравствуйте! ${'Длинный черновик ответа. '.repeat(800)}`.slice(0, 19_000),
      },
      email,
    );

    const inbound = ticket.messages.find((m) => m.direction === 'inbound')!;
    expect(inbound.text).toHaveLength(20_000);
    expect(stack.telegram!.messages).toHaveLength(1);
    const notice = stack.telegram!.messages[0]!;
    expect(notice.visibleText.length).toBeLessThanOrEqual(4096);
    expect(notice.visibleText).toContain(`#${ticket.number}`);
    expect(notice.visibleText).toContain(`Иван Петров <${ticket.customerEmail}>`);
    expect(notice.visibleText).toContain('the AI asked for a human: слишком сложный случай');
    expect(notice.visibleText).toContain('Проблема с заказом 12345');
    expect(notice.visibleText).toContain('Здравствуйте! Длинный черновик ответа.');
    expect(outboundNotices(ticket)[0]).toMatchObject({ deliveryStatus: 'sent', attempts: 1 });
  });

  it('a notice for each escalation: two tickets, two messages, in the right chat', async () => {
    const first = await escalated();
    const second = await escalated({ escalation_reason: 'клиент грозит судом' });
    expect(stack.telegram!.messagesTo(stack.telegram!.chatId)).toHaveLength(2);
    expect(stack.telegram!.messages[0]!.visibleText).toContain(`#${first.number}`);
    expect(stack.telegram!.messages[1]!.visibleText).toContain(`#${second.number}`);
    expect(stack.telegram!.messages[1]!.visibleText).toContain('клиент грозит судом');
  });
});

describe.each(testDatabases())('escalations without Telegram settings on %s', (kind) => {
  const stack = stackForSuite(kind, { gigachat: { scope: 'GIGACHAT_API_B2B' }, telegram: false });

  it('the escalation is recorded on the ticket, saying Telegram is not configured, and nothing is sent', async () => {
    stack.gigachat!.script(decisionReply(ESCALATE));
    const accepted = await postEmail(stack.t, customerEmail({ from: uniqueAddress() })).expect(202);
    const ticket = await waitForTicket(stack.t, accepted.body.ticketId, (t) => outboxSettled(t) && eventsOf(t, 'ticket.escalated').length > 0);

    expect(ticket).toMatchObject({ status: 'escalated', statusReason: 'the AI asked for a human: спор об оплате' });
    const [event] = eventsOf(ticket, 'ticket.escalated');
    expect(event!.message).toMatch(/Telegram is not configured/);
    expect(event!.message).toContain('спор об оплате');
    expect(event!.data).toMatchObject({ notified: false });
    expect(ticket.messages.filter((m) => m.direction === 'outbound')).toHaveLength(0);
    expect(eventsOf(ticket, 'delivery.queued')).toHaveLength(0);
    expect(stack.smtp!.mails).toHaveLength(0);
  });

  it('a reply that cannot be delivered is escalated the same way', async () => {
    stack.gigachat!.script(decisionReply({ decision: 'full_answer' }));
    stack.smtp!.failNext(1, 550, '5.1.1 No such user');
    const accepted = await postEmail(stack.t, customerEmail({ from: uniqueAddress() })).expect(202);
    const ticket = await waitForTicket(stack.t, accepted.body.ticketId, (t) => outboxSettled(t) && t.status === 'escalated');

    expect(outboundEmails(ticket)[0]).toMatchObject({ deliveryStatus: 'failed', attempts: 1 });
    const [event] = eventsOf(ticket, 'ticket.escalated');
    expect(event!.message).toMatch(/Telegram is not configured/);
    expect(event!.message).toMatch(/SMTP 550/);
    expect(outboundNotices(ticket)).toHaveLength(0);
  });
});
