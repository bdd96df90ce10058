import { randomUUID } from 'node:crypto';
import { DECISION_FUNCTION_NAME } from '../../src/ai/analysis/analysis.schema.js';
import { GigaChatClient } from '../../src/ai/gigachat/gigachat.client.js';
import {
  GigaChatApiError,
  GigaChatAuthError,
  GigaChatNetworkError,
  GigaChatNotConfiguredError,
} from '../../src/ai/gigachat/gigachat.errors.js';
import type { ChatRequest } from '../../src/ai/llm-client.js';
import { TicketAnalyzer } from '../../src/ai/ticket-analyzer.js';
import { validateEnvironment } from '../../src/config/environment.js';
import { GigaChatPeer, type RecordedRequest } from '../peers/gigachat.peer.js';
import { captureNestLogs, everythingOf } from '../support/analysis-logs.js';
import { freePort } from '../support/service-process.js';
import { decisionReply } from '../support/stack.js';

/**
 * GigaChatClient over real sockets against the GigaChat emulator (reference: gigachat-api.md §2–§5, §10,
 * §13): OAuth, token cache and renewal, retries, limits, headers and the request body rules.
 */

const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

function clientFor(peer: GigaChatPeer, env: Record<string, string> = {}): GigaChatClient {
  return new GigaChatClient(
    validateEnvironment({
      GIGACHAT_AUTH_KEY: peer.authKey,
      GIGACHAT_AUTH_URL: peer.authUrl,
      GIGACHAT_API_URL: peer.apiUrl,
      GIGACHAT_SCOPE: peer.scope,
      GIGACHAT_RETRY_BASE_MS: '10',
      ...env,
    }),
  );
}

function chatRequest(overrides: Partial<ChatRequest> = {}): ChatRequest {
  return {
    messages: [
      { role: 'system', content: 'Ты — сотрудник службы поддержки.' },
      { role: 'user', content: 'Здравствуйте! Как вернуть товар?' },
    ],
    temperature: 0.1,
    requestId: randomUUID(),
    ...overrides,
  };
}

const oauthRequests = (peer: GigaChatPeer): RecordedRequest[] => peer.requests.filter((r) => r.kind === 'oauth');
const chatRequests = (peer: GigaChatPeer): RecordedRequest[] => peer.requests.filter((r) => r.kind === 'chat');
const bearerOf = (r: RecordedRequest): string => String(r.headers.authorization).replace(/^Bearer /, '');

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-Error: ${String(error)}`, { cause: error });
  }
  throw new Error('expected the call to fail');
}

describe('GigaChatClient against the GigaChat emulator', () => {
  let pers: GigaChatPeer;
  let b2b: GigaChatPeer;
  /** For timeouts: answers are late, and late answers must not make it refuse the next tests' calls. */
  let slow: GigaChatPeer;
  /** What the client logs (it runs outside a Nest app here): kept in memory, checked for secrets. */
  let logs: ReturnType<typeof captureNestLogs>;

  beforeAll(async () => {
    logs = captureNestLogs();
    [pers, b2b, slow] = await Promise.all([
      GigaChatPeer.start(),
      GigaChatPeer.start({ scope: 'GIGACHAT_API_B2B' }),
      GigaChatPeer.start({ scope: 'GIGACHAT_API_B2B', maxInFlight: 1000 }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([pers?.close(), b2b?.close(), slow?.close()]);
    logs.restore();
  });

  beforeEach(() => {
    for (const peer of [pers, b2b, slow]) {
      peer.reset();
      peer.setResponder(undefined);
      peer.setLatency(0);
    }
  });

  describe('OAuth and the token', () => {
    it('asks for a token with the Basic key, a fresh uuid4 RqUID each time and the scope as a form body', async () => {
      const client = clientFor(pers);
      await client.chat(chatRequest());
      pers.expireAllTokens();
      await client.chat(chatRequest());

      const oauth = oauthRequests(pers);
      expect(oauth).toHaveLength(2);
      for (const r of oauth) {
        expect(r.method).toBe('POST');
        expect(r.path).toBe('/api/v2/oauth');
        expect(r.headers.authorization).toBe(`Basic ${pers.authKey}`);
        expect(r.headers.rquid).toMatch(UUID4);
        expect(r.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
        expect(r.headers.accept).toContain('application/json');
        expect(r.rawBody).toBe('scope=GIGACHAT_API_PERS');
      }
      expect(oauth[0].headers.rquid).not.toBe(oauth[1].headers.rquid);
    });

    it('fetches one token and reuses it for later calls', async () => {
      const client = clientFor(pers);
      for (let i = 0; i < 5; i++) await client.chat(chatRequest());
      expect(pers.stats.oauthCalls).toBe(1);
      expect(pers.stats.chatCalls).toBe(5);
      expect(new Set(chatRequests(pers).map(bearerOf)).size).toBe(1);
    });

    it('renews a token that expires within a minute before using it', async () => {
      // 62 s of life: fine right away, inside the one-minute margin two seconds later.
      const peer = await GigaChatPeer.start({ tokenTtlMs: 62_000 });
      try {
        const client = clientFor(peer);
        await client.chat(chatRequest());
        await client.chat(chatRequest());
        expect(peer.stats.oauthCalls).toBe(1);

        await new Promise((r) => setTimeout(r, 2_100));
        const completion = await client.chat(chatRequest());
        expect(peer.stats.oauthCalls).toBe(2);
        // Renewed before the call, not after a 401: three chat requests for three chats.
        expect(peer.stats.chatCalls).toBe(3);
        expect(completion.attempts).toBe(1);
        const chats = chatRequests(peer);
        expect(bearerOf(chats[2])).not.toBe(bearerOf(chats[0]));
      } finally {
        await peer.close();
      }
    });

    it('shares one OAuth request among concurrent calls, and one renewal among concurrent 401s (B2B)', async () => {
      const client = clientFor(b2b);
      const first = await Promise.all(Array.from({ length: 10 }, () => client.chat(chatRequest())));
      expect(first).toHaveLength(10);
      expect(b2b.stats.oauthCalls).toBe(1);

      b2b.expireAllTokens();
      const before = chatRequests(b2b).length;
      const second = await Promise.all(Array.from({ length: 10 }, () => client.chat(chatRequest())));
      expect(second.every((c) => c.attempts === 2)).toBe(true);
      expect(b2b.stats.oauthCalls).toBe(2);
      const round = chatRequests(b2b).slice(before);
      expect(round).toHaveLength(20);
      // Ten calls with the expired token, ten retries with the single renewed one.
      expect(new Set(round.map(bearerOf)).size).toBe(2);
    });

    it('renews the token after a 401 and retries once', async () => {
      pers.script({ status: 401 });
      const client = clientFor(pers);
      const completion = await client.chat(chatRequest());
      expect(completion.attempts).toBe(2);
      expect(pers.stats.oauthCalls).toBe(2);
      const [rejected, retried] = chatRequests(pers);
      expect(bearerOf(retried)).not.toBe(bearerOf(rejected));
    });

    it('does not renew again when the fresh token is refused too', async () => {
      // A third call would succeed: the client must stop after the second 401.
      pers.script({ status: 401 }, { status: 401 });
      const error = await failureOf(clientFor(pers).chat(chatRequest()));
      expect(error).toBeInstanceOf(GigaChatApiError);
      expect((error as GigaChatApiError).status).toBe(401);
      expect(pers.stats.chatCalls).toBe(2);
      expect(pers.stats.oauthCalls).toBe(2);
    });

    it('surfaces a wrong key as GigaChatAuthError code 6, without retrying or calling the API', async () => {
      const wrongKey = Buffer.from('someone-else:not-the-secret').toString('base64');
      const error = await failureOf(clientFor(pers, { GIGACHAT_AUTH_KEY: wrongKey }).chat(chatRequest()));
      expect(error).toBeInstanceOf(GigaChatAuthError);
      expect(error).toMatchObject({ status: 401, code: 6, providerMessage: "credentials doesn't match db data", retryable: false });
      expect(error.message).toContain("credentials doesn't match db data");
      expect(pers.stats.oauthCalls).toBe(1);
      expect(pers.stats.chatCalls).toBe(0);
    });

    it('surfaces a scope the key is not registered for as GigaChatAuthError code 7', async () => {
      const error = await failureOf(clientFor(pers, { GIGACHAT_SCOPE: 'GIGACHAT_API_B2B' }).chat(chatRequest()));
      expect(error).toBeInstanceOf(GigaChatAuthError);
      expect(error).toMatchObject({ status: 400, code: 7, providerMessage: 'scope from db not fully includes consumed scope' });
      expect(oauthRequests(pers)[0].rawBody).toBe('scope=GIGACHAT_API_B2B');
      expect(pers.stats.oauthCalls).toBe(1);
      expect(pers.stats.chatCalls).toBe(0);
    });

    it('surfaces a corrupted key as GigaChatAuthError code 4', async () => {
      const error = await failureOf(clientFor(pers, { GIGACHAT_AUTH_KEY: 'abc' }).chat(chatRequest()));
      expect(error).toBeInstanceOf(GigaChatAuthError);
      expect(error).toMatchObject({ status: 401, code: 4 });
    });

    it('retries an unreachable OAuth endpoint, then reports GigaChatNetworkError', async () => {
      const port = await freePort();
      const client = clientFor(pers, { GIGACHAT_AUTH_URL: `http://127.0.0.1:${port}/api/v2/oauth`, GIGACHAT_MAX_RETRIES: '1' });
      const error = await failureOf(client.chat(chatRequest()));
      expect(error).toBeInstanceOf(GigaChatNetworkError);
      expect((error as GigaChatNetworkError).code).toBe('ECONNREFUSED');
      expect(pers.stats.chatCalls).toBe(0);
    });
  });

  describe('retries', () => {
    it('retries 429 and 5xx with growing backoff delays', async () => {
      pers.script({ status: 429 }, { status: 500 }, { status: 503 });
      const completion = await clientFor(pers, { GIGACHAT_RETRY_BASE_MS: '100' }).chat(chatRequest());
      expect(completion.attempts).toBe(4);
      const at = chatRequests(pers).map((r) => r.receivedAt);
      expect(at).toHaveLength(4);
      // Backoff n waits at least half of base·2^(n-1) (jitter takes at most half off).
      expect(at[1] - at[0]).toBeGreaterThanOrEqual(50 - 5);
      expect(at[2] - at[1]).toBeGreaterThanOrEqual(100 - 5);
      expect(at[3] - at[2]).toBeGreaterThanOrEqual(200 - 5);
    });

    it('waits as long as Retry-After asks before retrying', async () => {
      pers.script({ status: 429, headers: { 'Retry-After': '1' } });
      const completion = await clientFor(pers).chat(chatRequest());
      expect(completion.attempts).toBe(2);
      const [refused, retried] = chatRequests(pers);
      // GIGACHAT_RETRY_BASE_MS is 10: without the header the retry would come within ~10 ms.
      expect(retried.receivedAt - refused.receivedAt).toBeGreaterThanOrEqual(950);
    });

    it('gives up after GIGACHAT_MAX_RETRIES with a GigaChatApiError carrying the status and the provider message', async () => {
      pers.setResponder(() => ({ status: 503, body: { status: 503, message: 'Модель перегружена, попробуйте позже' } }));
      const error = await failureOf(clientFor(pers, { GIGACHAT_MAX_RETRIES: '2' }).chat(chatRequest()));
      expect(error).toBeInstanceOf(GigaChatApiError);
      expect(error).toMatchObject({ status: 503, providerMessage: 'Модель перегружена, попробуйте позже', retryable: true });
      expect(error.message).toContain('Модель перегружена, попробуйте позже');
      expect(pers.stats.chatCalls).toBe(3);
    });

    it('retries three times by default', async () => {
      pers.setResponder(() => ({ status: 500 }));
      const error = await failureOf(clientFor(pers).chat(chatRequest()));
      expect(error).toMatchObject({ name: 'GigaChatApiError', status: 500, providerMessage: 'Internal Server Error' });
      expect(pers.stats.chatCalls).toBe(4);
    });

    it.each([400, 404, 413, 422])('does not retry HTTP %i', async (status) => {
      // The answer after the error is a success: a retry would hide the error.
      pers.script({ status }, decisionReply({ decision: 'full_answer' }));
      const error = await failureOf(clientFor(pers).chat(chatRequest()));
      expect(error).toBeInstanceOf(GigaChatApiError);
      expect(error).toMatchObject({ status, retryable: false });
      expect(pers.stats.chatCalls).toBe(1);
    });

    it('reports the provider message of a real 404 (unknown model) and 422 (bad function name)', async () => {
      const unknownModel = await failureOf(clientFor(pers, { GIGACHAT_MODEL: 'GigaChat-Nonexistent' }).chat(chatRequest()));
      expect(unknownModel).toMatchObject({ name: 'GigaChatApiError', status: 404, providerMessage: 'No such model' });

      const badFunction = await failureOf(
        clientFor(pers).chat(
          chatRequest({
            functions: [{ name: '1st_decision', description: 'x', parameters: { type: 'object', properties: {} } }],
            forceFunction: '1st_decision',
          }),
        ),
      );
      expect(badFunction).toMatchObject({ name: 'GigaChatApiError', status: 422 });
      expect((badFunction as GigaChatApiError).providerMessage).toMatch(/latin letters/);
      expect(pers.stats.chatCalls).toBe(2);
    });

    it('retries a timed-out request, then reports GigaChatNetworkError', async () => {
      slow.setLatency(1_000);
      const error = await failureOf(clientFor(slow, { GIGACHAT_TIMEOUT_MS: '150', GIGACHAT_MAX_RETRIES: '2' }).chat(chatRequest()));
      expect(error).toBeInstanceOf(GigaChatNetworkError);
      expect(error.message).toMatch(/timed out/);
      expect(slow.stats.chatCalls).toBe(3);
    });

    it('gets the answer on the retry after a timeout', async () => {
      slow.script({ delayMs: 800 });
      const completion = await clientFor(slow, { GIGACHAT_TIMEOUT_MS: '150' }).chat(chatRequest());
      expect(completion.attempts).toBe(2);
      expect(completion.content).toBe('OK');
    });

    it('retries a dropped connection, then reports GigaChatNetworkError', async () => {
      pers.setResponder(() => ({ dropConnection: true }));
      const error = await failureOf(clientFor(pers, { GIGACHAT_MAX_RETRIES: '1' }).chat(chatRequest()));
      expect(error).toBeInstanceOf(GigaChatNetworkError);
      expect(pers.stats.chatCalls).toBe(2);

      pers.setResponder(undefined);
      pers.script({ dropConnection: true });
      const completion = await clientFor(pers).chat(chatRequest());
      expect(completion.attempts).toBe(2);
    });
  });

  describe('limits', () => {
    it('keeps one request in flight on PERS: five concurrent chats all succeed without a 429', async () => {
      pers.setLatency(150);
      const client = clientFor(pers);
      const results = await Promise.all(Array.from({ length: 5 }, () => client.chat(chatRequest())));
      expect(results.map((r) => r.content)).toEqual(['OK', 'OK', 'OK', 'OK', 'OK']);
      expect(pers.stats.maxInFlight).toBe(1);
      expect(pers.stats.rejectedForConcurrency).toBe(0);
      expect(pers.stats.chatCalls).toBe(5);
    });

    it('uses ten requests in flight on B2B, never more', async () => {
      b2b.setLatency(150);
      const client = clientFor(b2b);
      const results = await Promise.all(Array.from({ length: 15 }, () => client.chat(chatRequest())));
      expect(results).toHaveLength(15);
      expect(b2b.stats.maxInFlight).toBe(10);
      expect(b2b.stats.rejectedForConcurrency).toBe(0);
      expect(b2b.stats.chatCalls).toBe(15);
    });
  });

  describe('requests', () => {
    it('sends X-Request-ID, and X-Client-ID when GIGACHAT_CLIENT_ID is set', async () => {
      const completion = await clientFor(pers, { GIGACHAT_CLIENT_ID: 'shop-42' }).chat(chatRequest({ requestId: 'ticket-7.0.1' }));
      await clientFor(pers).chat(chatRequest({ requestId: 'ticket-8.0.1' }));
      const [withId, withoutId] = chatRequests(pers);
      expect(withId.headers['x-request-id']).toBe('ticket-7.0.1');
      expect(withId.headers['x-client-id']).toBe('shop-42');
      expect(withId.headers['content-type']).toMatch(/^application\/json/);
      expect(withId.headers.authorization).toMatch(/^Bearer \S+$/);
      expect(withoutId.headers['x-request-id']).toBe('ticket-8.0.1');
      expect(withoutId.headers['x-client-id']).toBeUndefined();
      expect(completion.requestId).toBe('ticket-7.0.1');
    });

    it('TicketAnalyzer sends a body the API accepts: one system message first, string contents, temperature > 0, a forced function', async () => {
      pers.script(decisionReply({ decision: 'full_answer', used_article_ids: ['returns/how-to-return'] }));
      const analyzer = new TicketAnalyzer(clientFor(pers));
      const result = await analyzer.analyze(
        {
          ticketNumber: 17,
          subject: 'Возврат кроссовок',
          articles: [{ id: 'returns/how-to-return', title: 'Как вернуть товар', content: 'Вернуть товар можно в течение 14 дней.' }],
          conversation: [{ author: 'customer', from: 'Иван <ivan@example.ru>', at: new Date('2026-11-20T10:00:00Z'), subject: 'Возврат кроссовок', text: 'Как вернуть кроссовки?' }],
        },
        'ticket-17.0.1',
      );
      // The emulator validates the body like the real API: the success itself proves the rules held.
      expect(result.analysis).toMatchObject({ decision: 'full_answer', usedArticleIds: ['returns/how-to-return'] });
      expect(result.model).toMatch(/^GigaChat:/);
      expect(result.usage?.totalTokens).toBeGreaterThan(0);

      const body = pers.chatBodies[0];
      expect(body.model).toBe('GigaChat');
      expect(body.messages[0].role).toBe('system');
      expect(body.messages.filter((m) => m.role === 'system')).toHaveLength(1);
      expect(body.messages.every((m) => typeof m.content === 'string' && m.content.length > 0)).toBe(true);
      expect(body.temperature).toBeGreaterThan(0);
      expect(body.stream).not.toBe(true);
      expect(body.function_call).toEqual({ name: DECISION_FUNCTION_NAME });
      expect(body.functions).toHaveLength(1);
      const fn = body.functions![0];
      expect(fn.name).toBe('support_decision');
      expect(fn.parameters).toMatchObject({ type: 'object', properties: expect.any(Object) });
      expect((fn.parameters.required as string[])).toEqual(expect.arrayContaining(['full_name', 'issue_summary', 'decision', 'draft_reply']));
      expect((fn.parameters.properties as Record<string, { enum?: string[] }>).decision.enum).toEqual(['full_answer', 'need_more_info', 'escalate_to_human']);
      const problems: string[] = [];
      walkSchema(fn.parameters, 'parameters', problems);
      expect(problems).toEqual([]);
    });

    it('refuses, without calling out, a body GigaChat would reject', async () => {
      const client = clientFor(pers);
      await expect(
        client.chat(chatRequest({ messages: [{ role: 'user', content: 'a' }, { role: 'system', content: 'b' }] })),
      ).rejects.toThrow(/system message/);
      await expect(
        client.chat(chatRequest({ messages: [{ role: 'system', content: 'a' }, { role: 'system', content: 'b' }, { role: 'user', content: 'c' }] })),
      ).rejects.toThrow(/system message/);
      await expect(client.chat(chatRequest({ temperature: 0 }))).rejects.toThrow(/temperature/);
      expect(pers.requests).toHaveLength(0);
    });

    it('without GIGACHAT_AUTH_KEY is not configured and calls nobody', async () => {
      const client = new GigaChatClient(validateEnvironment({ GIGACHAT_AUTH_URL: pers.authUrl, GIGACHAT_API_URL: pers.apiUrl }));
      expect(client.isConfigured).toBe(false);
      await expect(client.chat(chatRequest())).rejects.toBeInstanceOf(GigaChatNotConfiguredError);
      expect(pers.requests).toHaveLength(0);
    });
  });

  it('never puts the token or the authorization key in an error or a log line', async () => {
    logs.clear();
    const errors: Error[] = [];
    const client = clientFor(pers, { GIGACHAT_MAX_RETRIES: '1' });
    await client.chat(chatRequest());
    pers.expireAllTokens();
    await client.chat(chatRequest()); // 401 → renewal (logged)
    pers.setResponder(() => ({ status: 500 }));
    errors.push(await failureOf(client.chat(chatRequest()))); // retries (logged), then an API error
    pers.setResponder(() => ({ dropConnection: true }));
    errors.push(await failureOf(client.chat(chatRequest()))); // network error
    pers.setResponder(undefined);
    pers.script({ status: 401 }, { status: 401 });
    errors.push(await failureOf(client.chat(chatRequest())));
    const wrongKey = Buffer.from('intruder:guess').toString('base64');
    errors.push(await failureOf(clientFor(pers, { GIGACHAT_AUTH_KEY: wrongKey }).chat(chatRequest())));

    const secrets = [pers.authKey, wrongKey, ...new Set(chatRequests(pers).map(bearerOf))];
    expect(secrets.length).toBeGreaterThanOrEqual(4);
    expect(logs.entries.some((e) => e.level === 'warn')).toBe(true);
    const exposed = [logs.text(), ...errors.map(everythingOf)].join('\n');
    for (const secret of secrets) expect(exposed).not.toContain(secret);
  });
});

/** Collects what GigaChat refuses in a function schema (reference §10). */
function walkSchema(node: unknown, path: string, problems: string[]): void {
  if (Array.isArray(node)) {
    node.forEach((item, i) => walkSchema(item, `${path}[${i}]`, problems));
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const schema = node as Record<string, unknown>;
  for (const keyword of ['$ref', '$defs', 'anyOf', 'oneOf', 'allOf']) {
    if (keyword in schema) problems.push(`${path} uses ${keyword}`);
  }
  if (schema.type !== undefined && typeof schema.type !== 'string') problems.push(`${path}.type is not a single type`);
  if (schema.type === 'object' && (schema.properties === null || typeof schema.properties !== 'object')) {
    problems.push(`${path} is an object without properties`);
  }
  if (schema.type === 'array' && schema.items === undefined) problems.push(`${path} is an array without items`);
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties' && value && typeof value === 'object') {
      for (const [name, sub] of Object.entries(value)) walkSchema(sub, `${path}.properties.${name}`, problems);
    } else if (key === 'items') {
      walkSchema(value, `${path}.items`, problems);
    }
  }
}
