import { testDatabases } from '../support/databases.js';
import { customerEmail, decided, getTicket, outboxSettled, postEmail, waitForTicket } from '../support/http.js';
import { decisionReply, promptText, stackForSuite } from '../support/stack.js';

/** Each decision from the webhook to the peer that acts on it (SPEC.md table). */
describe.each(testDatabases())('decisions end to end on %s', (kind) => {
  const stack = stackForSuite(kind, { gigachat: { scope: 'GIGACHAT_API_B2B' } });

  it('full_answer: the drafted answer reaches the customer by e-mail, threaded', async () => {
    stack.gigachat!.script(
      decisionReply({
        decision: 'full_answer',
        draft_reply: 'Здравствуйте, Иван! Оформите возврат в разделе «Мои заказы» в течение 14 дней.\n\nСлужба поддержки',
        used_article_ids: ['returns/how-to-return'],
        confidence: 0.92,
      }),
    );
    const email = customerEmail({ replyTo: 'ivan.home@example.ru', references: '<older-1@mail.example.ru>' });
    const accepted = await postEmail(stack.t, email).expect(202);
    expect(accepted.body).toMatchObject({ status: 'received', duplicate: false, ticketId: expect.any(String) });

    const ticket = await waitForTicket(stack.t, accepted.body.ticketId, outboxSettled);
    expect(ticket).toMatchObject({
      status: 'answered',
      decision: 'full_answer',
      customerName: 'Иван Петров',
      issueSummary: 'Клиент спрашивает, как вернуть товар',
      confidence: 0.92,
      language: 'ru',
    });
    expect(ticket.ai).toMatchObject({ model: expect.stringMatching(/^GigaChat/), promptVersion: 'support-v2', totalTokens: expect.any(Number), latencyMs: expect.any(Number) });
    expect(ticket.articles.map((a) => a.id)).toContain('returns/how-to-return');
    expect(ticket.articles.find((a) => a.id === 'returns/how-to-return')?.usedByAi).toBe(true);

    // The prompt held the right article and the customer's question.
    const prompt = promptText(stack.gigachat!.chatBodies[0]);
    expect(prompt).toContain('<article id="returns/how-to-return"');
    expect(prompt).toContain('не подошли по размеру');

    const [mail] = await stack.smtp!.waitForMails(1);
    expect(mail.recipients).toEqual(['ivan.home@example.ru']);
    expect(mail.parsed.from?.text).toContain('support@severveter.example');
    expect(mail.parsed.subject).toBe(`Re: Возврат кроссовок [#${ticket.number}]`);
    expect(mail.parsed.inReplyTo).toBe(email.messageId);
    expect(mail.parsed.references).toEqual(['<older-1@mail.example.ru>', email.messageId]);
    expect(mail.parsed.headers.get('auto-submitted')).toBe('auto-replied');
    expect(mail.parsed.headers.get('x-auto-response-suppress')).toBe('All');
    expect(mail.parsed.text?.trim()).toBe('Здравствуйте, Иван! Оформите возврат в разделе «Мои заказы» в течение 14 дней.\n\nСлужба поддержки');

    const outbound = ticket.messages.find((m) => m.direction === 'outbound')!;
    expect(outbound).toMatchObject({ channel: 'email', kind: 'reply', deliveryStatus: 'sent', attempts: 1, to: ['ivan.home@example.ru'] });
    expect(mail.parsed.messageId).toBe(`<${outbound.messageId}>`);
    expect(outbound.messageId).toMatch(/@severveter\.example$/);
    expect(outbound.providerResponse).toMatch(/^250/);
    expect(stack.telegram!.messages).toHaveLength(0);
    expect(ticket.events.map((e) => e.type)).toEqual([
      'ticket.received',
      'status.changed',
      'kb.searched',
      'ai.requested',
      'ai.completed',
      'decision.made',
      'status.changed',
      'delivery.queued',
      'delivery.sent',
    ]);
  });

  it('need_more_info: the customer is asked for the missing details', async () => {
    stack.gigachat!.script(
      decisionReply({
        decision: 'need_more_info',
        draft_reply: 'Здравствуйте! Подскажите, пожалуйста, номер заказа. Служба поддержки',
        missing_details: ['номер заказа'],
      }),
    );
    const accepted = await postEmail(stack.t, customerEmail({ subject: 'Re: Где мой заказ?', text: 'Заказ так и не пришёл' })).expect(202);
    const ticket = await waitForTicket(stack.t, accepted.body.ticketId, outboxSettled);
    expect(ticket).toMatchObject({ status: 'awaiting_customer', decision: 'need_more_info' });
    const [mail] = await stack.smtp!.waitForMails(1);
    expect(mail.parsed.subject).toBe(`Re: Где мой заказ? [#${ticket.number}]`);
    expect(mail.recipients).toEqual(['ivan.petrov@example.ru']);
    expect(ticket.messages.find((m) => m.direction === 'outbound')?.kind).toBe('info_request');
  });

  it('escalate_to_human: the operators get a Telegram message with the summary, reason and draft', async () => {
    stack.gigachat!.script(
      decisionReply({
        decision: 'escalate_to_human',
        issue_summary: 'Клиент грозит судом из-за двойного списания',
        draft_reply: 'Здравствуйте! Мы разбираемся с платежом.',
        escalation_reason: 'претензия и спор об оплате',
      }),
    );
    const accepted = await postEmail(stack.t, customerEmail({ subject: 'Двойное списание!', text: 'С карты списали дважды, подам в суд' })).expect(202);
    const ticket = await waitForTicket(stack.t, accepted.body.ticketId, outboxSettled);
    expect(ticket).toMatchObject({ status: 'escalated', decision: 'escalate_to_human', statusReason: 'the AI asked for a human: претензия и спор об оплате' });
    expect(stack.telegram!.messages).toHaveLength(1);
    const notice = stack.telegram!.messages[0];
    expect(notice.parseMode).toBe('HTML');
    expect(notice.chatId).toBe(stack.telegram!.chatId);
    for (const part of [`Тикет #${ticket.number}`, 'Иван Петров <ivan.petrov@example.ru>', 'Двойное списание!', 'Клиент грозит судом', 'претензия и спор об оплате', 'Мы разбираемся с платежом.']) {
      expect(notice.visibleText).toContain(part);
    }
    const outbound = ticket.messages.find((m) => m.direction === 'outbound')!;
    expect(outbound).toMatchObject({ channel: 'telegram', kind: 'escalation', deliveryStatus: 'sent', externalId: String(notice.messageId) });
    expect(stack.smtp!.mails).toHaveLength(0);
  });

  it('?wait=true answers 200 with the decided ticket', async () => {
    stack.gigachat!.script(decisionReply({ decision: 'full_answer' }));
    const res = await postEmail(stack.t, customerEmail(), '?wait=true').expect(200);
    expect(decided(res.body)).toBe(true);
    expect(res.body).toMatchObject({ status: 'answered', decision: 'full_answer', messages: expect.any(Array), events: expect.any(Array) });
    const again = await getTicket(stack.t, res.body.id);
    expect(again.number).toBe(res.body.number);
  });
});
