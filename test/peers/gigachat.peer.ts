/**
 * A local stand-in for the GigaChat (Sber) REST API, used by e2e tests and benchmarks.
 *
 * It speaks the protocol described in /work/shared/reference/gigachat-api.md (§2 OAuth, §3 conventions,
 * §4 chat completions, §5 errors and limits): the same paths, the same error bodies (`{code, message}` for
 * OAuth, `{status, message}` for /api/v1), tokens with a millisecond `expires_at`, the per-scope concurrency
 * limit (1 stream for PERS, 10 for B2B/CORP) and the schema restrictions on `functions`.
 *
 * Answers of POST /chat/completions come, in order of precedence, from the FIFO `script(...)` queue, then
 * from the `responder` option / `setResponder`, then from the built-in default (a forced function is called
 * with `{}` arguments, otherwise the content is "OK").
 *
 * Where the reference leaves something open, the peer picks one plausible behaviour (marked "[CHOICE]").
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, type Socket } from 'node:net';

// ---------------------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------------------

/** One scripted answer of POST /chat/completions. */
export interface PeerReply {
  /** HTTP status, default 200. A non-200 status without `body` answers `{"status":N,"message":<standard text>}`. */
  status?: number;
  /** Full body sent as-is (objects are JSON-encoded, strings are sent raw); overrides everything below. */
  body?: unknown;
  /**
   * Answer with `choices[0].message.function_call = {name, arguments: this}` and finish_reason "function_call".
   * The name is `functionName`, else the forced function (`function_call: {name}`), else the first of `functions`.
   * A function is called with the request and answers the arguments (a model reading its prompt).
   */
  functionCall?: Record<string, unknown> | string | ((request: ChatRequestBody) => Record<string, unknown> | string);
  /** Name for `functionCall` when no function is forced (e.g. `function_call: "auto"`). */
  functionName?: string;
  /** Answer with `message.content = this` and finish_reason "stop". */
  content?: string;
  /** Override finish_reason (e.g. 'length', 'blacklist', 'error'). */
  finishReason?: string;
  /** Extra response headers (e.g. Retry-After). */
  headers?: Record<string, string>;
  /** Wait before answering (simulates model latency); defaults to the peer's latency. */
  delayMs?: number;
  /** Destroy the socket without answering (connection reset), after the delay. */
  dropConnection?: boolean;
}

export interface RecordedRequest {
  /** 'other' = any request that is neither OAuth nor chat (unknown paths, GET /models, ...). */
  kind: 'oauth' | 'chat' | 'other';
  method: string;
  /** Path including the query string, as received. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed body: JSON for chat, an object of form fields for OAuth; undefined when it could not be parsed. */
  body: unknown;
  rawBody: string;
  /** Date.now() when the request arrived. */
  receivedAt: number;
}

export type GigaChatScope = 'GIGACHAT_API_PERS' | 'GIGACHAT_API_B2B' | 'GIGACHAT_API_CORP';

export interface ChatFunctionCall {
  name: string;
  arguments: Record<string, unknown> | string;
}

export interface ChatMessage {
  role: string;
  content?: string;
  function_call?: ChatFunctionCall;
  functions_state_id?: string;
  name?: string;
  attachments?: string[];
  [key: string]: unknown;
}

export interface ChatFunction {
  name: string;
  description?: string;
  parameters: Record<string, unknown>;
  few_shot_examples?: { request: string; params: Record<string, unknown> }[];
  return_parameters?: Record<string, unknown>;
  [key: string]: unknown;
}

/** The (already validated) body of POST /chat/completions, as handed to a responder. */
export interface ChatRequestBody {
  model: string;
  messages: ChatMessage[];
  temperature?: number;
  top_p?: number;
  n?: number;
  stream?: boolean;
  max_tokens?: number;
  repetition_penalty?: number;
  update_interval?: number;
  function_call?: 'none' | 'auto' | { name: string; partial_arguments?: Record<string, unknown> };
  functions?: ChatFunction[];
  profanity_check?: boolean;
  flags?: string[];
  [key: string]: unknown;
}

export type PeerResponder = (request: ChatRequestBody) => PeerReply | Promise<PeerReply>;

export interface GigaChatPeerOptions {
  /** Together with clientSecret, forms the valid authorization key base64(clientId:clientSecret). Random by default. */
  clientId?: string;
  clientSecret?: string;
  /** The scope the key is registered for (default GIGACHAT_API_PERS). */
  scope?: GigaChatScope;
  /** Lifetime of issued tokens, default 30 minutes. */
  tokenTtlMs?: number;
  /** Default delay of every chat answer (default 0). */
  latencyMs?: number;
  /** Concurrent chat requests allowed; default 1 for PERS, 10 for B2B/CORP. Beyond it → 429. */
  maxInFlight?: number;
  /** Default answer when nothing is scripted. */
  responder?: PeerResponder;
}

export interface GigaChatPeerStats {
  /** Every POST /api/v2/oauth received, successful or not. */
  oauthCalls: number;
  /** Every request to /api/v1/chat/completions received, whatever its outcome. */
  chatCalls: number;
  /** Highest number of chat requests admitted (past validation and the concurrency check) at the same time. */
  maxInFlight: number;
  /** Chat requests answered 429 because maxInFlight was reached. */
  rejectedForConcurrency: number;
}

// ---------------------------------------------------------------------------------------------------------
// Protocol constants
// ---------------------------------------------------------------------------------------------------------

const OAUTH_PATH = '/api/v2/oauth';
const API_PREFIX = '/api/v1';
const CHAT_PATH = `${API_PREFIX}/chat/completions`;
const MODELS_PATH = `${API_PREFIX}/models`;
const MODEL_VERSION = '2.0.28.2';
const MAX_BODY_BYTES = 10 * 1024 * 1024;
const DEFAULT_TOKEN_TTL_MS = 30 * 60 * 1000;

const KNOWN_MODELS = ['GigaChat', 'GigaChat-Pro', 'GigaChat-Max', 'GigaChat-2', 'GigaChat-2-Pro', 'GigaChat-2-Max'];
const MESSAGE_ROLES = new Set(['system', 'user', 'assistant', 'function', 'search_result', 'function_in_progress']);
const FORBIDDEN_SCHEMA_KEYWORDS = ['$ref', 'anyOf', 'oneOf', 'allOf'];
const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$/;
const FUNCTION_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Standard `message` texts of /api/v1 error bodies, by status (reference §5.1). */
const API_ERROR_MESSAGES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Permission denied',
  404: 'Not Found',
  413: 'Payload too large',
  422: 'Invalid params',
  429: 'Too many requests',
  500: 'Internal Server Error',
};

const isModelKnown = (model: string): boolean => KNOWN_MODELS.includes(model) || model.endsWith('-preview');

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const estimateTokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4));

/** A validation failure of /api/v1 that ends in `{"status": status, "message": message}`. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const invalidParams = (detail: string): ApiError => new ApiError(422, `Invalid params: ${detail}`);

interface IssuedToken {
  expiresAt: number;
}

interface PendingDelay {
  timer: NodeJS.Timeout;
  resolve: () => void;
}

// ---------------------------------------------------------------------------------------------------------
// The peer
// ---------------------------------------------------------------------------------------------------------

export class GigaChatPeer {
  readonly authKey: string;
  readonly authUrl: string;
  readonly apiUrl: string;
  /** The base URL of the server, e.g. http://127.0.0.1:PORT */
  readonly baseUrl: string;
  readonly scope: GigaChatScope;
  readonly requests: RecordedRequest[] = [];
  readonly stats: GigaChatPeerStats = { oauthCalls: 0, chatCalls: 0, maxInFlight: 0, rejectedForConcurrency: 0 };

  private readonly queue: PeerReply[] = [];
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly pendingDelays = new Set<PendingDelay>();
  private readonly tokenTtlMs: number;
  private readonly maxInFlightAllowed: number;
  private responder: PeerResponder | undefined;
  private latencyMs: number;
  private inFlight = 0;
  private closed = false;

  private constructor(
    private readonly server: Server,
    port: number,
    options: GigaChatPeerOptions,
  ) {
    const clientId = options.clientId ?? randomUUID();
    const clientSecret = options.clientSecret ?? randomUUID();
    this.authKey = Buffer.from(`${clientId}:${clientSecret}`, 'utf8').toString('base64');
    this.scope = options.scope ?? 'GIGACHAT_API_PERS';
    this.tokenTtlMs = options.tokenTtlMs ?? DEFAULT_TOKEN_TTL_MS;
    this.latencyMs = options.latencyMs ?? 0;
    this.maxInFlightAllowed = options.maxInFlight ?? (this.scope === 'GIGACHAT_API_PERS' ? 1 : 10);
    this.responder = options.responder;
    this.baseUrl = `http://127.0.0.1:${port}`;
    this.authUrl = `${this.baseUrl}${OAUTH_PATH}`;
    this.apiUrl = `${this.baseUrl}${API_PREFIX}`;
  }

  /** Starts a peer on 127.0.0.1 with a random port. */
  static async start(options: GigaChatPeerOptions = {}): Promise<GigaChatPeer> {
    const holder: { peer?: GigaChatPeer } = {};
    const server = createServer((req, res) => {
      if (holder.peer) holder.peer.handle(req, res);
      else res.destroy();
    });
    server.on('clientError', (_err: Error, socket: Socket) => {
      if (socket.writable) {
        const body = JSON.stringify({ status: 400, message: 'Bad Request' });
        socket.end(
          `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
      } else {
        socket.destroy();
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    holder.peer = new GigaChatPeer(server, (server.address() as AddressInfo).port, options);
    return holder.peer;
  }

  /** Queues answers for the next chat calls (FIFO); they take precedence over the responder. */
  script(...replies: PeerReply[]): void {
    this.queue.push(...replies);
  }

  /** Number of scripted answers not yet consumed. */
  get pendingScript(): number {
    return this.queue.length;
  }

  /** Every token issued so far now answers 401 "Token has expired"; tokens issued later are fine. */
  expireAllTokens(): void {
    for (const token of this.tokens.values()) token.expiresAt = 0;
  }

  /** Replaces the default answer (undefined restores the built-in one). */
  setResponder(fn: PeerResponder | undefined): void {
    this.responder = fn;
  }

  /** Default delay of every chat answer. */
  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  /** Recorded chat requests' bodies, in order (a convenience over `requests`). */
  get chatBodies(): ChatRequestBody[] {
    return this.requests.filter((r) => r.kind === 'chat').map((r) => r.body as ChatRequestBody);
  }

  /** Clears the script, the recorded requests and the stats; issued tokens stay valid. */
  reset(): void {
    this.queue.length = 0;
    this.requests.length = 0;
    this.stats.oauthCalls = 0;
    this.stats.chatCalls = 0;
    this.stats.maxInFlight = 0;
    this.stats.rejectedForConcurrency = 0;
  }

  /** Stops listening, cuts every open connection and cancels pending delays. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const pending of this.pendingDelays) {
      clearTimeout(pending.timer);
      pending.resolve();
    }
    this.pendingDelays.clear();
    const closing = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closing;
  }

  // -------------------------------------------------------------------------------------------------------
  // Request handling
  // -------------------------------------------------------------------------------------------------------

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const receivedAt = Date.now();
    res.on('error', () => undefined);
    req.on('error', () => undefined);
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        tooLarge = true;
        chunks.length = 0;
      } else {
        chunks.push(chunk);
      }
    });
    req.on('end', () => {
      const rawBody = tooLarge ? '' : Buffer.concat(chunks).toString('utf8');
      this.route(req, res, rawBody, tooLarge, receivedAt).catch((err: unknown) => {
        this.sendApiError(res, 500, API_ERROR_MESSAGES[500]!, {
          ...this.xHeaders(req),
          'x-peer-error': err instanceof Error ? err.message.slice(0, 200).replace(/[^\x20-\x7e]/g, '?') : 'error',
        });
      });
    });
  }

  private async route(
    req: IncomingMessage,
    res: ServerResponse,
    rawBody: string,
    tooLarge: boolean,
    receivedAt: number,
  ): Promise<void> {
    const url = req.url ?? '/';
    const path = url.split('?')[0]!;
    const method = req.method ?? 'GET';

    if (path === OAUTH_PATH) {
      this.stats.oauthCalls++;
      const form = Object.fromEntries(new URLSearchParams(rawBody));
      this.record('oauth', req, rawBody, form, receivedAt);
      if (method !== 'POST') return this.sendJson(res, 405, { code: 405, message: 'Method Not Allowed' });
      if (tooLarge) return this.sendJson(res, 413, { code: 413, message: 'Payload too large' });
      return this.handleOAuth(req, res, rawBody);
    }

    const xHeaders = this.xHeaders(req);

    if (path === CHAT_PATH) {
      this.stats.chatCalls++;
      let parsed: unknown;
      let parseOk = false;
      try {
        parsed = JSON.parse(rawBody);
        parseOk = true;
      } catch {
        parsed = undefined;
      }
      this.record('chat', req, rawBody, parsed, receivedAt);
      if (method !== 'POST') return this.sendApiError(res, 405, 'Method Not Allowed', xHeaders);
      const authError = this.checkBearer(req);
      if (authError) return this.sendApiError(res, 401, authError, xHeaders);
      if (tooLarge) return this.sendApiError(res, 413, API_ERROR_MESSAGES[413]!, xHeaders);
      if (!parseOk) return this.sendApiError(res, 400, 'Your request contains invalid JSON syntax.', xHeaders);
      return this.handleChat(req, res, parsed, xHeaders);
    }

    this.record('other', req, rawBody, undefined, receivedAt);

    if (path === MODELS_PATH || path.startsWith(`${MODELS_PATH}/`)) {
      if (method !== 'GET') return this.sendApiError(res, 405, 'Method Not Allowed', xHeaders);
      const authError = this.checkBearer(req);
      if (authError) return this.sendApiError(res, 401, authError, xHeaders);
      const model = (id: string) => ({ id, object: 'model', owned_by: 'salutedevices', type: 'chat' });
      if (path === MODELS_PATH) {
        const ids = KNOWN_MODELS.flatMap((id) => [id, `${id}-preview`]).sort();
        return this.sendJson(res, 200, { object: 'list', data: ids.map(model) }, xHeaders);
      }
      const id = decodeURIComponent(path.slice(MODELS_PATH.length + 1));
      if (!isModelKnown(id)) return this.sendApiError(res, 404, 'No such model', xHeaders);
      return this.sendJson(res, 200, model(id), xHeaders);
    }

    return this.sendApiError(res, 404, API_ERROR_MESSAGES[404]!, xHeaders);
  }

  // ---- OAuth (reference §2) ----------------------------------------------------------------------------

  private handleOAuth(req: IncomingMessage, res: ServerResponse, rawBody: string): void {
    const authorization = req.headers.authorization ?? '';
    const basic = /^Basic\s+(\S+)\s*$/i.exec(authorization);
    const key = basic?.[1];
    if (!key || !BASE64.test(key) || !Buffer.from(key, 'base64').toString('utf8').includes(':')) {
      return this.sendJson(res, 401, { code: 4, message: "Can't decode 'Authorization' header" });
    }
    if (key !== this.authKey) {
      return this.sendJson(res, 401, { code: 6, message: "credentials doesn't match db data" });
    }

    const rqUid = req.headers.rquid;
    if (typeof rqUid !== 'string' || !UUID4.test(rqUid.trim())) {
      // [CHOICE] The reference documents a 400 without showing the body; code 2 is not used by any other error.
      return this.sendJson(res, 400, { code: 2, message: 'RqUID header is missing or is not a valid uuid4' });
    }

    const contentType = (req.headers['content-type'] ?? '').toLowerCase();
    if (rawBody.trim() !== '' && !contentType.startsWith('application/x-www-form-urlencoded')) {
      return this.sendJson(res, 400, { code: 1, message: 'scope data format invalid' });
    }
    const scope = new URLSearchParams(rawBody).get('scope')?.trim() ?? '';
    if (scope === '') return this.sendJson(res, 400, { code: 5, message: 'scope is empty' });
    if (scope !== this.scope) {
      return this.sendJson(res, 400, { code: 7, message: 'scope from db not fully includes consumed scope' });
    }

    const accessToken = `peer.${randomBytes(48).toString('base64url')}`;
    const expiresAt = Date.now() + this.tokenTtlMs;
    this.tokens.set(accessToken, { expiresAt });
    return this.sendJson(res, 200, { access_token: accessToken, expires_at: expiresAt });
  }

  /** Returns the 401 message for a bad bearer token, or undefined when the token is usable. */
  private checkBearer(req: IncomingMessage): string | undefined {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    const token = bearer ? this.tokens.get(bearer[1]!) : undefined;
    if (!token) return 'Unauthorized';
    if (Date.now() >= token.expiresAt) return 'Token has expired';
    return undefined;
  }

  // ---- Chat completions (reference §4, §5) -------------------------------------------------------------

  private async handleChat(
    req: IncomingMessage,
    res: ServerResponse,
    parsed: unknown,
    xHeaders: Record<string, string>,
  ): Promise<void> {
    let body: ChatRequestBody;
    try {
      body = validateChatBody(parsed);
    } catch (err) {
      if (err instanceof ApiError) return this.sendApiError(res, err.status, err.message, xHeaders);
      throw err;
    }

    if (this.inFlight >= this.maxInFlightAllowed) {
      this.stats.rejectedForConcurrency++;
      return this.sendApiError(res, 429, API_ERROR_MESSAGES[429]!, xHeaders);
    }
    this.inFlight++;
    this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.inFlight);
    try {
      const scripted = this.queue.shift();
      let reply: PeerReply;
      if (scripted) {
        const hasAnswer =
          scripted.body !== undefined || scripted.functionCall !== undefined || scripted.content !== undefined;
        const isSuccess = (scripted.status ?? 200) === 200;
        // A scripted success without an answer (e.g. only `delayMs`) takes its answer from the responder.
        const defined = Object.fromEntries(Object.entries(scripted).filter(([, v]) => v !== undefined));
        reply = hasAnswer || !isSuccess ? scripted : { ...(await this.respond(body)), ...defined };
      } else {
        reply = await this.respond(body);
      }

      await this.sleep(reply.delayMs ?? this.latencyMs);
      if (this.closed || res.destroyed) return;
      if (reply.dropConnection) {
        req.socket.destroy();
        return;
      }
      this.sendReply(res, body, reply, xHeaders);
    } finally {
      this.inFlight--;
    }
  }

  private async respond(body: ChatRequestBody): Promise<PeerReply> {
    if (this.responder) return this.responder(body);
    return defaultResponder(body);
  }

  private sendReply(res: ServerResponse, request: ChatRequestBody, reply: PeerReply, xHeaders: Record<string, string>) {
    const status = reply.status ?? 200;
    const headers = { ...xHeaders, ...(reply.headers ?? {}) };

    if (reply.body !== undefined) {
      if (typeof reply.body === 'string') return this.sendRaw(res, status, reply.body, headers);
      return this.sendJson(res, status, reply.body, headers);
    }
    if (status !== 200) {
      const message = API_ERROR_MESSAGES[status] ?? STATUS_CODES[status] ?? 'Error';
      return this.sendJson(res, status, { status, message }, headers);
    }

    const message: Record<string, unknown> = { content: '', role: 'assistant' };
    let finishReason: string;
    let completionText: string;
    if (reply.functionCall !== undefined) {
      const forced = typeof request.function_call === 'object' ? request.function_call.name : undefined;
      const name = reply.functionName ?? forced ?? request.functions?.[0]?.name ?? 'function';
      const args = typeof reply.functionCall === 'function' ? reply.functionCall(request) : reply.functionCall;
      message.function_call = { name, arguments: args };
      message.functions_state_id = randomUUID();
      finishReason = 'function_call';
      completionText = typeof args === 'string' ? args : JSON.stringify(args);
    } else {
      message.content = reply.content ?? '';
      finishReason = 'stop';
      completionText = reply.content ?? '';
    }
    finishReason = reply.finishReason ?? finishReason;

    const promptTokens = estimateTokens(
      request.messages.map((m) => (m.content ?? '') + (m.function_call ? JSON.stringify(m.function_call) : '')).join('\n') +
        (request.functions ? JSON.stringify(request.functions) : ''),
    );
    const completionTokens = estimateTokens(completionText);
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
      precached_prompt_tokens: 0,
    };
    const created = Math.floor(Date.now() / 1000);
    const model = `${request.model}:${MODEL_VERSION}`;

    if (request.stream === true) return this.sendStream(res, message, finishReason, usage, created, model, headers);

    return this.sendJson(
      res,
      200,
      {
        choices: [{ message, index: 0, finish_reason: finishReason }],
        created,
        model,
        object: 'chat.completion',
        usage,
      },
      headers,
    );
  }

  /** SSE answer shaped like reference §4.4: role in the first delta, finish_reason and usage in the penultimate event. */
  private sendStream(
    res: ServerResponse,
    message: Record<string, unknown>,
    finishReason: string,
    usage: Record<string, number>,
    created: number,
    model: string,
    headers: Record<string, string>,
  ): void {
    const event = (choice: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      `data: ${JSON.stringify({ choices: [{ ...choice, index: 0 }], created, model, object: 'chat.completion', ...extra })}\n\n`;
    const events: string[] = [];
    if (message.function_call) {
      events.push(
        event({
          delta: {
            content: '',
            role: 'assistant',
            function_call: message.function_call,
            functions_state_id: message.functions_state_id,
          },
        }),
      );
    } else {
      const content = String(message.content ?? '');
      const pieces = content.match(/[\s\S]{1,16}/g) ?? [''];
      pieces.forEach((piece, i) => events.push(event({ delta: i === 0 ? { content: piece, role: 'assistant' } : { content: piece } })));
    }
    events.push(event({ delta: { content: '' }, finish_reason: finishReason }, { usage }));
    events.push('data: [DONE]\n\n');
    res.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
    });
    for (const e of events) res.write(e);
    res.end();
  }

  // ---- helpers -----------------------------------------------------------------------------------------

  private xHeaders(req: IncomingMessage): Record<string, string> {
    const pick = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value)?.trim() || randomUUID();
    return { 'x-request-id': pick(req.headers['x-request-id']), 'x-session-id': pick(req.headers['x-session-id']) };
  }

  private record(
    kind: RecordedRequest['kind'],
    req: IncomingMessage,
    rawBody: string,
    body: unknown,
    receivedAt: number,
  ): void {
    this.requests.push({
      kind,
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: { ...req.headers },
      body,
      rawBody,
      receivedAt,
    });
  }

  private sleep(ms: number): Promise<void> {
    if (!(ms > 0) || this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const pending: PendingDelay = {
        timer: setTimeout(() => {
          this.pendingDelays.delete(pending);
          resolve();
        }, ms),
        resolve,
      };
      this.pendingDelays.add(pending);
    });
  }

  private sendApiError(res: ServerResponse, status: number, message: string, headers: Record<string, string>): void {
    this.sendJson(res, status, { status, message }, headers);
  }

  private sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    this.sendRaw(res, status, JSON.stringify(body), headers);
  }

  private sendRaw(res: ServerResponse, status: number, text: string, headers: Record<string, string>): void {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-cache, no-store, max-age=0, must-revalidate',
      ...headers,
      'content-length': String(Buffer.byteLength(text)),
    });
    res.end(text);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Default responder and validation
// ---------------------------------------------------------------------------------------------------------

/** The built-in answer: a forced function is called with `{}`, otherwise the content is "OK". */
export function defaultResponder(request: ChatRequestBody): PeerReply {
  if (typeof request.function_call === 'object') return { functionCall: {} };
  return { content: 'OK' };
}

/** Validates a chat request the way the real API does (reference §4.1, §5.1, §10); throws ApiError. */
function validateChatBody(parsed: unknown): ChatRequestBody {
  if (!isPlainObject(parsed)) throw invalidParams('request body must be a JSON object');

  const model = parsed.model;
  if (model === undefined || model === null || model === '') throw invalidParams('model is required');
  if (typeof model !== 'string') throw invalidParams('model must be a string');
  if (!isModelKnown(model)) throw new ApiError(404, 'No such model');

  const messages = parsed.messages;
  if (!Array.isArray(messages) || messages.length === 0) throw invalidParams('messages must be a non-empty array');
  messages.forEach((message: unknown, i) => {
    if (!isPlainObject(message)) throw invalidParams(`messages[${i}] must be an object`);
    const role = message.role;
    if (typeof role !== 'string' || !MESSAGE_ROLES.has(role)) {
      throw invalidParams(`messages[${i}].role must be one of system, user, assistant, function`);
    }
    if (role === 'system' && i !== 0) throw invalidParams('system message must be the first message');
    const content = message.content;
    const callWithoutContent = role === 'assistant' && message.function_call !== undefined && content === undefined;
    if (typeof content !== 'string' && !callWithoutContent) {
      throw invalidParams(`messages[${i}].content must be a string`);
    }
    if (message.function_call !== undefined) {
      const call = message.function_call;
      if (!isPlainObject(call) || typeof call.name !== 'string') {
        throw invalidParams(`messages[${i}].function_call must be an object with a name`);
      }
    }
    if (role === 'function' && typeof content === 'string') {
      let result: unknown;
      try {
        result = JSON.parse(content);
      } catch {
        result = undefined;
      }
      if (!isPlainObject(result)) throw invalidParams(`invalid function result for function json string ${content.slice(0, 100)}`);
    }
  });

  checkNumber(parsed, 'temperature', (v) => v > 0, 'temperature must be in range (0, +inf)');
  checkNumber(parsed, 'top_p', (v) => v >= 0 && v <= 1, 'top_p must be in range [0, 1]');
  checkNumber(parsed, 'repetition_penalty', (v) => v > 0, 'repetition_penalty must be in range (0, +inf)');
  checkNumber(parsed, 'max_tokens', (v) => Number.isInteger(v) && v > 0, 'max_tokens must be a positive integer');
  checkNumber(parsed, 'update_interval', (v) => v >= 0, 'update_interval must be in range [0, +inf)');
  if (parsed.stream !== undefined && typeof parsed.stream !== 'boolean') throw invalidParams('stream must be a boolean');

  const names = new Set<string>();
  if (parsed.functions !== undefined) {
    if (!Array.isArray(parsed.functions)) throw invalidParams('functions must be an array');
    parsed.functions.forEach((fn: unknown, i) => {
      if (!isPlainObject(fn)) throw invalidParams(`functions[${i}] must be an object`);
      if (typeof fn.name !== 'string' || fn.name === '') throw invalidParams(`functions[${i}].name is required`);
      if (!FUNCTION_NAME.test(fn.name)) {
        throw invalidParams(`function name '${fn.name}' must contain only latin letters and must not start with a digit`);
      }
      if (fn.parameters === undefined || fn.parameters === null) {
        throw new ApiError(404, `Function schema for ${fn.name} not found`);
      }
      if (!isPlainObject(fn.parameters)) throw invalidParams(`function ${fn.name}: parameters must be an object`);
      checkSchema(fn.parameters, `function ${fn.name}: parameters`);
      names.add(fn.name);
    });
  }

  const functionCall = parsed.function_call;
  if (functionCall !== undefined) {
    if (typeof functionCall === 'string') {
      if (functionCall !== 'none' && functionCall !== 'auto') {
        throw invalidParams(`function_call must be "none", "auto" or {"name": <function>}, got "${functionCall}"`);
      }
    } else if (isPlainObject(functionCall) && typeof functionCall.name === 'string') {
      if (!names.has(functionCall.name)) {
        throw invalidParams(`function_call.name '${functionCall.name}' is not described in functions`);
      }
    } else {
      throw invalidParams('function_call must be "none", "auto" or {"name": <function>}');
    }
  }

  return parsed as ChatRequestBody;
}

function checkNumber(body: Record<string, unknown>, field: string, ok: (v: number) => boolean, message: string): void {
  const value = body[field];
  if (value === undefined || value === null) return;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidParams(`${field} must be a number`);
  if (!ok(value)) throw invalidParams(message);
}

/** Rejects what GigaChat does not accept in a function schema (reference §10). */
function checkSchema(node: unknown, path: string): void {
  if (Array.isArray(node)) {
    node.forEach((item, i) => checkSchema(item, `${path}[${i}]`));
    return;
  }
  if (!isPlainObject(node)) return;
  for (const keyword of FORBIDDEN_SCHEMA_KEYWORDS) {
    if (keyword in node) throw invalidParams(`${path}: '${keyword}' is not supported in function schemas`);
  }
  if (node.type !== undefined && typeof node.type !== 'string') {
    throw invalidParams(`${path}.type must be a single type name`);
  }
  if (node.type === 'object' && !isPlainObject(node.properties)) {
    throw invalidParams(`${path}: an object schema must have properties`);
  }
  for (const [key, value] of Object.entries(node)) {
    if ((key === 'properties' || key === '$defs' || key === 'definitions') && isPlainObject(value)) {
      // Keys here are property names, not keywords: check each sub-schema only.
      for (const [name, sub] of Object.entries(value)) checkSchema(sub, `${path}.${key}.${name}`);
    } else if (key !== 'enum' && key !== 'const' && key !== 'default' && key !== 'examples' && key !== 'required') {
      checkSchema(value, `${path}.${key}`);
    }
  }
}
