import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import axios, { AxiosError, type AxiosResponse } from 'axios';
import { GigaChatPeer, type GigaChatPeerOptions } from './gigachat.peer.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const http = axios.create({ validateStatus: () => true, timeout: 10_000 });

let peer: GigaChatPeer;

async function startPeer(options?: GigaChatPeerOptions): Promise<GigaChatPeer> {
  await peer?.close();
  peer = await GigaChatPeer.start(options);
  return peer;
}

function oauth(
  options: { key?: string | null; rqUid?: string | null; body?: string; contentType?: string; authorization?: string } = {},
): Promise<AxiosResponse> {
  const headers: Record<string, string> = {
    'Content-Type': options.contentType ?? 'application/x-www-form-urlencoded',
    Accept: 'application/json',
  };
  if (options.authorization !== undefined) headers.Authorization = options.authorization;
  else if (options.key !== null) headers.Authorization = `Basic ${options.key ?? peer.authKey}`;
  if (options.rqUid !== null) headers.RqUID = options.rqUid ?? randomUUID();
  return http.post(peer.authUrl, options.body ?? `scope=${peer.scope}`, { headers, transformRequest: [(d: unknown) => d] });
}

async function token(): Promise<string> {
  const res = await oauth();
  expect(res.status).toBe(200);
  return (res.data as { access_token: string }).access_token;
}

const simpleBody = (extra: Record<string, unknown> = {}) => ({
  model: 'GigaChat',
  messages: [{ role: 'user', content: 'Привет' }],
  ...extra,
});

async function chat(body: unknown, accessToken?: string | null, headers: Record<string, string> = {}): Promise<AxiosResponse> {
  const auth = accessToken === null ? {} : { Authorization: `Bearer ${accessToken ?? (await token())}` };
  return http.post(`${peer.apiUrl}/chat/completions`, body, {
    headers: { 'Content-Type': 'application/json', ...auth, ...headers },
    transformRequest: [(d: unknown) => (typeof d === 'string' ? d : JSON.stringify(d))],
  });
}

const weatherFn = {
  name: 'weather_forecast',
  description: 'Returns the weather',
  parameters: {
    type: 'object',
    properties: { location: { type: 'string' }, num_days: { type: 'integer' } },
    required: ['location'],
  },
};

beforeEach(async () => {
  await startPeer();
});

afterEach(async () => {
  await peer.close();
});

describe('GigaChatPeer — OAuth', () => {
  it('issues a token with expires_at in milliseconds', async () => {
    await startPeer({ clientId: 'id', clientSecret: 'secret', tokenTtlMs: 60_000 });
    expect(peer.authKey).toBe(Buffer.from('id:secret').toString('base64'));
    expect(peer.authUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v2\/oauth$/);
    expect(peer.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v1$/);
    const before = Date.now();
    const res = await oauth();
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const data = res.data as { access_token: string; expires_at: number };
    expect(Object.keys(data).sort()).toEqual(['access_token', 'expires_at']);
    expect(typeof data.access_token).toBe('string');
    expect(data.access_token.length).toBeGreaterThan(32);
    expect(data.expires_at).toBeGreaterThan(1e12);
    expect(data.expires_at).toBeGreaterThanOrEqual(before + 60_000);
    expect(data.expires_at).toBeLessThanOrEqual(Date.now() + 60_000);
    expect(peer.stats.oauthCalls).toBe(1);
    expect(peer.requests).toHaveLength(1);
    expect(peer.requests[0]).toMatchObject({ kind: 'oauth', body: { scope: 'GIGACHAT_API_PERS' }, rawBody: 'scope=GIGACHAT_API_PERS' });
    expect(peer.requests[0]!.headers.rquid).toMatch(UUID);
  });

  it('issues distinct tokens on each call', async () => {
    expect(await token()).not.toBe(await token());
  });

  it('rejects a wrong key with code 6', async () => {
    const res = await oauth({ key: Buffer.from('other:secret').toString('base64') });
    expect(res.status).toBe(401);
    expect(res.data).toEqual({ code: 6, message: "credentials doesn't match db data" });
  });

  it.each([
    ['undecodable base64', 'Basic !!!not-base64!!!'],
    ['base64 without a colon', `Basic ${Buffer.from('justaclientid').toString('base64')}`],
    ['a Bearer header', 'Bearer abc'],
    ['no credentials', 'Basic'],
  ])('rejects a malformed Authorization header (%s) with code 4', async (_name, authorization) => {
    const res = await oauth({ authorization });
    expect(res.status).toBe(401);
    expect(res.data).toEqual({ code: 4, message: "Can't decode 'Authorization' header" });
  });

  it('rejects a missing Authorization header with code 4', async () => {
    const res = await oauth({ key: null });
    expect(res.status).toBe(401);
    expect(res.data).toEqual({ code: 4, message: "Can't decode 'Authorization' header" });
  });

  it.each([
    ['missing', null],
    ['not a uuid', 'request-1'],
    ['a uuid v1', 'c232ab00-9414-11ec-b3c8-9f6bdeced846'],
  ])('rejects an RqUID that is %s with 400 {code, message}', async (_name, rqUid) => {
    const res = await oauth({ rqUid });
    expect(res.status).toBe(400);
    const data = res.data as { code: unknown; message: unknown };
    expect(typeof data.code).toBe('number');
    expect(data.message).toMatch(/RqUID/);
  });

  it('rejects a missing scope with code 5', async () => {
    for (const body of ['', 'scope=', 'foo=bar']) {
      const res = await oauth({ body });
      expect(res.status).toBe(400);
      expect(res.data).toEqual({ code: 5, message: 'scope is empty' });
    }
  });

  it('rejects a scope the key is not registered for with code 7', async () => {
    const res = await oauth({ body: 'scope=GIGACHAT_API_CORP' });
    expect(res.status).toBe(400);
    expect(res.data).toEqual({ code: 7, message: 'scope from db not fully includes consumed scope' });

    await startPeer({ scope: 'GIGACHAT_API_B2B' });
    expect((await oauth({ body: 'scope=GIGACHAT_API_PERS' })).data).toMatchObject({ code: 7 });
    expect((await oauth({ body: 'scope=GIGACHAT_API_B2B' })).status).toBe(200);
  });

  it('rejects a body that is not form-urlencoded', async () => {
    const res = await oauth({ body: '{"scope":"GIGACHAT_API_PERS"}', contentType: 'application/json' });
    expect(res.status).toBe(400);
    expect(res.data).toEqual({ code: 1, message: 'scope data format invalid' });
  });
});

describe('GigaChatPeer — tokens', () => {
  it('rejects unknown and missing bearer tokens', async () => {
    for (const res of [await chat(simpleBody(), 'not-a-token'), await chat(simpleBody(), null)]) {
      expect(res.status).toBe(401);
      expect(res.data).toEqual({ status: 401, message: 'Unauthorized' });
      expect(res.headers['x-request-id']).toMatch(UUID);
    }
  });

  it('expires tokens after tokenTtlMs', async () => {
    await startPeer({ tokenTtlMs: 500 });
    const t = await token();
    expect((await chat(simpleBody(), t)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 600));
    const res = await chat(simpleBody(), t);
    expect(res.status).toBe(401);
    expect(res.data).toEqual({ status: 401, message: 'Token has expired' });
    expect((await chat(simpleBody(), await token())).status).toBe(200);
  });

  it('expireAllTokens invalidates every token issued so far, not later ones', async () => {
    const a = await token();
    const b = await token();
    peer.expireAllTokens();
    for (const t of [a, b]) {
      const res = await chat(simpleBody(), t);
      expect(res.status).toBe(401);
      expect(res.data).toEqual({ status: 401, message: 'Token has expired' });
    }
    expect((await chat(simpleBody(), await token())).status).toBe(200);
  });

  it('reset() clears script, requests and stats but keeps tokens valid', async () => {
    const t = await token();
    peer.script({ content: 'scripted' });
    peer.reset();
    expect(peer.requests).toHaveLength(0);
    expect(peer.stats).toEqual({ oauthCalls: 0, chatCalls: 0, maxInFlight: 0, rejectedForConcurrency: 0 });
    const res = await chat(simpleBody(), t);
    expect(res.status).toBe(200);
    expect((res.data as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe('OK');
    expect(peer.stats.chatCalls).toBe(1);
  });
});

describe('GigaChatPeer — chat validation', () => {
  let t: string;
  beforeEach(async () => {
    t = await token();
  });

  const expectError = async (body: unknown, status: number, message: string | RegExp) => {
    const res = await chat(body, t);
    expect(res.status).toBe(status);
    const data = res.data as { status: number; message: string };
    expect(Object.keys(data).sort()).toEqual(['message', 'status']);
    expect(data.status).toBe(status);
    if (typeof message === 'string') expect(data.message).toBe(message);
    else expect(data.message).toMatch(message);
    expect(res.headers['x-request-id']).toBeTruthy();
    return data;
  };

  it('rejects invalid JSON with 400', async () => {
    await expectError('{"model": "GigaChat", ', 400, 'Your request contains invalid JSON syntax.');
    expect(peer.requests.at(-1)).toMatchObject({ kind: 'chat', body: undefined, rawBody: '{"model": "GigaChat", ' });
  });

  it('rejects unknown models with 404 and accepts the documented ones', async () => {
    await expectError(simpleBody({ model: 'gpt-4o' }), 404, 'No such model');
    await expectError(simpleBody({ model: 'GigaChat-7' }), 404, 'No such model');
    for (const model of ['GigaChat', 'GigaChat-Pro', 'GigaChat-Max', 'GigaChat-2', 'GigaChat-2-Pro', 'GigaChat-2-Max', 'GigaChat-2-Max-preview']) {
      const res = await chat(simpleBody({ model }), t);
      expect(res.status).toBe(200);
      expect((res.data as { model: string }).model).toBe(`${model}:2.0.28.2`);
    }
  });

  it('requires a model', async () => {
    await expectError({ messages: [{ role: 'user', content: 'hi' }] }, 422, /^Invalid params: .*model/);
  });

  it('requires a non-empty messages array', async () => {
    await expectError({ model: 'GigaChat' }, 422, /^Invalid params: .*messages/);
    await expectError({ model: 'GigaChat', messages: [] }, 422, /^Invalid params: .*messages/);
    await expectError({ model: 'GigaChat', messages: 'hi' }, 422, /^Invalid params: .*messages/);
  });

  it('requires the single system message to be first', async () => {
    const message = 'Invalid params: system message must be the first message';
    await expectError(
      simpleBody({ messages: [{ role: 'user', content: 'a' }, { role: 'system', content: 'b' }] }),
      422,
      message,
    );
    await expectError(
      simpleBody({ messages: [{ role: 'system', content: 'a' }, { role: 'system', content: 'b' }, { role: 'user', content: 'c' }] }),
      422,
      message,
    );
    const ok = await chat(simpleBody({ messages: [{ role: 'system', content: 'a' }, { role: 'user', content: 'b' }] }), t);
    expect(ok.status).toBe(200);
  });

  it('requires string content', async () => {
    await expectError(
      simpleBody({ messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] }),
      422,
      /^Invalid params: messages\[0\]\.content must be a string$/,
    );
    await expectError(simpleBody({ messages: [{ role: 'user' }] }), 422, /^Invalid params: .*content must be a string/);
  });

  it('rejects unknown roles and non-JSON function results', async () => {
    await expectError(simpleBody({ messages: [{ role: 'tool', content: 'x' }] }), 422, /^Invalid params: .*role/);
    await expectError(
      simpleBody({ messages: [{ role: 'user', content: 'q' }, { role: 'function', name: 'f', content: 'plain text' }] }),
      422,
      /^Invalid params: invalid function result/,
    );
  });

  it('requires temperature > 0', async () => {
    for (const temperature of [0, -1]) {
      await expectError(simpleBody({ temperature }), 422, 'Invalid params: temperature must be in range (0, +inf)');
    }
    expect((await chat(simpleBody({ temperature: 0.0001 }), t)).status).toBe(200);
  });

  it('rejects a function without parameters with 404', async () => {
    await expectError(
      simpleBody({ functions: [{ name: 'not_valid_function' }] }),
      404,
      'Function schema for not_valid_function not found',
    );
  });

  it('rejects a function without a name', async () => {
    await expectError(simpleBody({ functions: [{ parameters: weatherFn.parameters }] }), 422, /^Invalid params: .*name/);
  });

  it.each([
    ['$ref', { type: 'object', properties: { a: { $ref: '#/$defs/A' } }, $defs: { A: { type: 'string' } } }],
    ['anyOf', { type: 'object', properties: { a: { anyOf: [{ type: 'string' }, { type: 'null' }] } } }],
    ['oneOf', { type: 'object', properties: { a: { type: 'array', items: { oneOf: [{ type: 'string' }] } } } }],
    ['allOf', { type: 'object', properties: { a: { allOf: [{ type: 'string' }] } } }],
  ])('rejects a schema using %s with 422', async (keyword, parameters) => {
    const data = await expectError(simpleBody({ functions: [{ name: 'f', parameters }] }), 422, /^Invalid params: /);
    expect(data.message).toContain(keyword);
  });

  it('rejects an object schema without properties, at any depth', async () => {
    await expectError(simpleBody({ functions: [{ name: 'f', parameters: { type: 'object' } }] }), 422, /^Invalid params: .*properties/);
    await expectError(
      simpleBody({
        functions: [{ name: 'f', parameters: { type: 'object', properties: { nested: { type: 'object' } } } }],
      }),
      422,
      /^Invalid params: .*nested.*properties/,
    );
  });

  it('accepts property names that look like keywords', async () => {
    const parameters = { type: 'object', properties: { anyOf: { type: 'string' }, $ref: { type: 'object', properties: {} } } };
    expect((await chat(simpleBody({ functions: [{ name: 'f', parameters }] }), t)).status).toBe(200);
  });

  it('validates function_call', async () => {
    await expectError(
      simpleBody({ functions: [weatherFn], function_call: { name: 'other_fn' } }),
      422,
      /^Invalid params: .*other_fn/,
    );
    await expectError(simpleBody({ function_call: { name: 'weather_forecast' } }), 422, /^Invalid params: /);
    await expectError(simpleBody({ functions: [weatherFn], function_call: 'required' }), 422, /^Invalid params: /);
    for (const function_call of ['none', 'auto', { name: 'weather_forecast' }]) {
      expect((await chat(simpleBody({ functions: [weatherFn], function_call }), t)).status).toBe(200);
    }
  });

  it('validation errors consume no scripted answer', async () => {
    peer.script({ content: 'first' });
    await expectError(simpleBody({ temperature: 0 }), 422, /temperature/);
    const res = await chat(simpleBody(), t);
    expect((res.data as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe('first');
  });
});

describe('GigaChatPeer — chat answers', () => {
  it('answers in the documented shape and echoes X-Request-ID / X-Session-ID', async () => {
    const requestId = randomUUID();
    const sessionId = randomUUID();
    const before = Math.floor(Date.now() / 1000);
    const res = await chat(simpleBody(), undefined, { 'X-Request-ID': requestId, 'X-Session-ID': sessionId });
    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toBe(requestId);
    expect(res.headers['x-session-id']).toBe(sessionId);
    const data = res.data as Record<string, unknown> & { usage: Record<string, number>; created: number };
    expect(Object.keys(data).sort()).toEqual(['choices', 'created', 'model', 'object', 'usage']);
    expect(data).toMatchObject({
      choices: [{ message: { content: 'OK', role: 'assistant' }, index: 0, finish_reason: 'stop' }],
      model: 'GigaChat:2.0.28.2',
      object: 'chat.completion',
    });
    expect(data.created).toBeGreaterThanOrEqual(before);
    expect(data.created).toBeLessThan(1e11);
    expect(data.usage.prompt_tokens).toBeGreaterThan(0);
    expect(data.usage.completion_tokens).toBeGreaterThan(0);
    expect(data.usage.total_tokens).toBe(data.usage.prompt_tokens + data.usage.completion_tokens);
    expect(data.usage.precached_prompt_tokens).toBe(0);
    expect(peer.stats.chatCalls).toBe(1);
    expect(peer.requests.at(-1)).toMatchObject({ kind: 'chat', body: simpleBody() });
  });

  it('generates x-request-id / x-session-id when absent', async () => {
    const res = await chat(simpleBody());
    expect(res.headers['x-request-id']).toMatch(UUID);
    expect(res.headers['x-session-id']).toMatch(UUID);
  });

  it('default responder calls a forced function with {}', async () => {
    const res = await chat(simpleBody({ functions: [weatherFn], function_call: { name: 'weather_forecast' } }));
    const choice = (res.data as { choices: Record<string, unknown>[] }).choices[0]!;
    expect(choice.finish_reason).toBe('function_call');
    const message = choice.message as Record<string, unknown>;
    expect(message).toMatchObject({ content: '', role: 'assistant', function_call: { name: 'weather_forecast', arguments: {} } });
    expect(message.functions_state_id).toMatch(UUID);
  });

  it('serves scripted answers FIFO, then the responder', async () => {
    await startPeer({ responder: (req) => ({ content: `echo:${req.messages.at(-1)!.content}` }) });
    const body = simpleBody({ functions: [weatherFn], function_call: { name: 'weather_forecast' } });
    peer.script(
      { functionCall: { location: 'Манжерок', num_days: 10 } },
      { content: 'truncated', finishReason: 'length' },
      { functionCall: '{"location":"Moscow"}' },
    );
    const t = await token();

    const first = (await chat(body, t)).data as { choices: { message: Record<string, unknown>; finish_reason: string }[] };
    expect(first.choices[0]!.finish_reason).toBe('function_call');
    expect(first.choices[0]!.message.function_call).toEqual({
      name: 'weather_forecast',
      arguments: { location: 'Манжерок', num_days: 10 },
    });

    const second = (await chat(body, t)).data as { choices: { message: Record<string, unknown>; finish_reason: string }[] };
    expect(second.choices[0]!).toMatchObject({ message: { content: 'truncated' }, finish_reason: 'length' });

    const third = (await chat(body, t)).data as { choices: { message: Record<string, unknown> }[] };
    expect(third.choices[0]!.message.function_call).toEqual({ name: 'weather_forecast', arguments: '{"location":"Moscow"}' });

    const fourth = (await chat(simpleBody(), t)).data as { choices: { message: { content: string } }[] };
    expect(fourth.choices[0]!.message.content).toBe('echo:Привет');

    peer.setResponder(() => ({ content: 'changed' }));
    const fifth = (await chat(simpleBody(), t)).data as { choices: { message: { content: string } }[] };
    expect(fifth.choices[0]!.message.content).toBe('changed');
  });

  it('sends a scripted body as-is', async () => {
    peer.script({ body: { anything: true } }, { status: 200, body: 'not json' });
    const t = await token();
    expect((await chat(simpleBody(), t)).data).toEqual({ anything: true });
    expect((await chat(simpleBody(), t)).data).toBe('not json');
  });

  it('answers scripted 429 and 500 with the documented bodies and extra headers', async () => {
    peer.script({ status: 429, headers: { 'Retry-After': '2' } }, { status: 500, headers: { 'Retry-After': '1' } });
    const t = await token();

    const tooMany = await chat(simpleBody(), t, { 'X-Request-ID': 'req-429' });
    expect(tooMany.status).toBe(429);
    expect(tooMany.data).toEqual({ status: 429, message: 'Too many requests' });
    expect(tooMany.headers['retry-after']).toBe('2');
    expect(tooMany.headers['x-request-id']).toBe('req-429');

    const failed = await chat(simpleBody(), t);
    expect(failed.status).toBe(500);
    expect(failed.data).toEqual({ status: 500, message: 'Internal Server Error' });
    expect(failed.headers['retry-after']).toBe('1');
    expect(failed.headers['x-request-id']).toMatch(UUID);

    expect((await chat(simpleBody(), t)).status).toBe(200);
  });

  it('drops the connection when scripted', async () => {
    peer.script({ dropConnection: true });
    const t = await token();
    const err = await chat(simpleBody(), t).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AxiosError);
    const { code, message } = err as AxiosError;
    expect(code === 'ECONNRESET' || /socket hang up/.test(message)).toBe(true);
    // The peer keeps serving afterwards.
    expect((await chat(simpleBody(), t)).status).toBe(200);
  });

  it('delays answers by delayMs / latency', async () => {
    const t = await token();
    peer.script({ delayMs: 200 });
    let start = Date.now();
    const res = await chat(simpleBody(), t);
    expect(Date.now() - start).toBeGreaterThanOrEqual(190);
    expect((res.data as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe('OK');

    peer.setLatency(150);
    start = Date.now();
    await chat(simpleBody(), t);
    expect(Date.now() - start).toBeGreaterThanOrEqual(140);
  });

  it('streams as server-sent events when stream is true', async () => {
    peer.script({ content: 'Hello, this is a streamed answer.' });
    const res = await chat(simpleBody({ stream: true }));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    const events = String(res.data)
      .split('\n\n')
      .filter(Boolean)
      .map((e) => e.replace(/^data: /, ''));
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as { choices: { delta: Record<string, string>; finish_reason?: string }[]; usage?: unknown });
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(chunks.map((c) => c.choices[0]!.delta.content).join('')).toBe('Hello, this is a streamed answer.');
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop');
    expect(chunks.at(-1)!.usage).toBeDefined();
  });
});

describe('GigaChatPeer — concurrency', () => {
  it('PERS admits one request at a time; the second concurrent one gets 429', async () => {
    await startPeer({ latencyMs: 800 });
    const t = await token();
    const results = await Promise.all([chat(simpleBody(), t), chat(simpleBody(), t)]);
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 429]);
    expect(results.find((r) => r.status === 429)!.data).toEqual({ status: 429, message: 'Too many requests' });
    expect(peer.stats.maxInFlight).toBe(1);
    expect(peer.stats.rejectedForConcurrency).toBe(1);
    expect(peer.stats.chatCalls).toBe(2);
    // Once the first finished, the slot is free again.
    expect((await chat(simpleBody(), t)).status).toBe(200);
  });

  it('B2B admits up to 10 concurrent requests', async () => {
    await startPeer({ scope: 'GIGACHAT_API_B2B', latencyMs: 800 });
    const t = await token();
    const results = await Promise.all(Array.from({ length: 12 }, () => chat(simpleBody(), t)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(10);
    expect(results.filter((r) => r.status === 429)).toHaveLength(2);
    expect(peer.stats.maxInFlight).toBe(10);
    expect(peer.stats.rejectedForConcurrency).toBe(2);
  });

  it('honours an explicit maxInFlight', async () => {
    await startPeer({ maxInFlight: 3, latencyMs: 500 });
    const t = await token();
    const results = await Promise.all(Array.from({ length: 3 }, () => chat(simpleBody(), t)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(peer.stats.maxInFlight).toBe(3);
  });
});

describe('GigaChatPeer — robustness', () => {
  it('answers unknown paths and methods with 404/405 JSON', async () => {
    const res = await http.get(`${peer.apiUrl}/nothing-here`);
    expect(res.status).toBe(404);
    expect(res.data).toEqual({ status: 404, message: 'Not Found' });
    const root = await http.get(`http://127.0.0.1:${new URL(peer.apiUrl).port}/`);
    expect(root.status).toBe(404);
    const wrongMethod = await http.get(`${peer.apiUrl}/chat/completions`);
    expect(wrongMethod.status).toBe(405);
  });

  it('serves GET /models with a token', async () => {
    const t = await token();
    const res = await http.get(`${peer.apiUrl}/models`, { headers: { Authorization: `Bearer ${t}` } });
    expect(res.status).toBe(200);
    expect((res.data as { data: { id: string }[] }).data.map((m) => m.id)).toContain('GigaChat-2-Max');
    const missing = await http.get(`${peer.apiUrl}/models/Nope`, { headers: { Authorization: `Bearer ${t}` } });
    expect(missing.data).toEqual({ status: 404, message: 'No such model' });
  });

  it('survives garbage on the socket and a throwing responder', async () => {
    const port = Number(new URL(peer.apiUrl).port);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('THIS IS NOT HTTP\r\n\r\n'));
      let data = '';
      socket.on('data', (d: Buffer) => (data += d.toString()));
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);

    peer.setResponder(() => {
      throw new Error('boom');
    });
    const res = await chat(simpleBody());
    expect(res.status).toBe(500);
    expect(res.data).toEqual({ status: 500, message: 'Internal Server Error' });

    peer.setResponder(undefined);
    expect((await chat(simpleBody())).status).toBe(200);
  });

  it('close() ends promptly even with a delayed request in flight', async () => {
    const t = await token();
    peer.setLatency(20_000);
    const pending = chat(simpleBody(), t).then(
      (r) => r.status,
      (e: unknown) => (e instanceof AxiosError ? e.code : 'error'),
    );
    await new Promise((r) => setTimeout(r, 100));
    const start = Date.now();
    await peer.close();
    expect(Date.now() - start).toBeLessThan(2_000);
    expect(await pending).not.toBe(200);
  });
});
