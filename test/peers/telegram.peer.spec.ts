import { connect } from 'node:net';
import axios, { type AxiosResponse } from 'axios';
import { TelegramPeer, parseTelegramHtml } from './telegram.peer.js';

interface TelegramReply {
  ok: boolean;
  error_code?: number;
  description?: string;
  parameters?: { retry_after?: number };
  result?: { message_id: number; date: number; chat: { id: number | string; type: string }; text: string };
}

describe('TelegramPeer', () => {
  let peer: TelegramPeer;
  const http = axios.create({ validateStatus: () => true, timeout: 5000 });

  const send = (body: Record<string, unknown>, token?: string): Promise<AxiosResponse<TelegramReply>> =>
    http.post<TelegramReply>(`${peer.apiUrl}/bot${token ?? peer.token}/sendMessage`, body);

  const sendHtml = (text: string) => send({ chat_id: peer.chatId, text, parse_mode: 'HTML' });

  beforeAll(async () => {
    peer = await TelegramPeer.start();
  });
  afterEach(() => peer.reset());
  afterAll(async () => {
    await peer.close();
  });

  it('uses the documented defaults and a loopback URL', () => {
    expect(peer.token).toBe('123456:TEST-token_abc');
    expect(peer.chatId).toBe('-1001234567890');
    expect(peer.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('delivers valid HTML and reports the visible text', async () => {
    const text =
      '<b>Ticket #42</b> <i>needs</i> <u>an</u> <s>old</s> <a href="https://example.com/t/42?x=1&amp;y=2">operator</a>\n' +
      '<blockquote expandable>quoted <code>x &lt; y</code></blockquote><pre><code class="language-ts">let a = 1;</code></pre>' +
      '<span class="tg-spoiler">secret</span><tg-spoiler>s2</tg-spoiler><strong>B</strong><em>I</em><ins>U</ins><del>D</del><strike>S</strike>';
    const res = await sendHtml(text);
    expect(res.status).toBe(200);
    expect(res.data.ok).toBe(true);
    const visible = 'Ticket #42 needs an old operator\nquoted x < ylet a = 1;secrets2BIUDS';
    expect(res.data.result).toMatchObject({ message_id: expect.any(Number), chat: { id: -1001234567890, type: 'supergroup' }, text: visible });
    expect(res.data.result!.date).toBeGreaterThan(1_600_000_000);
    expect(peer.messages).toHaveLength(1);
    expect(peer.messages[0]).toMatchObject({ chatId: peer.chatId, text, parseMode: 'HTML', visibleText: visible });
    expect(peer.messages[0]!.raw).toMatchObject({ chat_id: peer.chatId, parse_mode: 'HTML' });
  });

  it('decodes the supported named and numeric entities', async () => {
    const res = await sendHtml('a &lt; b &amp; c &gt; d &quot;e&quot; &#65;&#x1F600;');
    expect(res.status).toBe(200);
    expect(res.data.result!.text).toBe('a < b & c > d "e" A😀');
    expect(peer.messages[0]!.visibleText).toBe('a < b & c > d "e" A😀');
  });

  it('gives increasing message ids', async () => {
    const a = await sendHtml('one');
    const b = await sendHtml('two');
    expect(b.data.result!.message_id).toBeGreaterThan(a.data.result!.message_id);
    expect(peer.messages.map((m) => m.messageId)).toEqual([a.data.result!.message_id, b.data.result!.message_id]);
  });

  it('rejects an unsupported tag such as an unescaped <script>', async () => {
    const res = await sendHtml('Customer: <script>alert(1)</script>');
    expect(res.status).toBe(400);
    expect(res.data).toEqual({
      ok: false,
      error_code: 400,
      description: `Bad Request: can't parse entities: Unsupported start tag "script" at byte offset 10`,
    });
    expect(peer.messages).toHaveLength(0);
    expect(peer.requests).toHaveLength(1);
  });

  it('reports byte offsets in UTF-8 bytes', async () => {
    const res = await sendHtml('Клиент <div>');
    expect(res.data.description).toBe(`Bad Request: can't parse entities: Unsupported start tag "div" at byte offset 13`);
  });

  it('rejects a raw "<" that is not a tag', async () => {
    const res = await sendHtml('if a < b');
    expect(res.status).toBe(400);
    expect(res.data.description).toMatch(/^Bad Request: can't parse entities: Unsupported start tag "" at byte offset 5$/);
  });

  it('rejects a raw ">"', async () => {
    const res = await sendHtml('a > b');
    expect(res.status).toBe(400);
    expect(res.data.description).toMatch(/^Bad Request: can't parse entities: .*">".* at byte offset 2$/);
  });

  it('rejects unbalanced and badly nested tags', async () => {
    const unclosed = await sendHtml('<b>bold');
    expect(unclosed.status).toBe(400);
    expect(unclosed.data.description).toBe(
      `Bad Request: can't parse entities: Can't find end tag corresponding to start tag "b"`,
    );

    const stray = await sendHtml('text</b>');
    expect(stray.status).toBe(400);
    expect(stray.data.description).toBe(`Bad Request: can't parse entities: Unexpected end tag at byte offset 4`);

    const crossed = await sendHtml('<b><i>x</b></i>');
    expect(crossed.status).toBe(400);
    expect(crossed.data.description).toBe(
      `Bad Request: can't parse entities: Unmatched end tag at byte offset 7, expected "</i>", found "</b>"`,
    );
    expect(peer.messages).toHaveLength(0);
  });

  it('rejects bad entities', async () => {
    const bare = await sendHtml('Tom & Jerry');
    expect(bare.status).toBe(400);
    expect(bare.data.description).toBe(
      `Bad Request: can't parse entities: Can't find end of the entity starting at byte offset 4`,
    );

    const noSemicolon = await sendHtml('a &amp b');
    expect(noSemicolon.data.description).toBe(
      `Bad Request: can't parse entities: Can't find end of the entity starting at byte offset 2`,
    );

    const unknown = await sendHtml('a&nbsp;b');
    expect(unknown.status).toBe(400);
    expect(unknown.data.description).toBe(`Bad Request: can't parse entities: Unknown entity "&nbsp;" at byte offset 1`);

    const badNumber = await sendHtml('&#0;');
    expect(badNumber.status).toBe(400);
    expect(badNumber.data.description).toMatch(/Unknown entity "&#0;"/);

    const inHref = await sendHtml('<a href="https://x.test/?a=1&b=2">x</a>');
    expect(inHref.status).toBe(400);
    expect(inHref.data.description).toMatch(/Can't find end of the entity/);
    expect(peer.messages).toHaveLength(0);
  });

  it('requires span to be a spoiler', async () => {
    const res = await sendHtml('<span class="big">x</span>');
    expect(res.status).toBe(400);
    expect(res.data.description).toBe(
      `Bad Request: can't parse entities: Tag "span" must have class "tg-spoiler" at byte offset 0`,
    );
  });

  it('accepts 4096 visible characters and rejects 4097 (entities count as one character)', async () => {
    const ok = await sendHtml(`<b>${'x'.repeat(4095)}</b>&amp;`);
    expect(ok.status).toBe(200);
    expect(peer.messages[0]!.visibleText).toHaveLength(4096);

    const tooLong = await sendHtml(`<b>${'x'.repeat(4095)}</b>&amp;&lt;`);
    expect(tooLong.status).toBe(400);
    expect(tooLong.data).toEqual({ ok: false, error_code: 400, description: 'Bad Request: message is too long' });
    expect(peer.messages).toHaveLength(1);
  });

  it('counts UTF-16 code units and applies the limit without parse_mode too', async () => {
    const emoji = await send({ chat_id: peer.chatId, text: '😀'.repeat(2048) });
    expect(emoji.status).toBe(200);
    const emojiTooLong = await send({ chat_id: peer.chatId, text: `${'😀'.repeat(2048)}a` });
    expect(emojiTooLong.data.description).toBe('Bad Request: message is too long');

    const literal = await send({ chat_id: peer.chatId, text: '<script>&nbsp;' });
    expect(literal.status).toBe(200);
    expect(peer.messages[1]!.visibleText).toBe('<script>&nbsp;');
    expect(peer.messages[1]!.parseMode).toBeUndefined();

    const plainTooLong = await send({ chat_id: peer.chatId, text: 'y'.repeat(4097) });
    expect(plainTooLong.status).toBe(400);
    expect(plainTooLong.data.description).toBe('Bad Request: message is too long');
  });

  it('rejects empty text, including text that is empty after parsing', async () => {
    const missing = await send({ chat_id: peer.chatId });
    expect(missing.status).toBe(400);
    expect(missing.data.description).toBe('Bad Request: message text is empty');
    const empty = await sendHtml('<b> </b>');
    expect(empty.status).toBe(400);
    expect(empty.data.description).toBe('Bad Request: message text is empty');
  });

  it('answers "chat not found" for an unknown chat', async () => {
    const res = await send({ chat_id: -1009999999999, text: 'hi' });
    expect(res.status).toBe(400);
    expect(res.data).toEqual({ ok: false, error_code: 400, description: 'Bad Request: chat not found' });
  });

  it('accepts a numeric chat_id in JSON', async () => {
    const res = await send({ chat_id: Number(peer.chatId), text: 'hi' });
    expect(res.status).toBe(200);
    expect(peer.messages[0]!.chatId).toBe(peer.chatId);
  });

  it('answers 429 with retry_after for scripted flood control, then delivers', async () => {
    peer.failWith429(2, 7);
    const first = await sendHtml('hello');
    const second = await sendHtml('hello');
    expect(first.status).toBe(429);
    expect(first.data).toEqual({
      ok: false,
      error_code: 429,
      description: 'Too Many Requests: retry after 7',
      parameters: { retry_after: 7 },
    });
    expect(second.status).toBe(429);
    const third = await sendHtml('hello');
    expect(third.status).toBe(200);
    expect(peer.requests).toHaveLength(3);
    expect(peer.messages).toHaveLength(1);
  });

  it('plays scripted replies in order, with delays and dropped connections', async () => {
    peer.script(
      { status: 500, body: { ok: false, error_code: 500, description: 'Internal Server Error' } },
      { status: 200, body: 'not json', delayMs: 150 },
      { status: 200, body: {}, dropConnection: true },
    );
    const a = await sendHtml('x');
    expect(a.status).toBe(500);
    const started = Date.now();
    const b = await sendHtml('x');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(b.data).toBe('not json');
    await expect(sendHtml('x')).rejects.toMatchObject({ code: expect.stringMatching(/ECONNRESET|ERR_BAD_RESPONSE|ECONNABORTED/) });
    const d = await sendHtml('x');
    expect(d.status).toBe(200);
    expect(peer.requests).toHaveLength(4);
  });

  it('answers 401 for a wrong token and 404 for an unknown method or path', async () => {
    const wrong = await send({ chat_id: peer.chatId, text: 'x' }, '123456:WRONG');
    expect(wrong.status).toBe(401);
    expect(wrong.data).toEqual({ ok: false, error_code: 401, description: 'Unauthorized' });

    const unknownMethod = await http.post<TelegramReply>(`${peer.apiUrl}/bot${peer.token}/sendPigeon`, {});
    expect(unknownMethod.status).toBe(404);
    expect(unknownMethod.data).toEqual({ ok: false, error_code: 404, description: 'Not Found' });

    const noBot = await http.get<TelegramReply>(`${peer.apiUrl}/whatever`);
    expect(noBot.status).toBe(404);
    expect(peer.requests).toHaveLength(3);
    expect(peer.messages).toHaveLength(0);
  });

  it('accepts application/x-www-form-urlencoded bodies', async () => {
    const form = new URLSearchParams({ chat_id: peer.chatId, text: '<b>Форма</b> &amp; ok', parse_mode: 'HTML' });
    const res = await http.post<TelegramReply>(`${peer.apiUrl}/bot${peer.token}/sendMessage`, form.toString(), {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(200);
    expect(res.data.result!.text).toBe('Форма & ok');
    expect(peer.requests[0]!.body).toMatchObject({ chat_id: peer.chatId, parse_mode: 'HTML' });
  });

  it('does not crash on malformed JSON or odd bodies', async () => {
    const res = await http.post<TelegramReply>(`${peer.apiUrl}/bot${peer.token}/sendMessage`, '{"chat_id":', {
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(res.data.ok).toBe(false);
    const arr = await http.post<TelegramReply>(`${peer.apiUrl}/bot${peer.token}/sendMessage`, [1, 2]);
    expect(arr.status).toBe(400);
    const obj = await send({ chat_id: { nested: true }, text: { also: 'nested' } });
    expect(obj.status).toBe(400);
    const ok = await sendHtml('still alive');
    expect(ok.status).toBe(200);
  });

  it('accepts multipart/form-data bodies', async () => {
    const form = new FormData();
    form.append('chat_id', peer.chatId);
    form.append('text', '<i>Многочастный</i> ok');
    form.append('parse_mode', 'HTML');
    const res = await http.post<TelegramReply>(`${peer.apiUrl}/bot${peer.token}/sendMessage`, form);
    expect(res.status).toBe(200);
    expect(res.data.result!.text).toBe('Многочастный ok');
  });

  it('survives garbage on the socket', async () => {
    await new Promise<void>((resolve) => {
      const socket = connect(Number(new URL(peer.apiUrl).port), '127.0.0.1', () => {
        socket.end('\x00\x01 NOT HTTP AT ALL\r\n\r\n');
      });
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
      socket.resume();
    });
    const ok = await sendHtml('still alive');
    expect(ok.status).toBe(200);
  });

  it('rejects unsupported parse modes', async () => {
    const res = await send({ chat_id: peer.chatId, text: 'x', parse_mode: 'Klingon' });
    expect(res.status).toBe(400);
    expect(res.data.description).toBe('Bad Request: unsupported parse_mode');
  });

  it('answers getMe', async () => {
    const res = await http.get<{ ok: boolean; result: { is_bot: boolean; id: number } }>(`${peer.apiUrl}/bot${peer.token}/getMe`);
    expect(res.status).toBe(200);
    expect(res.data.result).toMatchObject({ is_bot: true, id: 123456 });
  });
});

describe('TelegramPeer options and lifecycle', () => {
  it('honours custom token and chat ids, and close() ends open sockets', async () => {
    const peer = await TelegramPeer.start({ token: '42:abc', chatIds: ['-1001', '@ops_channel'] });
    expect(peer.chatId).toBe('-1001');
    const res = await axios.post<TelegramReply>(`${peer.apiUrl}/bot42:abc/sendMessage`, {
      chat_id: '@ops_channel',
      text: 'hi',
    });
    expect(res.data.result!.chat.id).toBe('@ops_channel');
    peer.script({ status: 200, body: {}, delayMs: 10_000 });
    const pending = axios.post(`${peer.apiUrl}/bot42:abc/sendMessage`, { chat_id: '-1001', text: 'x' }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await peer.close();
    expect(Date.now() - started).toBeLessThan(2000);
    await pending;
    await peer.close(); // idempotent
  });
});

describe('parseTelegramHtml', () => {
  it('handles tg-emoji and attribute forms', () => {
    expect(parseTelegramHtml('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>')).toEqual({ ok: true, text: '👍' });
    expect(parseTelegramHtml('<tg-emoji>👍</tg-emoji>').ok).toBe(false);
    expect(parseTelegramHtml("<a href='https://x.test'>x</a>")).toEqual({ ok: true, text: 'x' });
    expect(parseTelegramHtml('<B>x</B>')).toEqual({ ok: true, text: 'x' });
    expect(parseTelegramHtml('<b>x</>')).toEqual({ ok: true, text: 'x' });
    expect(parseTelegramHtml('<br/>')).toMatchObject({ ok: false, error: 'Unsupported start tag "br/" at byte offset 0' });
    expect(parseTelegramHtml('<b')).toMatchObject({ ok: false, error: 'Unclosed start tag at byte offset 0' });
    expect(parseTelegramHtml('<a href="x>')).toMatchObject({ ok: false });
    expect(parseTelegramHtml('<b>x</b')).toMatchObject({ ok: false, error: 'Unclosed end tag at byte offset 4' });
  });
});
