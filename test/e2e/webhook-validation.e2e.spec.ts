import request from 'supertest';
import { testDatabases } from '../support/databases.js';
import { customerEmail, getTicket, outboxSettled, postEmail, postRawEmail, waitForTicket } from '../support/http.js';
import { tableCounts } from '../support/ingestion-helpers.js';
import { crlf } from '../support/ingestion-mime.js';
import { stackForSuite } from '../support/stack.js';

interface FieldError {
  field: string;
  message: string;
}

/**
 * SPEC.md "Webhook": every 400 names the offending field (`errors: [{field, message}]`), bad input
 * never leaves a half-written ticket, and the server keeps serving after each refusal.
 */
describe.each(testDatabases())('webhook validation on %s', (kind) => {
  const stack = stackForSuite(kind, { gigachat: { scope: 'GIGACHAT_API_B2B' } });

  /** A valid body with `patch` applied; `undefined` values remove the field. */
  function bodyWith(patch: Record<string, unknown>): Record<string, unknown> {
    const body: Record<string, unknown> = { ...customerEmail(), ...patch };
    for (const [key, value] of Object.entries(patch)) if (value === undefined) delete body[key];
    return body;
  }

  /** The refusal is a 400 in the error shape, names `field`, stores nothing, and the next valid e-mail still goes through. */
  async function expectRefused(res: request.Response, field: string, code = 'VALIDATION_FAILED'): Promise<FieldError[]> {
    expect({ status: res.status, body: res.body as unknown }).toMatchObject({
      status: 400,
      body: { statusCode: 400, error: 'Bad Request', code, message: expect.any(String), errors: expect.any(Array) },
    });
    const errors = res.body.errors as FieldError[];
    expect(errors.map((e) => e.field)).toContain(field);
    for (const error of errors) expect(error).toEqual({ field: expect.any(String), message: expect.stringMatching(/\S/) });
    return errors;
  }

  const invalidJson: Array<[string, Record<string, unknown>, string]> = [
    ['missing from', { from: undefined }, 'from'],
    ['from without an address', { from: 'Иван Петров' }, 'from'],
    ['from with an invalid address', { from: 'Иван <ivan@@example.ru>' }, 'from'],
    ['from with empty brackets', { from: 'Иван <>' }, 'from'],
    ['from: a number', { from: 5 }, 'from'],
    ['from: null', { from: null }, 'from'],
    ['neither text nor html', { text: undefined, html: undefined }, 'text'],
    ['text and html blank', { text: '  \n ', html: '   ' }, 'text'],
    ['text: a number', { text: 5 }, 'text'],
    ['html: an object', { text: undefined, html: { p: 'x' } }, 'html'],
    ['subject: 5', { subject: 5 }, 'subject'],
    ['to: 5', { to: 5 }, 'to'],
    ['to: an array with a number', { to: ['support@severveter.example', 5] }, 'to'],
    ['cc: an object', { cc: { a: 'b@example.ru' } }, 'cc'],
    ['replyTo: not an address', { replyTo: 'не адрес' }, 'replyTo'],
    ['messageId: a number', { messageId: 12345 }, 'messageId'],
    ['messageId longer than a header line', { messageId: `<${'x'.repeat(1000)}@example.ru>` }, 'messageId'],
    ['inReplyTo: an array', { inReplyTo: ['<a@example.ru>'] }, 'inReplyTo'],
    ['references: a number', { references: 7 }, 'references'],
    ['headers: {x: 1}', { headers: { x: 1 } }, 'headers'],
    ['headers: a string', { headers: 'Auto-Submitted: no' }, 'headers'],
    ['headers: an array', { headers: ['Auto-Submitted: no'] }, 'headers'],
    ['attachments: a string', { attachments: 'x' }, 'attachments'],
    ['attachments[0].size: -1', { attachments: [{ filename: 'a.pdf', contentType: 'application/pdf', size: -1 }] }, 'attachments.0.size'],
    ['attachments[0].size: 1.5', { attachments: [{ filename: 'a.pdf', size: 1.5 }] }, 'attachments.0.size'],
    ['attachments[0].size: "10"', { attachments: [{ filename: 'a.pdf', size: '10' }] }, 'attachments.0.size'],
    ['attachments[1].filename: 5', { attachments: [{ filename: 'a.pdf' }, { filename: 5 }] }, 'attachments.1.filename'],
    ['attachments[0] with an unknown field', { attachments: [{ filename: 'a.pdf', content: 'JVBERi0=' }] }, 'attachments.0.content'],
    ['receivedAt: yesterday', { receivedAt: 'yesterday' }, 'receivedAt'],
    ['receivedAt: not a calendar date', { receivedAt: '2025-13-45T10:00:00Z' }, 'receivedAt'],
    ['receivedAt: a number', { receivedAt: 1764061200000 }, 'receivedAt'],
    ['an unknown field', { priority: 'high' }, 'priority'],
  ];

  it.each(invalidJson)('400 for %s, naming the field; nothing stored; the server keeps serving', async (_name, patch, field) => {
    const before = await tableCounts(stack.t);
    const res = await postEmail(stack.t, bodyWith(patch));
    await expectRefused(res, field);
    expect(await tableCounts(stack.t)).toEqual(before);
    // Still serving, and still storing good mail.
    const good = await postEmail(stack.t, customerEmail()).expect(202);
    expect(await tableCounts(stack.t)).toMatchObject({ tickets: before.tickets + 1 });
    await waitForTicket(stack.t, good.body.ticketId, outboxSettled);
  });

  it('the unknown-field error says the field is not known', async () => {
    const errors = await expectRefused(await postEmail(stack.t, bodyWith({ priority: 'high' })), 'priority');
    expect(errors.find((e) => e.field === 'priority')?.message).toMatch(/not a known field/);
  });

  it('names every offending field at once', async () => {
    const res = await postEmail(stack.t, { from: 'nobody', subject: 5, attachments: [{ size: -1 }], receivedAt: 'yesterday', extra: true });
    const errors = await expectRefused(res, 'from');
    // No text or html either: reported together with the field errors.
    expect(new Set(errors.map((e) => e.field))).toEqual(new Set(['from', 'subject', 'attachments.0.size', 'receivedAt', 'extra', 'text']));
    expect(errors).toHaveLength(6);
  });

  const invalidBodies: Array<[string, string, string]> = [
    ['malformed JSON', '{"from": "ivan@example.ru", "text": "Привет"', 'MALFORMED_BODY'],
    ['a JSON array', JSON.stringify([customerEmail()]), 'VALIDATION_FAILED'],
    ['a JSON string', JSON.stringify('ivan@example.ru'), 'MALFORMED_BODY'],
    ['JSON null', 'null', 'MALFORMED_BODY'],
    ['an empty body', '', 'VALIDATION_FAILED'],
  ];

  it.each(invalidBodies)('400 naming `body` for %s; nothing stored; still serving', async (_name, raw, code) => {
    const before = await tableCounts(stack.t);
    const res = await request(stack.t.http).post('/api/webhook/email').set('Content-Type', 'application/json').send(raw);
    await expectRefused(res, 'body', code);
    expect(await tableCounts(stack.t)).toEqual(before);
    const good = await postEmail(stack.t, customerEmail()).expect(202);
    await waitForTicket(stack.t, good.body.ticketId, outboxSettled);
  });

  it('an empty JSON object is refused naming from', async () => {
    const before = await tableCounts(stack.t);
    const res = await request(stack.t.http).post('/api/webhook/email').set('Content-Type', 'application/json').send('{}');
    await expectRefused(res, 'from');
    expect(await tableCounts(stack.t)).toEqual(before);
  });

  // Several rules guard each field; the message is the first one written (its type), not
  // whichever ran first (the length limit, which says nothing useful about a missing field).
  it.each([
    ['from missing', { text: 'Привет' }, 'from', 'from must be a string'],
    ['from a number', { from: 123, text: 'Привет' }, 'from', 'from must be a string'],
    ['subject a number', { from: 'ivan@example.ru', subject: 5, text: 'Привет' }, 'subject', 'subject must be a string'],
  ])('%s: one message for the field, about its type', async (_name, body, field, message) => {
    const res = await request(stack.t.http).post('/api/webhook/email').send(body).expect(400);
    expect(res.body.errors).toEqual([{ field, message }]);
  });

  it('an attachment list far over its limit gets one error, not one per item', async () => {
    const before = await tableCounts(stack.t);
    const res = await request(stack.t.http).post('/api/webhook/email').send({ ...customerEmail(), attachments: Array.from({ length: 100_000 }, () => 1) }).expect(400);
    expect(res.body.errors).toEqual([{ field: 'attachments', message: expect.stringMatching(/100/) }]);
    expect(await tableCounts(stack.t)).toEqual(before);
  });

  it('an invalid ?wait= is refused naming wait, before anything is stored', async () => {
    const before = await tableCounts(stack.t);
    await expectRefused(await postEmail(stack.t, customerEmail(), '?wait=maybe'), 'wait');
    expect(await tableCounts(stack.t)).toEqual(before);
  });

  describe('raw RFC 822', () => {
    it('an empty message is refused naming body', async () => {
      const before = await tableCounts(stack.t);
      await expectRefused(await postRawEmail(stack.t, ''), 'body');
      expect(await tableCounts(stack.t)).toEqual(before);
    });

    it('a message without a From address is refused naming from', async () => {
      const before = await tableCounts(stack.t);
      const raw = crlf(`To: support@severveter.example
Subject: Без отправителя
Message-ID: <no-from-${Date.now()}@mail.example.ru>
Content-Type: text/plain; charset=utf-8

Письмо без отправителя.
`);
      await expectRefused(await postRawEmail(stack.t, raw), 'from');
      expect(await tableCounts(stack.t)).toEqual(before);
    });

    it('a message with no readable body is refused naming text', async () => {
      const before = await tableCounts(stack.t);
      const raw = crlf(`From: ivan.petrov@example.ru
To: support@severveter.example
Subject: Пустое письмо
Message-ID: <no-body-${Date.now()}@mail.example.ru>
Content-Type: text/plain; charset=utf-8

`);
      await expectRefused(await postRawEmail(stack.t, raw), 'text');
      expect(await tableCounts(stack.t)).toEqual(before);
    });
  });

  describe('values the database must hold without a half-written ticket', () => {
    it.each([
      ['text', { text: 'Здравствуйте!\u0000 Где заказ?' }],
      ['subject', { subject: 'Заказ\u000012345' }],
    ])('a NUL character in %s is stored or refused naming the field (never a 500), and never half-written', async (field, patch) => {
      const before = await tableCounts(stack.t);
      const res = await postEmail(stack.t, customerEmail(patch));
      expect([202, 400], `status ${res.status}: ${res.text}`).toContain(res.status);
      if (res.status === 400) {
        await expectRefused(res, field);
        expect(await tableCounts(stack.t)).toEqual(before);
      } else {
        expect(await tableCounts(stack.t)).toMatchObject({ tickets: before.tickets + 1, messages: before.messages + 1 });
        await waitForTicket(stack.t, res.body.ticketId, outboxSettled);
      }
      const good = await postEmail(stack.t, customerEmail()).expect(202);
      await waitForTicket(stack.t, good.body.ticketId, outboxSettled);
    });

    it('a display name longer than 255 characters is taken (not a 500)', async () => {
      const longName = `Иван ${'Очень-Длинное-Имя '.repeat(20)}Петров`.trim();
      expect(longName.length).toBeGreaterThan(255);
      const before = await tableCounts(stack.t);
      const res = await postEmail(stack.t, customerEmail({ from: `"${longName}" <ivan.long@example.ru>` }));
      if (res.status !== 202) expect(await tableCounts(stack.t), 'a refused e-mail leaves nothing behind').toEqual(before);
      expect({ status: res.status, body: res.body as unknown }).toMatchObject({ status: 202, body: { status: 'received' } });
      expect(await tableCounts(stack.t)).toMatchObject({ tickets: before.tickets + 1, messages: before.messages + 1 });
      const ticket = await getTicket(stack.t, res.body.ticketId);
      expect(ticket.customerEmail).toBe('ivan.long@example.ru');
      expect(longName.startsWith(ticket.customerName ?? '')).toBe(true);
      expect(ticket.customerName?.length).toBeGreaterThan(100);
      await waitForTicket(stack.t, ticket.id, outboxSettled);
    });

    it('a raw message whose From display name is longer than 255 characters is taken (not a 500)', async () => {
      const longName = `Ольга ${'Очень-Длинная-Фамилия '.repeat(15)}`.trim();
      const before = await tableCounts(stack.t);
      const raw = crlf(`From: =?UTF-8?B?${Buffer.from(longName).toString('base64')}?= <olga.long@example.ru>
To: support@severveter.example
Subject: Длинное имя
Message-ID: <long-name-${Date.now()}@mail.example.ru>
Content-Type: text/plain; charset=utf-8

Где мой заказ?
`);
      const res = await postRawEmail(stack.t, raw);
      if (res.status !== 202) expect(await tableCounts(stack.t), 'a refused e-mail leaves nothing behind').toEqual(before);
      expect({ status: res.status, body: res.body as unknown }).toMatchObject({ status: 202, body: { status: 'received' } });
      expect(await tableCounts(stack.t)).toMatchObject({ tickets: before.tickets + 1, messages: before.messages + 1 });
      await waitForTicket(stack.t, res.body.ticketId, outboxSettled);
    });
  });
});
