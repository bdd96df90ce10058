import { createHmac } from 'node:crypto';
import request from 'supertest';
import { signWebhookBody } from '../../src/webhook/webhook-auth.guard.js';
import { testDatabases } from '../support/databases.js';
import { customerEmail, getTicket, outboxSettled, waitForTicket } from '../support/http.js';
import { tableCounts } from '../support/ingestion-helpers.js';
import { crlf } from '../support/ingestion-mime.js';
import { type Stack, stackForSuite } from '../support/stack.js';
import type { TestApp } from '../support/test-app.js';

const SECRET = 'whsec-9f3c2a7e5b1d4c8a';
const WEBHOOK = '/api/webhook/email';

/** SPEC.md: `hex HMAC-SHA256(secret, "<t>.<raw body>")`, computed here independently of the service's code. */
function signature(body: string | Buffer, timestamp = Math.floor(Date.now() / 1000), secret = SECRET): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')}`;
}

function postJson(t: TestApp, body: string, headers: Record<string, string> = {}) {
  return request(t.http).post(WEBHOOK).set('Content-Type', 'application/json').set(headers).send(body);
}

function expectError(res: request.Response, status: number, code: string): void {
  expect({ status: res.status, body: res.body as unknown }).toMatchObject({ status, body: { statusCode: status, code, message: expect.any(String) } });
}

/** SPEC.md "Webhook": authentication (401), body limits (413), content types (415) and rate limiting (429). */
describe.each(testDatabases())('webhook security on %s', (kind) => {
  describe('with WEBHOOK_SECRET and WEBHOOK_BODY_LIMIT=16kb', () => {
    const stack = stackForSuite(kind, { gigachat: { scope: 'GIGACHAT_API_B2B' }, env: { WEBHOOK_SECRET: SECRET, WEBHOOK_BODY_LIMIT: '16kb' } });

    /** A refusal stores nothing, and a properly authenticated e-mail right after it is taken. */
    async function expectNothingStoredAndStillServing(before: Awaited<ReturnType<typeof tableCounts>>): Promise<void> {
      expect(await tableCounts(stack.t)).toEqual(before);
      const good = await postJson(stack.t, JSON.stringify(customerEmail()), { 'X-Webhook-Token': SECRET }).expect(202);
      await waitForTicket(stack.t, good.body.ticketId, outboxSettled);
    }

    describe('401', () => {
      const refused: Array<[string, (body: string) => Record<string, string>]> = [
        ['no credentials', () => ({})],
        ['a wrong X-Webhook-Token', () => ({ 'X-Webhook-Token': `${SECRET}x` })],
        ['an X-Webhook-Token that is a prefix of the secret', () => ({ 'X-Webhook-Token': SECRET.slice(0, 8) })],
        ['a signature made with another secret', (body) => ({ 'X-Webhook-Signature': signature(body, undefined, 'another-secret-0123456789') })],
        ['a signature of another body', (body) => ({ 'X-Webhook-Signature': signature(body.replace('Здравствуйте', 'Добрый день')) })],
        ['a signature of the same JSON serialised differently', (body) => ({ 'X-Webhook-Signature': signature(JSON.stringify(JSON.parse(body), null, 2)) })],
        ['a signature 6 minutes old', (body) => ({ 'X-Webhook-Signature': signature(body, Math.floor(Date.now() / 1000) - 360) })],
        ['a signature 6 minutes in the future', (body) => ({ 'X-Webhook-Signature': signature(body, Math.floor(Date.now() / 1000) + 360) })],
        ['a signature without t=', (body) => ({ 'X-Webhook-Signature': signature(body).split(',')[1] })],
        ['a signature with a non-numeric t=', (body) => ({ 'X-Webhook-Signature': signature(body).replace(/^t=\d+/, 't=yesterday') })],
        ['a signature in another scheme', (body) => ({ 'X-Webhook-Signature': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` })],
      ];

      it.each(refused)('%s → 401, nothing stored, still serving', async (_name, headersFor) => {
        const before = await tableCounts(stack.t);
        const body = JSON.stringify(customerEmail());
        const res = await postJson(stack.t, body, headersFor(body));
        expectError(res, 401, 'UNAUTHORIZED');
        expect(res.text).not.toContain(SECRET);
        await expectNothingStoredAndStillServing(before);
      });

      it('authentication comes before validation: an unauthenticated invalid body is a 401, not a 400', async () => {
        const before = await tableCounts(stack.t);
        expectError(await postJson(stack.t, JSON.stringify({ from: 'nobody', subject: 5 })), 401, 'UNAUTHORIZED');
        expect(await tableCounts(stack.t)).toEqual(before);
      });

      it('only the webhook is protected by WEBHOOK_SECRET', async () => {
        await request(stack.t.http).get('/health/live').expect(200);
      });
    });

    describe('accepted credentials', () => {
      it('X-Webhook-Token with the secret', async () => {
        const res = await postJson(stack.t, JSON.stringify(customerEmail()), { 'X-Webhook-Token': SECRET }).expect(202);
        await waitForTicket(stack.t, res.body.ticketId, outboxSettled);
      });

      it('X-Webhook-Signature over the raw JSON body, exactly as sent (pretty-printed here)', async () => {
        const body = JSON.stringify(customerEmail(), null, 2);
        const res = await postJson(stack.t, body, { 'X-Webhook-Signature': signature(body) }).expect(202);
        await waitForTicket(stack.t, res.body.ticketId, outboxSettled);
      });

      it('X-Webhook-Signature 4 minutes old or 4 minutes ahead is still inside the 5-minute window', async () => {
        for (const skew of [-240, 240]) {
          const body = JSON.stringify(customerEmail());
          const res = await postJson(stack.t, body, { 'X-Webhook-Signature': signature(body, Math.floor(Date.now() / 1000) + skew) });
          expect({ skew, status: res.status }).toEqual({ skew, status: 202 });
          await waitForTicket(stack.t, res.body.ticketId, outboxSettled);
        }
      });

      it('X-Webhook-Signature over a raw RFC 822 body', async () => {
        const raw = Buffer.from(
          crlf(`From: Иван Петров <ivan.petrov@example.ru>
To: support@severveter.example
Subject: Подписанное письмо
Message-ID: <signed-${Date.now()}@mail.example.ru>
Content-Type: text/plain; charset=utf-8

Здравствуйте! Где мой заказ 12345?
`),
        );
        const res = await request(stack.t.http).post(WEBHOOK).set('Content-Type', 'message/rfc822').set('X-Webhook-Signature', signature(raw)).send(raw).expect(202);
        expect((await getTicket(stack.t, res.body.ticketId)).subject).toBe('Подписанное письмо');
        await waitForTicket(stack.t, res.body.ticketId, outboxSettled);
      });

      it('several v1 values (secret rotation): one matching is enough', async () => {
        const body = JSON.stringify(customerEmail());
        const timestamp = Math.floor(Date.now() / 1000);
        const stale = createHmac('sha256', 'the-previous-secret-0000').update(`${timestamp}.${body}`).digest('hex');
        const header = `${signature(body, timestamp)},v1=${stale}`.replace(/^(t=\d+),(v1=[0-9a-f]+),(v1=[0-9a-f]+)$/, '$1,$3,$2');
        expect(header.indexOf(stale)).toBeLessThan(header.lastIndexOf('v1='));
        const res = await postJson(stack.t, body, { 'X-Webhook-Signature': header }).expect(202);
        await waitForTicket(stack.t, res.body.ticketId, outboxSettled);
      });

      it('signWebhookBody (what senders are pointed to) produces an accepted header', async () => {
        const body = JSON.stringify(customerEmail());
        const res = await postJson(stack.t, body, { 'X-Webhook-Signature': signWebhookBody(SECRET, body) }).expect(202);
        await waitForTicket(stack.t, res.body.ticketId, outboxSettled);
      });
    });

    describe('413 over WEBHOOK_BODY_LIMIT', () => {
      it('a JSON body over 16 kB → 413, nothing stored, still serving', async () => {
        const before = await tableCounts(stack.t);
        const body = JSON.stringify(customerEmail({ text: 'Очень длинное письмо. '.repeat(900) }));
        expect(Buffer.byteLength(body)).toBeGreaterThan(16 * 1024);
        expectError(await postJson(stack.t, body, { 'X-Webhook-Token': SECRET }), 413, 'PAYLOAD_TOO_LARGE');
        await expectNothingStoredAndStillServing(before);
      });

      it('a raw RFC 822 body over 16 kB → 413, nothing stored, still serving', async () => {
        const before = await tableCounts(stack.t);
        const raw = crlf(`From: ivan.petrov@example.ru
Subject: Big
Message-ID: <big-${Date.now()}@mail.example.ru>
Content-Type: text/plain; charset=utf-8

${'Очень длинное письмо. '.repeat(900)}
`);
        const res = await request(stack.t.http).post(WEBHOOK).set('Content-Type', 'message/rfc822').set('X-Webhook-Token', SECRET).send(Buffer.from(raw));
        expectError(res, 413, 'PAYLOAD_TOO_LARGE');
        await expectNothingStoredAndStillServing(before);
      });

      it('a body just under the limit is taken whole', async () => {
        const text = 'Подробное письмо. '.repeat(460);
        const body = JSON.stringify(customerEmail({ text }));
        expect(Buffer.byteLength(body)).toBeGreaterThan(14 * 1024);
        expect(Buffer.byteLength(body)).toBeLessThan(16 * 1024);
        const res = await postJson(stack.t, body, { 'X-Webhook-Token': SECRET }).expect(202);
        expect((await getTicket(stack.t, res.body.ticketId)).messages[0].text).toBe(text);
        await waitForTicket(stack.t, res.body.ticketId, outboxSettled);
      });
    });

    describe('415 for content types other than JSON and message/rfc822', () => {
      const email = customerEmail();
      const cases: Array<[string, string | undefined, string]> = [
        ['text/plain', 'text/plain; charset=utf-8', `From: ${email.from}\n\n${email.text}`],
        ['form-urlencoded', 'application/x-www-form-urlencoded', new URLSearchParams({ from: email.from, text: email.text! }).toString()],
        ['multipart/form-data', 'multipart/form-data; boundary=xyz', `--xyz\r\nContent-Disposition: form-data; name="from"\r\n\r\n${email.from}\r\n--xyz--\r\n`],
        ['application/xml', 'application/xml', `<email><from>${email.from}</from></email>`],
        ['JSON in a charset the parser cannot read', 'application/json; charset=koi8-r', JSON.stringify(email)],
        ['no Content-Type', undefined, ''],
      ];

      it.each(cases)('%s → 415, nothing stored, still serving', async (_name, contentType, body) => {
        const before = await tableCounts(stack.t);
        let req = request(stack.t.http).post(WEBHOOK).set('X-Webhook-Token', SECRET);
        if (contentType) req = req.set('Content-Type', contentType);
        const res = body ? await req.send(Buffer.from(body)) : await req;
        expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
        await expectNothingStoredAndStillServing(before);
      });
    });
  });

  describe('with WEBHOOK_RATE_LIMIT=3 per WEBHOOK_RATE_WINDOW_SECONDS=2', () => {
    const stack = stackForSuite(kind, { gigachat: { scope: 'GIGACHAT_API_B2B' }, env: { WEBHOOK_RATE_LIMIT: '3', WEBHOOK_RATE_WINDOW_SECONDS: '2' } });

    it('answers 429 past the limit, stores nothing for it, serves other routes, and takes mail again after the window', async () => {
      const before = await tableCounts(stack.t);
      const results = await Promise.all(Array.from({ length: 5 }, () => postJson(stack.t, JSON.stringify(customerEmail()))));
      const statuses = results.map((r) => r.status).sort();
      expect(statuses).toEqual([202, 202, 202, 429, 429]);
      const limited = results.find((r) => r.status === 429)!;
      expectError(limited, 429, 'RATE_LIMITED');
      expect(await tableCounts(stack.t)).toMatchObject({ tickets: before.tickets + 3 });

      // Other routes are not limited by the webhook's budget.
      await request(stack.t.http).get('/api/tickets').expect(200);
      await request(stack.t.http).get('/health/live').expect(200);

      await new Promise((r) => setTimeout(r, 2_500));
      const again = await postJson(stack.t, JSON.stringify(customerEmail())).expect(202);
      for (const res of [...results.filter((r) => r.status === 202), again]) await waitForTicket(stack.t, res.body.ticketId, outboxSettled);
    });

    it('a 429 says when to retry (Retry-After)', async () => {
      let limited: request.Response | undefined;
      const accepted: string[] = [];
      for (let i = 0; i < 6 && !limited; i++) {
        const res = await postJson(stack.t, JSON.stringify(customerEmail()));
        if (res.status === 429) limited = res;
        else if (res.status === 202) accepted.push(res.body.ticketId as string);
      }
      for (const id of accepted) await waitForTicket(stack.t, id, outboxSettled);
      expect(limited?.status).toBe(429);
      expect(limited!.headers['retry-after'], `headers: ${JSON.stringify(limited!.headers)}`).toMatch(/^\d+$/);
    });
  });

  describe('with WEBHOOK_SECRET and WEBHOOK_RATE_LIMIT=3 per 60 s', () => {
    const stack = stackForSuite(kind, { gigachat: { scope: 'GIGACHAT_API_B2B' }, env: { WEBHOOK_SECRET: SECRET, WEBHOOK_RATE_LIMIT: '3', WEBHOOK_RATE_WINDOW_SECONDS: '60' } });

    // Behind one proxy every caller has the same address: requests without the secret must not
    // spend the budget of the provider that has it.
    it('requests without valid credentials get 401 and leave the budget to the provider', async () => {
      for (let i = 0; i < 5; i++) expectError(await postJson(stack.t, JSON.stringify(customerEmail()), { 'X-Webhook-Token': 'wrong-token-0123456789' }), 401, 'UNAUTHORIZED');
      const accepted = [];
      for (let i = 0; i < 3; i++) accepted.push(await postJson(stack.t, JSON.stringify(customerEmail()), { 'X-Webhook-Token': SECRET }).expect(202));
      expectError(await postJson(stack.t, JSON.stringify(customerEmail()), { 'X-Webhook-Token': SECRET }), 429, 'RATE_LIMITED');
      for (const res of accepted) await waitForTicket(stack.t, res.body.ticketId, outboxSettled);
    });
  });

  /** Takes the webhook's budget from the address in `forwardedFor`; the answers' statuses in order. */
  async function spend(stack: Stack, forwardedFor: string, times: number): Promise<number[]> {
    const statuses: number[] = [];
    for (let i = 0; i < times; i++) {
      const res = await postJson(stack.t, JSON.stringify(customerEmail()), { 'X-Webhook-Token': SECRET, 'X-Forwarded-For': forwardedFor });
      if (res.status === 202) await waitForTicket(stack.t, res.body.ticketId, outboxSettled);
      else expectError(res, 429, 'RATE_LIMITED');
      statuses.push(res.status);
    }
    return statuses;
  }

  describe('with TRUST_PROXY=1 (one ingress in front) and WEBHOOK_RATE_LIMIT=2 per 60 s', () => {
    const stack = stackForSuite(kind, { gigachat: { scope: 'GIGACHAT_API_B2B' }, env: { WEBHOOK_SECRET: SECRET, TRUST_PROXY: '1', WEBHOOK_RATE_LIMIT: '2', WEBHOOK_RATE_WINDOW_SECONDS: '60' } });

    it('counts each client by the address the ingress forwarded, not by the ingress address', async () => {
      expect(await spend(stack, '203.0.113.7', 3)).toEqual([202, 202, 429]);
      // Another provider behind the same ingress keeps its own budget.
      expect(await spend(stack, '198.51.100.9', 2)).toEqual([202, 202]);
    });

    it('a caller cannot choose its address: entries it sent itself, left of the one the ingress added, are not trusted', async () => {
      expect(await spend(stack, '192.0.2.1, 203.0.113.7', 1)).toEqual([429]);
      expect(await spend(stack, '192.0.2.2, 198.51.100.9', 1)).toEqual([429]);
    });
  });

  describe('without TRUST_PROXY and WEBHOOK_RATE_LIMIT=2 per 60 s', () => {
    const stack = stackForSuite(kind, { gigachat: { scope: 'GIGACHAT_API_B2B' }, env: { WEBHOOK_SECRET: SECRET, WEBHOOK_RATE_LIMIT: '2', WEBHOOK_RATE_WINDOW_SECONDS: '60' } });

    it('X-Forwarded-For is ignored: a new address in it does not buy a new budget', async () => {
      expect(await spend(stack, '203.0.113.7', 2)).toEqual([202, 202]);
      expect(await spend(stack, '198.51.100.9', 1)).toEqual([429]);
    });
  });

  describe('without WEBHOOK_BODY_LIMIT', () => {
    const stack = stackForSuite(kind, { gigachat: false, telegram: false, smtp: false });

    it('the default limit is 2 MB: just over → 413, just under → 202', async () => {
      const before = await tableCounts(stack.t);
      const over = JSON.stringify(customerEmail({ text: 'x'.repeat(2 * 1024 * 1024) }));
      expectError(await postJson(stack.t, over), 413, 'PAYLOAD_TOO_LARGE');
      expect(await tableCounts(stack.t)).toEqual(before);

      const under = JSON.stringify(customerEmail({ text: `Длинное письмо ${'y'.repeat(2 * 1024 * 1024 - 4096)}` }));
      expect(Buffer.byteLength(under)).toBeLessThan(2 * 1024 * 1024);
      const res = await postJson(stack.t, under).expect(202);
      await waitForTicket(stack.t, res.body.ticketId, outboxSettled);
    });
  });
});
