import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ChatRequestBody, GigaChatPeerOptions, PeerReply } from '../peers/gigachat.peer.js';
import { GigaChatPeer } from '../peers/gigachat.peer.js';
import { SmtpPeer } from '../peers/smtp.peer.js';
import { TelegramPeer } from '../peers/telegram.peer.js';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from './databases.js';
import { offeredArticleIds } from './offered-articles.js';
import { startTestApp, type TestApp } from './test-app.js';

export const SHOP_MAIL_FROM = 'Северный Ветер <support@severveter.example>';

export interface StackOptions {
  database: TestDatabase;
  /** false: GIGACHAT_AUTH_KEY unset. */
  gigachat?: GigaChatPeerOptions | false;
  telegram?: boolean;
  /** false: no SMTP_URL (e-mails go to .eml files). */
  smtp?: boolean;
  env?: Record<string, string>;
}

export interface Stack {
  t: TestApp;
  gigachat: GigaChatPeer | null;
  telegram: TelegramPeer | null;
  smtp: SmtpPeer | null;
  env: Record<string, string>;
  /** Restarts the service on the same database and peers (a new process, as far as the app knows). */
  restart(extraEnv?: Record<string, string>): Promise<TestApp>;
  close(): Promise<void>;
}

/**
 * The service wired to local peers over real sockets: a GigaChat emulator, a Telegram Bot API
 * emulator and a real SMTP server, with short retry delays so failure paths finish quickly.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const gigachat = options.gigachat === false ? null : await GigaChatPeer.start(options.gigachat ?? {});
  const telegram = options.telegram === false ? null : await TelegramPeer.start();
  const smtp = options.smtp === false ? null : await SmtpPeer.start();
  const env: Record<string, string> = {
    DATABASE_URL: options.database.url,
    MAIL_FROM: SHOP_MAIL_FROM,
    WEBHOOK_RATE_LIMIT: '0',
    GIGACHAT_RETRY_BASE_MS: '20',
    OUTBOX_RETRY_BASE_MS: '50',
    SHUTDOWN_TIMEOUT_MS: '2000',
    ...(gigachat
      ? {
          GIGACHAT_AUTH_KEY: gigachat.authKey,
          GIGACHAT_AUTH_URL: gigachat.authUrl,
          GIGACHAT_API_URL: gigachat.apiUrl,
          GIGACHAT_SCOPE: gigachat.scope,
        }
      : {}),
    ...(telegram ? { TELEGRAM_BOT_TOKEN: telegram.token, TELEGRAM_CHAT_ID: telegram.chatId, TELEGRAM_API_URL: telegram.apiUrl } : {}),
    ...(smtp ? { SMTP_URL: smtp.url } : {}),
    ...options.env,
  };
  let t = await startTestApp(env);
  return {
    get t() {
      return t;
    },
    gigachat,
    telegram,
    smtp,
    env,
    restart: async (extraEnv = {}) => {
      await t.close();
      t = await startTestApp({ ...env, ...extraEnv });
      return t;
    },
    close: async () => {
      await t.close().catch(() => undefined);
      await Promise.all([gigachat?.close(), telegram?.close(), smtp?.close()]);
    },
  };
}

/** The seed's JSON shape plus our optional fields, as the model would fill them. */
export interface AnalysisArgs {
  full_name?: string;
  issue_summary?: string;
  decision: 'full_answer' | 'need_more_info' | 'escalate_to_human';
  draft_reply?: string;
  confidence?: number;
  language?: string;
  used_article_ids?: string[];
  missing_details?: string[];
  escalation_reason?: string;
}

/**
 * A GigaChat answer that calls the forced function with these arguments. Unless `used_article_ids`
 * is given, the answer cites every article the prompt offered, as a model that follows the prompt
 * does (the decision policy escalates a full_answer that cites none).
 */
export function decisionReply(args: AnalysisArgs, extra: Partial<PeerReply> = {}): PeerReply {
  return {
    functionCall: (request) => ({
      full_name: 'Иван Петров',
      issue_summary: 'Клиент спрашивает, как вернуть товар',
      draft_reply: 'Здравствуйте, Иван! Вернуть товар можно в течение 14 дней. Служба поддержки',
      confidence: 0.9,
      language: 'ru',
      used_article_ids: offeredArticleIds(request),
      ...args,
    }),
    ...extra,
  };
}


/** The text of everything the service sent to GigaChat in one chat call (system + user). */
export function promptText(body: ChatRequestBody): string {
  return body.messages.map((m) => String(m.content)).join('\n');
}

/**
 * One stack per describe block, on a fresh database: started before the block's tests, closed
 * after them, with the peers' scripts and records cleared before each test. The returned object
 * always points at the running service (`restart()` replaces it).
 */
export function stackForSuite(kind: DatabaseKind, options: Omit<StackOptions, 'database'> = {}): Stack & { readonly database: TestDatabase } {
  let database: TestDatabase | undefined;
  let current: Stack | undefined;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    current = await startStack({ database, ...options });
  });
  afterAll(async () => {
    await current?.close();
    await database?.drop();
  });
  beforeEach(() => {
    current?.gigachat?.reset();
    current?.telegram?.reset();
    current?.smtp?.reset();
  });
  return new Proxy({} as Stack & { readonly database: TestDatabase }, {
    get: (_target, property) => (property === 'database' ? database : Reflect.get(current!, property, current)),
  });
}

/**
 * stackForSuite without SMTP_URL: replies are written as .eml files under a folder fixed for the
 * suite (a restart keeps it; startTestApp would give every start a new one), removed at the end.
 */
export function fileOutboxStackForSuite(kind: DatabaseKind): { stack: Stack & { readonly database: TestDatabase }; outboxDir: string } {
  const outboxDir = join(mkdtempSync(join(tmpdir(), 'ai-support-dispatch-')), 'outbox');
  const stack = stackForSuite(kind, { gigachat: { scope: 'GIGACHAT_API_B2B' }, smtp: false, env: { MAIL_OUTBOX_DIR: outboxDir } });
  afterAll(() => rmSync(dirname(outboxDir), { recursive: true, force: true }));
  return { stack, outboxDir };
}
