/**
 * A local stand-in for api.telegram.org used by e2e tests.
 *
 * It speaks the Bot API `sendMessage` method (plus `getMe`) over real HTTP on
 * 127.0.0.1, validates requests the way the public docs describe
 * (core.telegram.org/bots/api#sendmessage, "Formatting options") and records
 * every call. The HTML check is deliberately a little stricter than the real
 * server: every `<`, `>` and `&` outside a tag or a supported entity must be
 * escaped, as the docs require (the real server silently tolerates a stray `>`
 * or `&`). That way a missing escape in our code fails the test instead of
 * slipping through.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, type Socket } from 'node:net';

export interface TelegramScriptedReply {
  status: number;
  /** JSON-serialised unless it is a string, which is sent verbatim (lets tests send malformed JSON). */
  body: unknown;
  delayMs?: number;
  /** Destroy the socket (after delayMs, if given) without answering. */
  dropConnection?: boolean;
}

export interface SentTelegramMessage {
  chatId: string;
  /** The `text` parameter exactly as sent (with tags/entities when parse_mode is HTML). */
  text: string;
  parseMode?: string;
  /** What a Telegram user would see: tags removed, entities decoded, surrounding whitespace trimmed. */
  visibleText: string;
  messageId: number;
  /** All request parameters (query string + body). */
  raw: Record<string, unknown>;
}

export interface TelegramRequestRecord {
  /** URL path, e.g. `/bot123456:TEST-token_abc/sendMessage` */
  path: string;
  /** Parsed parameters (object) or, when the body could not be parsed, the raw body string. */
  body: unknown;
  /** Date.now() when the request arrived */
  at: number;
}

export interface TelegramPeerOptions {
  token?: string;
  chatIds?: string[];
}

const DEFAULT_TOKEN = '123456:TEST-token_abc';
const DEFAULT_CHAT_IDS = ['-1001234567890'];
const MAX_TEXT_LENGTH = 4096;
const MAX_BODY_BYTES = 10 * 1024 * 1024;

// ---------------------------------------------------------------------------
// Telegram-flavoured HTML parsing (modelled on tdlib's parse_html, strict on escaping)
// ---------------------------------------------------------------------------

const SUPPORTED_TAGS = new Set([
  'a',
  'b',
  'strong',
  'i',
  'em',
  'u',
  'ins',
  's',
  'strike',
  'del',
  'span',
  'tg-spoiler',
  'tg-emoji',
  'tg-time',
  'code',
  'pre',
  'blockquote',
]);

const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

export type TelegramHtmlParseResult = { ok: true; text: string } | { ok: false; error: string };

type EntityResult = { ok: true; value: string; end: number } | { ok: false; error: string };

const isSpace = (ch: string | undefined): boolean =>
  ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f' || ch === '\v';

/**
 * Parses `text` as Telegram HTML. Returns the visible text (untrimmed) or the error
 * description that follows "Bad Request: can't parse entities: ".
 * Byte offsets in errors are UTF-8 offsets into the original text, as Telegram reports them.
 */
export function parseTelegramHtml(src: string): TelegramHtmlParseResult {
  const n = src.length;
  const byteOffset = (index: number): number => Buffer.byteLength(src.slice(0, index), 'utf8');
  const fail = (error: string): TelegramHtmlParseResult => ({ ok: false, error });

  const decodeEntity = (start: number): EntityResult => {
    // src[start] === '&'
    let j = start + 1;
    if (src[j] === '#') {
      j++;
      const hex = src[j] === 'x' || src[j] === 'X';
      if (hex) j++;
      const digitsStart = j;
      const digit = hex ? /[0-9a-fA-F]/ : /[0-9]/;
      while (j < n && digit.test(src[j]!)) j++;
      if (j === digitsStart || src[j] !== ';') {
        return { ok: false, error: `Can't find end of the entity starting at byte offset ${byteOffset(start)}` };
      }
      const digits = src.slice(digitsStart, j);
      const code = digits.length > 8 ? Number.NaN : Number.parseInt(digits, hex ? 16 : 10);
      if (!Number.isFinite(code) || code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
        return {
          ok: false,
          error: `Unknown entity "${src.slice(start, j + 1)}" at byte offset ${byteOffset(start)}`,
        };
      }
      return { ok: true, value: String.fromCodePoint(code), end: j + 1 };
    }
    while (j < n && /[A-Za-z0-9]/.test(src[j]!)) j++;
    if (j === start + 1 || src[j] !== ';') {
      return { ok: false, error: `Can't find end of the entity starting at byte offset ${byteOffset(start)}` };
    }
    const name = src.slice(start + 1, j);
    const value = Object.prototype.hasOwnProperty.call(NAMED_ENTITIES, name) ? NAMED_ENTITIES[name] : undefined;
    if (value === undefined) {
      return { ok: false, error: `Unknown entity "&${name};" at byte offset ${byteOffset(start)}` };
    }
    return { ok: true, value, end: j + 1 };
  };

  const stack: Array<{ name: string; begin: number }> = [];
  let out = '';
  let i = 0;

  while (i < n) {
    const c = src[i]!;
    if (c === '&') {
      const entity = decodeEntity(i);
      if (!entity.ok) return fail(entity.error);
      out += entity.value;
      i = entity.end;
      continue;
    }
    if (c === '>') {
      return fail(`Character ">" is reserved and must be escaped as "&gt;" at byte offset ${byteOffset(i)}`);
    }
    if (c !== '<') {
      out += c;
      i++;
      continue;
    }

    const begin = i;
    i++;
    if (src[i] !== '/') {
      // ---- start tag ----
      let j = i;
      while (j < n && !isSpace(src[j]) && src[j] !== '>') j++;
      if (j >= n) return fail(`Unclosed start tag at byte offset ${byteOffset(begin)}`);
      const name = src.slice(i, j).toLowerCase();
      if (!SUPPORTED_TAGS.has(name)) {
        return fail(`Unsupported start tag "${name}" at byte offset ${byteOffset(begin)}`);
      }
      i = j;
      const attributes = new Map<string, string>();
      const unclosed = (): TelegramHtmlParseResult =>
        fail(`Unclosed start tag "${name}" at byte offset ${byteOffset(begin)}`);
      for (;;) {
        while (i < n && isSpace(src[i])) i++;
        if (i >= n) return unclosed();
        if (src[i] === '>') {
          i++;
          break;
        }
        const attributeBegin = i;
        while (i < n && !isSpace(src[i]) && src[i] !== '=' && src[i] !== '>') i++;
        const attributeName = src.slice(attributeBegin, i).toLowerCase();
        if (attributeName === '') {
          return fail(`Empty attribute name in the tag "${name}" at byte offset ${byteOffset(begin)}`);
        }
        while (i < n && isSpace(src[i])) i++;
        if (i >= n) return unclosed();
        if (src[i] !== '=') {
          if (name === 'blockquote' && attributeName === 'expandable') {
            attributes.set(attributeName, '');
            continue;
          }
          return fail(
            `Expected equal sign in declaration of an attribute of the tag "${name}" at byte offset ${byteOffset(begin)}`,
          );
        }
        i++;
        while (i < n && isSpace(src[i])) i++;
        if (i >= n) return unclosed();
        let value = '';
        const quote = src[i];
        if (quote !== '"' && quote !== "'") {
          const tokenBegin = i;
          while (i < n && /[A-Za-z0-9.-]/.test(src[i]!)) i++;
          if (i >= n) return unclosed();
          if (!isSpace(src[i]) && src[i] !== '>') {
            return fail(`Unexpected end of name token at byte offset ${byteOffset(tokenBegin)}`);
          }
          value = src.slice(tokenBegin, i).toLowerCase();
        } else {
          i++;
          while (i < n && src[i] !== quote) {
            if (src[i] === '&') {
              const entity = decodeEntity(i);
              if (!entity.ok) return fail(entity.error);
              value += entity.value;
              i = entity.end;
              continue;
            }
            value += src[i];
            i++;
          }
          if (i >= n) return unclosed();
          i++;
        }
        if (!attributes.has(attributeName)) attributes.set(attributeName, value);
      }

      if (name === 'span' && attributes.get('class') !== 'tg-spoiler') {
        return fail(`Tag "span" must have class "tg-spoiler" at byte offset ${byteOffset(begin)}`);
      }
      if (name === 'tg-emoji' && !/^[1-9][0-9]{0,18}$/.test(attributes.get('emoji-id') ?? '')) {
        return fail('Invalid custom emoji identifier specified');
      }
      stack.push({ name, begin });
    } else {
      // ---- end tag ----
      if (stack.length === 0) return fail(`Unexpected end tag at byte offset ${byteOffset(begin)}`);
      i++; // skip '/'
      let j = i;
      while (j < n && !isSpace(src[j]) && src[j] !== '>') j++;
      const endName = src.slice(i, j).toLowerCase();
      while (j < n && isSpace(src[j])) j++;
      if (j >= n || src[j] !== '>') return fail(`Unclosed end tag at byte offset ${byteOffset(begin)}`);
      const open = stack.pop()!;
      if (endName !== '' && endName !== open.name) {
        return fail(
          `Unmatched end tag at byte offset ${byteOffset(begin)}, expected "</${open.name}>", found "</${endName}>"`,
        );
      }
      i = j + 1;
    }
  }

  if (stack.length > 0) {
    return fail(`Can't find end tag corresponding to start tag "${stack[stack.length - 1]!.name}"`);
  }
  return { ok: true, text: out };
}

/** Telegram drops leading and trailing whitespace of a message text. */
const trimTelegram = (text: string): string => text.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');

// ---------------------------------------------------------------------------
// Request body parsing
// ---------------------------------------------------------------------------

type ParsedBody = { ok: true; params: Record<string, unknown> } | { ok: false; raw: string };

function parseMultipart(raw: Buffer, contentType: string): Record<string, unknown> | undefined {
  const match = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary) return undefined;
  const params: Record<string, unknown> = {};
  const text = raw.toString('latin1'); // byte-preserving; re-decoded as UTF-8 per part
  for (const part of text.split(`--${boundary.trim()}`)) {
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd < 0) continue;
    const headers = part.slice(0, headerEnd);
    const name = /name="([^"]*)"/i.exec(headers)?.[1];
    if (name === undefined) continue;
    let value = part.slice(headerEnd + 4);
    if (value.endsWith('\r\n')) value = value.slice(0, -2);
    params[name] = Buffer.from(value, 'latin1').toString('utf8');
  }
  return params;
}

function parseBody(raw: Buffer, contentTypeHeader: string | undefined, query: URLSearchParams): ParsedBody {
  const params: Record<string, unknown> = {};
  for (const [key, value] of query) params[key] = value;
  if (raw.length === 0) return { ok: true, params };
  const contentType = (contentTypeHeader ?? '').toLowerCase();
  const mime = contentType.split(';')[0]!.trim();
  if (mime === 'application/json') {
    try {
      const parsed: unknown = JSON.parse(raw.toString('utf8'));
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        return { ok: false, raw: raw.toString('utf8') };
      }
      return { ok: true, params: { ...params, ...(parsed as Record<string, unknown>) } };
    } catch {
      return { ok: false, raw: raw.toString('utf8') };
    }
  }
  if (mime === 'multipart/form-data') {
    const multipart = parseMultipart(raw, contentTypeHeader ?? '');
    if (!multipart) return { ok: false, raw: raw.toString('utf8') };
    return { ok: true, params: { ...params, ...multipart } };
  }
  // application/x-www-form-urlencoded (and, leniently, a body without a content type)
  for (const [key, value] of new URLSearchParams(raw.toString('utf8'))) params[key] = value;
  return { ok: true, params };
}

/** Bot API parameters arrive as strings (form) or JSON scalars; objects are not valid for scalar params. */
function scalarParam(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return undefined;
}

const badRequest = (description: string) => ({ ok: false, error_code: 400, description: `Bad Request: ${description}` });

// ---------------------------------------------------------------------------
// The peer
// ---------------------------------------------------------------------------

export class TelegramPeer {
  readonly apiUrl: string;
  readonly token: string;
  /** The first configured chat id (the default target of tests). */
  readonly chatId: string;
  /** All chat ids the bot "knows"; sendMessage to any other id answers "chat not found". */
  readonly chatIds: readonly string[];
  /** Successfully delivered messages, in order. */
  readonly messages: SentTelegramMessage[] = [];
  /** Every call, including rejected and scripted ones. */
  readonly requests: TelegramRequestRecord[] = [];

  private readonly server: Server;
  private readonly scripted: TelegramScriptedReply[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private nextMessageId = 1;
  private closing: Promise<void> | undefined;

  private constructor(server: Server, port: number, token: string, chatIds: string[]) {
    this.server = server;
    this.token = token;
    this.chatIds = [...chatIds];
    this.chatId = chatIds[0]!;
    this.apiUrl = `http://127.0.0.1:${port}`;
  }

  static async start(options: TelegramPeerOptions = {}): Promise<TelegramPeer> {
    const token = options.token ?? DEFAULT_TOKEN;
    const chatIds = options.chatIds && options.chatIds.length > 0 ? options.chatIds : DEFAULT_CHAT_IDS;
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const port = (server.address() as AddressInfo).port;
    const peer = new TelegramPeer(server, port, token, chatIds);
    peer.attach();
    return peer;
  }

  /** URL the bot should call for `method`, e.g. `peer.methodUrl('sendMessage')`. */
  methodUrl(method: string): string {
    return `${this.apiUrl}/bot${this.token}/${method}`;
  }

  /** The next calls (any path) get these answers, first in first out, before normal processing. */
  script(...replies: TelegramScriptedReply[]): void {
    this.scripted.push(...replies);
  }

  /** The next `times` calls answer 429 with `parameters.retry_after = retryAfterSeconds`. */
  failWith429(times: number, retryAfterSeconds: number): void {
    for (let k = 0; k < times; k++) {
      this.scripted.push({
        status: 429,
        body: {
          ok: false,
          error_code: 429,
          description: `Too Many Requests: retry after ${retryAfterSeconds}`,
          parameters: { retry_after: retryAfterSeconds },
        },
      });
    }
  }

  /** Messages delivered to one chat. */
  messagesTo(chatId: string): SentTelegramMessage[] {
    return this.messages.filter((m) => m.chatId === chatId);
  }

  /** Clears recorded messages/requests and pending scripted replies. Message ids keep increasing. */
  reset(): void {
    this.messages.length = 0;
    this.requests.length = 0;
    this.scripted.length = 0;
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      for (const sleeper of this.sleepers) {
        clearTimeout(sleeper.timer);
        sleeper.resolve();
      }
      this.sleepers.clear();
      this.server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
      this.sockets.clear();
    });
    return this.closing;
  }

  // -------------------------------------------------------------------------

  private attach(): void {
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
    });
    this.server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch(() => {
        this.reply(res, 500, { ok: false, error_code: 500, description: 'Internal Server Error' });
      });
    });
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.closing) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const sleeper = {
        resolve,
        timer: setTimeout(() => {
          this.sleepers.delete(sleeper);
          resolve();
        }, ms),
      };
      this.sleepers.add(sleeper);
    });
  }

  private readBody(req: IncomingMessage): Promise<{ body: Buffer; tooLarge: boolean }> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let tooLarge = false;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) tooLarge = true;
        else chunks.push(chunk);
      });
      req.on('end', () => resolve({ body: Buffer.concat(chunks), tooLarge }));
      req.on('error', () => resolve({ body: Buffer.concat(chunks), tooLarge }));
      req.on('close', () => resolve({ body: Buffer.concat(chunks), tooLarge }));
    });
  }

  private reply(res: ServerResponse, status: number, body: unknown): void {
    if (res.headersSent || res.destroyed || res.writableEnded) return;
    const payload = typeof body === 'string' ? body : (JSON.stringify(body) ?? '');
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(payload),
    });
    res.end(payload);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const { body: rawBody, tooLarge } = await this.readBody(req);
    const parsed: ParsedBody = tooLarge
      ? { ok: false, raw: '' }
      : parseBody(rawBody, req.headers['content-type'], url.searchParams);
    this.requests.push({ path: url.pathname, body: parsed.ok ? parsed.params : parsed.raw, at: Date.now() });

    const scripted = this.scripted.shift();
    if (scripted) {
      await this.sleep(scripted.delayMs ?? 0);
      if (scripted.dropConnection) {
        req.socket.destroy();
        return;
      }
      this.reply(res, scripted.status, scripted.body);
      return;
    }

    const route = /^\/bot([^/]*)\/([^/]*)\/?$/.exec(url.pathname);
    if (!route) {
      this.reply(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
      return;
    }
    let token: string;
    try {
      token = decodeURIComponent(route[1]!);
    } catch {
      token = route[1]!;
    }
    if (token !== this.token) {
      this.reply(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
      return;
    }
    if (tooLarge) {
      this.reply(res, 413, { ok: false, error_code: 413, description: 'Request Entity Too Large' });
      return;
    }
    const method = route[2]!.toLowerCase();
    if (method !== 'sendmessage' && method !== 'getme') {
      this.reply(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
      return;
    }
    if (!parsed.ok) {
      this.reply(res, 400, badRequest("can't parse JSON object"));
      return;
    }
    if (method === 'getme') {
      this.reply(res, 200, { ok: true, result: this.botUser() });
      return;
    }
    const [status, body] = this.sendMessage(parsed.params);
    this.reply(res, status, body);
  }

  private botUser() {
    const id = Number.parseInt(this.token.split(':')[0] ?? '', 10);
    return {
      id: Number.isFinite(id) ? id : 1,
      is_bot: true,
      first_name: 'Test Support Bot',
      username: 'test_support_bot',
    };
  }

  private sendMessage(params: Record<string, unknown>): [number, unknown] {
    const text = scalarParam(params.text) ?? '';
    if (text === '') return [400, badRequest('message text is empty')];

    const parseMode = scalarParam(params.parse_mode) ?? '';
    let visible: string;
    if (parseMode === '') {
      visible = text;
    } else if (parseMode.toLowerCase() === 'html') {
      const result = parseTelegramHtml(text);
      if (!result.ok) return [400, badRequest(`can't parse entities: ${result.error}`)];
      visible = result.text;
    } else {
      // Markdown / MarkdownV2 are real Telegram modes, but this peer only verifies HTML.
      return [400, badRequest('unsupported parse_mode')];
    }

    const chatId = scalarParam(params.chat_id) ?? '';
    if (chatId === '') return [400, badRequest('chat_id is empty')];
    if (!this.chatIds.includes(chatId)) return [400, badRequest('chat not found')];

    visible = trimTelegram(visible);
    if (visible.length === 0) return [400, badRequest('message text is empty')];
    if (visible.length > MAX_TEXT_LENGTH) return [400, badRequest('message is too long')];

    const messageId = this.nextMessageId++;
    this.messages.push({
      chatId,
      text,
      ...(parseMode !== '' ? { parseMode } : {}),
      visibleText: visible,
      messageId,
      raw: { ...params },
    });
    const numericChat = /^-?\d+$/.test(chatId) ? Number(chatId) : chatId;
    return [
      200,
      {
        ok: true,
        result: {
          message_id: messageId,
          from: this.botUser(),
          date: Math.floor(Date.now() / 1000),
          chat: { id: numericChat, type: 'supergroup', title: 'Support operators' },
          text: visible,
        },
      },
    ];
  }
}

