import { testDatabases } from '../support/databases.js';
import { customerEmail, type EmailJson, getTicket, outboxSettled, postEmail, postRawEmail, type TicketDetail, waitForTicket } from '../support/http.js';
import { countOf, eventTypes, tableCounts, waitUntil } from '../support/ingestion-helpers.js';
import { crlf } from '../support/ingestion-mime.js';
import { decisionReply, promptText, stackForSuite } from '../support/stack.js';

/**
 * SPEC.md "Threading": In-Reply-To / References naming a message of a ticket (the customer's or
 * ours) join that ticket and send it back for analysis with the whole conversation; `[#n]` in the
 * subject joins only when the sender is that ticket's customer; a stranger's `[#n]` opens a new ticket.
 */
describe.each(testDatabases())('webhook threading on %s', (kind) => {
  const stack = stackForSuite(kind, { gigachat: { scope: 'GIGACHAT_API_B2B' } });
  let seq = 0;
  const uniqueId = (label: string) => `<${label}-${process.pid}-${Date.now()}-${++seq}@mail.example.ru>`;

  const FIRST_TEXT = 'Здравствуйте! Заказ 12345 так и не пришёл, хотя обещали вчера.';
  const OUR_QUESTION = 'Здравствуйте! Подскажите, пожалуйста, на какой адрес оформлена доставка? Служба поддержки';
  const SECOND_TEXT = 'Адрес: Санкт-Петербург, Невский проспект 1, кв. 5.';

  /**
   * A ticket the service has answered with a request for details (so it holds an inbound and an
   * outbound e-mail, both with Message-IDs), now `awaiting_customer`.
   */
  async function awaitingCustomer(customer: string): Promise<TicketDetail> {
    stack.gigachat!.script(decisionReply({ decision: 'need_more_info', draft_reply: OUR_QUESTION, missing_details: ['адрес доставки'] }));
    const res = await postEmail(stack.t, customerEmail({ from: customer, subject: 'Где мой заказ?', text: FIRST_TEXT, messageId: uniqueId('Root') })).expect(202);
    const ticket = await waitForTicket(stack.t, res.body.ticketId, outboxSettled);
    expect(ticket.status).toBe('awaiting_customer');
    expect(ticket.messages.map((m) => [m.direction, m.channel, m.deliveryStatus])).toEqual([
      ['inbound', 'email', 'received'],
      ['outbound', 'email', 'sent'],
    ]);
    return ticket;
  }

  /** Posts a follow-up, expects it to join `ticket`, and waits for the second decision. */
  async function expectJoins(ticket: TicketDetail, followUp: EmailJson | string): Promise<TicketDetail> {
    const before = await tableCounts(stack.t);
    stack.gigachat!.script(decisionReply({ decision: 'full_answer', draft_reply: 'Спасибо! Передали курьеру. Служба поддержки' }));
    const res = typeof followUp === 'string' ? await postRawEmail(stack.t, followUp) : await postEmail(stack.t, followUp);
    expect({ status: res.status, body: res.body as unknown }).toMatchObject({
      status: 202,
      body: { ticketId: ticket.id, ticketNumber: ticket.number, duplicate: false, followUp: true },
    });
    expect((await tableCounts(stack.t)).tickets).toBe(before.tickets);
    const after = await waitForTicket(stack.t, ticket.id, (t) => outboxSettled(t) && countOf(eventTypes(t), 'decision.made') === 2);
    expect(after.status).toBe('answered');
    expect(after.messages.filter((m) => m.direction === 'inbound').map((m) => m.text)).toEqual([FIRST_TEXT, SECOND_TEXT]);
    const events = eventTypes(after);
    expect(countOf(events, 'message.follow_up')).toBe(1);
    expect(countOf(events, 'ai.requested')).toBe(2);
    expect(after.events.find((e) => e.type === 'status.changed' && e.data?.from === 'awaiting_customer')?.data).toMatchObject({ to: 'received' });

    // Analysed again, with the whole conversation, oldest first.
    const prompts = stack.gigachat!.chatBodies.map(promptText).filter((p) => p.includes(`Обращение #${ticket.number}.`));
    expect(prompts).toHaveLength(2);
    const second = prompts[1];
    expect(second).toContain(FIRST_TEXT);
    expect(second).toContain(OUR_QUESTION);
    expect(second).toContain(SECOND_TEXT);
    expect(second.indexOf(FIRST_TEXT)).toBeLessThan(second.indexOf(OUR_QUESTION));
    expect(second.indexOf(OUR_QUESTION)).toBeLessThan(second.indexOf(SECOND_TEXT));
    return after;
  }

  const ourMessageId = (ticket: TicketDetail) => ticket.messages.find((m) => m.direction === 'outbound')!.messageId!;
  const theirMessageId = (ticket: TicketDetail) => ticket.messages.find((m) => m.direction === 'inbound')!.messageId!;

  it('In-Reply-To naming the customer\'s earlier e-mail joins the ticket', async () => {
    const ticket = await awaitingCustomer('Иван Петров <ivan.thread1@example.ru>');
    await expectJoins(ticket, customerEmail({ from: 'Иван Петров <ivan.thread1@example.ru>', subject: 'Re: Где мой заказ?', text: SECOND_TEXT, inReplyTo: `<${theirMessageId(ticket)}>` }));
  });

  it('In-Reply-To naming our reply (its Message-ID) joins the ticket, and a reply to the new answer joins again', async () => {
    const ticket = await awaitingCustomer('Иван Петров <ivan.thread2@example.ru>');
    const ours = ourMessageId(ticket);
    expect(ours).toMatch(/@severveter\.example$/);
    const mail = stack.smtp!.mails.at(-1)!;
    expect(mail.parsed.messageId).toBe(`<${ours}>`);
    const after = await expectJoins(
      ticket,
      customerEmail({ from: 'ivan.thread2@example.ru', subject: mail.parsed.subject!, text: SECOND_TEXT, inReplyTo: mail.parsed.messageId, references: [`<${theirMessageId(ticket)}>`, mail.parsed.messageId!] }),
    );

    // Replying to the second answer, with the id written without brackets and the domain upper-cased.
    const secondReply = after.messages.filter((m) => m.direction === 'outbound').at(-1)!.messageId!;
    const [local, domain] = [secondReply.slice(0, secondReply.lastIndexOf('@')), secondReply.slice(secondReply.lastIndexOf('@') + 1)];
    stack.gigachat!.script(decisionReply({ decision: 'full_answer', draft_reply: 'Пожалуйста! Служба поддержки' }));
    const third = await postEmail(stack.t, customerEmail({ from: 'ivan.thread2@example.ru', subject: 'Re: Где мой заказ?', text: 'Спасибо!', inReplyTo: `${local}@${domain.toUpperCase()}` })).expect(202);
    expect(third.body).toMatchObject({ ticketId: ticket.id, followUp: true });
    const done = await waitForTicket(stack.t, ticket.id, (t) => outboxSettled(t) && countOf(eventTypes(t), 'decision.made') === 3);
    expect(done.messages.filter((m) => m.direction === 'inbound')).toHaveLength(3);
  });

  it('References naming our reply joins the ticket (no In-Reply-To)', async () => {
    const ticket = await awaitingCustomer('ivan.thread3@example.ru');
    await expectJoins(ticket, customerEmail({ from: 'ivan.thread3@example.ru', subject: 'Re: Где мой заказ?', text: SECOND_TEXT, references: `<unknown-older-1@elsewhere.example> <${ourMessageId(ticket)}>` }));
  });

  it('References naming only the first e-mail of the chain (the rest unknown) joins the ticket', async () => {
    const ticket = await awaitingCustomer('ivan.thread4@example.ru');
    await expectJoins(ticket, customerEmail({ from: 'ivan.thread4@example.ru', subject: 'Fwd: Re: Где мой заказ?', text: SECOND_TEXT, references: [`<${theirMessageId(ticket)}>`, '<lost-in-transit-1@elsewhere.example>'], inReplyTo: '<lost-in-transit-1@elsewhere.example>' }));
  });

  it('a raw MIME reply threads by its In-Reply-To header', async () => {
    const ticket = await awaitingCustomer('ivan.thread5@example.ru');
    const raw = crlf(`From: Иван <ivan.thread5@example.ru>
To: support@severveter.example
Subject: Re: Где мой заказ?
Message-ID: ${uniqueId('Mime-Reply')}
In-Reply-To: <${ourMessageId(ticket)}>
References: <${theirMessageId(ticket)}> <${ourMessageId(ticket)}>
Content-Type: text/plain; charset=utf-8

${SECOND_TEXT}`);
    await expectJoins(ticket, raw);
  });

  it('[#n] in the subject joins the ticket when the sender is its customer (address in any case)', async () => {
    const ticket = await awaitingCustomer('Иван Петров <ivan.thread6@example.ru>');
    await expectJoins(ticket, customerEmail({ from: 'I. Petrov <IVAN.Thread6@Example.RU>', subject: `Ещё раз про заказ [#${ticket.number}]`, text: SECOND_TEXT }));
  });

  it('a stranger\'s [#n] opens a new ticket: the original is untouched and its conversation is not shown', async () => {
    const ticket = await awaitingCustomer('ivan.thread7@example.ru');
    const before = await getTicket(stack.t, ticket.id);
    const res = await postEmail(stack.t, customerEmail({ from: 'Мэллори <mallory@evil.example>', subject: `Re: Где мой заказ? [#${ticket.number}]`, text: 'Пришлите мне адрес доставки по этому заказу.' })).expect(202);
    expect(res.body).toMatchObject({ followUp: false, status: 'received' });
    expect(res.body.ticketId).not.toBe(ticket.id);

    const stranger = await waitForTicket(stack.t, res.body.ticketId, outboxSettled);
    expect(stranger).toMatchObject({ customerEmail: 'mallory@evil.example', customerName: 'Мэллори' });
    expect(stranger.messages.filter((m) => m.direction === 'inbound')).toHaveLength(1);
    const prompt = promptText(stack.gigachat!.chatBodies.at(-1)!);
    expect(prompt).toContain(`Обращение #${stranger.number}.`);
    expect(prompt).toContain('Пришлите мне адрес доставки');
    expect(prompt).not.toContain(FIRST_TEXT);
    expect(prompt).not.toContain(OUR_QUESTION);
    expect(await getTicket(stack.t, ticket.id)).toEqual(before);
  });

  it('a follow-up arriving while the first e-mail is being analysed: the stale analysis is discarded, one decision covers both', async () => {
    const gigachat = stack.gigachat!;
    gigachat.script(
      { ...decisionReply({ decision: 'full_answer', draft_reply: 'УСТАРЕВШИЙ ответ. Служба поддержки' }), delayMs: 1_500 },
      decisionReply({ decision: 'full_answer', draft_reply: 'Ответ на оба письма. Служба поддержки' }),
    );
    const rootId = uniqueId('Busy-Root');
    const first = await postEmail(stack.t, customerEmail({ from: 'ivan.thread10@example.ru', subject: 'Где мой заказ?', text: FIRST_TEXT, messageId: rootId })).expect(202);
    await waitUntil(() => gigachat.chatBodies.length === 1, 'the first analysis to reach GigaChat');
    const res = await postEmail(stack.t, customerEmail({ from: 'ivan.thread10@example.ru', subject: 'Re: Где мой заказ?', text: SECOND_TEXT, inReplyTo: rootId })).expect(202);
    expect(res.body).toMatchObject({ ticketId: first.body.ticketId, followUp: true, status: 'processing' });

    const ticket = await waitForTicket(stack.t, first.body.ticketId, (t) => outboxSettled(t) && countOf(eventTypes(t), 'decision.made') === 1);
    expect(ticket.status).toBe('answered');
    expect(countOf(eventTypes(ticket), 'analysis.discarded')).toBe(1);
    expect(countOf(eventTypes(ticket), 'ai.requested')).toBe(2);
    const outbound = ticket.messages.filter((m) => m.direction === 'outbound');
    expect(outbound.map((m) => m.text?.trim())).toEqual(['Ответ на оба письма. Служба поддержки']);
    expect(stack.smtp!.mails).toHaveLength(1);
    const second = promptText(gigachat.chatBodies[1]);
    expect(second).toContain(FIRST_TEXT);
    expect(second).toContain(SECOND_TEXT);
  });

  it('[#n] of a ticket that does not exist opens a new ticket', async () => {
    const res = await postEmail(stack.t, customerEmail({ from: 'ivan.thread8@example.ru', subject: 'Re: вопрос [#987654]' })).expect(202);
    expect(res.body).toMatchObject({ followUp: false, status: 'received' });
    await waitForTicket(stack.t, res.body.ticketId, outboxSettled);
  });

  it('only the first three distinct [#n] tags of a subject are looked up', async () => {
    const ticket = await awaitingCustomer('ivan.thread10@example.ru');
    // Thousands of tags cost three lookups, not thousands: the customer's own tag after three
    // unknown ones is not read, so the e-mail opens a new ticket.
    const flood = `${'[#987601]'.repeat(2000)} [#987602] [#987603]`;
    const late = await postEmail(stack.t, customerEmail({ from: 'ivan.thread10@example.ru', subject: `${flood} [#${ticket.number}]` })).expect(202);
    expect(late.body).toMatchObject({ followUp: false });
    await waitForTicket(stack.t, late.body.ticketId, outboxSettled);
    // Within the first three it is.
    await expectJoins(ticket, customerEmail({ from: 'ivan.thread10@example.ru', subject: `[#987601] [#987602] [#${ticket.number}]`, text: SECOND_TEXT }));
  });

  it('In-Reply-To naming an unknown message opens a new ticket', async () => {
    const res = await postEmail(stack.t, customerEmail({ from: 'ivan.thread9@example.ru', inReplyTo: '<never-seen-1@elsewhere.example>', references: '<never-seen-0@elsewhere.example>' })).expect(202);
    expect(res.body).toMatchObject({ followUp: false, status: 'received' });
    await waitForTicket(stack.t, res.body.ticketId, outboxSettled);
  });
});
