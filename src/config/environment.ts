import { existsSync, readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { plainToInstance } from 'class-transformer';
import { IsIn, IsOptional, IsUrl, Matches, ValidateBy, type ValidationOptions, validateSync } from 'class-validator';
import { parseEmailAddress } from '../common/email-address.js';
import { IsMailbox } from '../common/validators.js';
import { type AppConfig, GIGACHAT_SCOPES, type GigaChatScope, LOG_LEVELS, type LogLevel } from './app-config.js';
import { DatabaseUrlError, parseDatabaseUrl } from './database-url.js';

/** Variables whose values are never echoed in error messages. */
const SECRET_VARIABLES = new Set(['GIGACHAT_AUTH_KEY', 'TELEGRAM_BOT_TOKEN', 'WEBHOOK_SECRET', 'ADMIN_API_KEY', 'SMTP_URL', 'DATABASE_URL']);

const HTTP_URL: Parameters<typeof IsUrl>[0] = { protocols: ['http', 'https'], require_protocol: true, require_tld: false };

function IsIntegerString(min: number, max?: number, options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isIntegerString',
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string' || !/^[+-]?\d+$/.test(value)) return false;
          const n = Number(value);
          return Number.isSafeInteger(n) && n >= min && (max === undefined || n <= max);
        },
        defaultMessage: () =>
          max === undefined ? `must be a whole number ≥ ${min}` : `must be a whole number between ${min} and ${max}`,
      },
    },
    options,
  );
}

function IsNumberString(min: number, max: number) {
  return ValidateBy({
    name: 'isNumberInRange',
    validator: {
      validate: (value: unknown) => {
        if (typeof value !== 'string' || !/^[+-]?(\d+\.?\d*|\.\d+)$/.test(value)) return false;
        const n = Number(value);
        return n >= min && n <= max;
      },
      defaultMessage: () => `must be a number between ${min} and ${max}`,
    },
  });
}

const BOOLEAN_WORDS = ['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'];
function IsBooleanWord() {
  return ValidateBy({
    name: 'isBooleanWord',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && BOOLEAN_WORDS.includes(value.toLowerCase()),
      defaultMessage: () => 'must be true or false',
    },
  });
}

function IsByteSize() {
  return ValidateBy({
    name: 'isByteSize',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && parseByteSize(value) !== null,
      defaultMessage: () => 'must be a size such as 2mb, 512kb or a number of bytes (at least 1kb)',
    },
  });
}

function IsDatabaseUrl() {
  return ValidateBy({
    name: 'isDatabaseUrl',
    validator: {
      validate: (value: unknown) => {
        if (typeof value !== 'string') return false;
        try {
          parseDatabaseUrl(value);
          return true;
        } catch {
          return false;
        }
      },
      defaultMessage: (args) => {
        try {
          parseDatabaseUrl(String(args?.value));
        } catch (error) {
          if (error instanceof DatabaseUrlError) return error.message;
        }
        return 'is not a supported database URL';
      },
    },
  });
}

function IsPemFile() {
  return ValidateBy({
    name: 'isPemFile',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && pemFileProblem(value) === null,
      defaultMessage: (args) => pemFileProblem(String(args?.value)) ?? 'must name a PEM file',
    },
  });
}

function pemFileProblem(path: string): string | null {
  // The path itself is quoted after the message, as for every variable.
  if (!existsSync(path)) return 'names a file that does not exist';
  if (!statSync(path).isFile()) return 'is not a file';
  const text = readFileSync(path, 'utf8');
  if (!text.includes('-----BEGIN CERTIFICATE-----')) return 'holds no PEM certificate';
  return null;
}

const TRUST_PROXY_PRESETS = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * TRUST_PROXY: `false`, a number of proxy hops, or the proxies' addresses (IPs, CIDR ranges and
 * Express's named ranges). `true` is refused: trusting every hop lets any caller pick the address
 * the rate limit counts against by sending its own X-Forwarded-For. null when malformed.
 */
export function parseTrustProxy(value: string): false | number | string[] | null {
  const text = value.trim().toLowerCase();
  if (['false', 'off', 'no', '0'].includes(text)) return false;
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    return hops >= 1 && hops <= 10 ? hops : null;
  }
  const entries = text.split(',').map((entry) => entry.trim());
  return entries.every(isTrustedProxyEntry) ? entries : null;
}

function isTrustedProxyEntry(entry: string): boolean {
  if (TRUST_PROXY_PRESETS.includes(entry)) return true;
  const [address, bits, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

function IsTrustProxy() {
  return ValidateBy({
    name: 'isTrustProxy',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && parseTrustProxy(value) !== null,
      defaultMessage: () =>
        `must be false, the number of proxies in front of the service (1 to 10), or their addresses: IPs, CIDR ranges, ${TRUST_PROXY_PRESETS.join(', ')} ` +
        '(true is refused: it would let any caller choose the address it is rate-limited by)',
    },
  });
}

/** The raw environment, as strings. Each property is one variable of the README's table. */
export class EnvironmentVariables {
  @IsOptional() NODE_ENV?: string;

  @IsOptional() @IsIn(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL?: string;

  @IsOptional() @IsIntegerString(1, 65535, { message: 'must be a port number between 1 and 65535' })
  PORT?: string;

  @IsOptional() @IsTrustProxy()
  TRUST_PROXY?: string;

  @IsOptional() @IsIntegerString(0, 600_000)
  SHUTDOWN_TIMEOUT_MS?: string;

  @IsOptional() @IsDatabaseUrl()
  DATABASE_URL?: string;

  @IsOptional() @Matches(/^[A-Za-z0-9+/=_-]+$/, { message: 'must be the base64 authorization key from the GigaChat console' })
  GIGACHAT_AUTH_KEY?: string;

  @IsOptional() GIGACHAT_CLIENT_ID?: string;

  @IsOptional() @IsIn(GIGACHAT_SCOPES, { message: `must be one of ${GIGACHAT_SCOPES.join(', ')}` })
  GIGACHAT_SCOPE?: string;

  @IsOptional() @Matches(/^[\w.:-]+$/, { message: 'must be a model name such as GigaChat or GigaChat-2-Pro' })
  GIGACHAT_MODEL?: string;

  @IsOptional() @IsUrl(HTTP_URL, { message: 'must be an http(s) URL' })
  GIGACHAT_AUTH_URL?: string;

  @IsOptional() @IsUrl(HTTP_URL, { message: 'must be an http(s) URL' })
  GIGACHAT_API_URL?: string;

  @IsOptional() @IsPemFile()
  GIGACHAT_CA_BUNDLE?: string;

  @IsOptional() @IsBooleanWord()
  GIGACHAT_VERIFY_SSL?: string;

  @IsOptional() @IsIntegerString(100, 600_000)
  GIGACHAT_TIMEOUT_MS?: string;

  @IsOptional() @IsIntegerString(1, 100)
  GIGACHAT_MAX_CONCURRENCY?: string;

  @IsOptional() @IsIntegerString(0, 10)
  GIGACHAT_MAX_RETRIES?: string;

  @IsOptional() @IsIntegerString(1, 60_000)
  GIGACHAT_RETRY_BASE_MS?: string;

  @IsOptional() @Matches(/^\d+:[\w-]+$/, { message: 'must look like 123456789:AA… (the token BotFather gave)' })
  TELEGRAM_BOT_TOKEN?: string;

  @IsOptional() @Matches(/^(-?\d+|@\w{5,})$/, { message: 'must be a numeric chat id (e.g. -1001234567890) or @channelname' })
  TELEGRAM_CHAT_ID?: string;

  @IsOptional() @IsUrl(HTTP_URL, { message: 'must be an http(s) URL' })
  TELEGRAM_API_URL?: string;

  @IsOptional() @IsUrl(
    { protocols: ['smtp', 'smtps'], require_protocol: true, require_tld: false },
    { message: 'must be smtp://user:pass@host:587 or smtps://user:pass@host:465' },
  )
  SMTP_URL?: string;

  @IsOptional() @IsMailbox({ message: 'must be an e-mail address, optionally with a name: Support <support@example.com>' })
  MAIL_FROM?: string;

  @IsOptional() MAIL_OUTBOX_DIR?: string;

  @IsOptional() @IsIntegerString(1, 100)
  OUTBOX_MAX_ATTEMPTS?: string;

  @IsOptional() @IsIntegerString(1, 3_600_000)
  OUTBOX_RETRY_BASE_MS?: string;

  @IsOptional() @Matches(/^.{16,}$/s, { message: 'must be at least 16 characters long' })
  WEBHOOK_SECRET?: string;

  @IsOptional() @IsByteSize()
  WEBHOOK_BODY_LIMIT?: string;

  @IsOptional() @IsIntegerString(0, 1_000_000)
  WEBHOOK_RATE_LIMIT?: string;

  @IsOptional() @IsIntegerString(1, 86_400)
  WEBHOOK_RATE_WINDOW_SECONDS?: string;

  // Sent as `Authorization: Bearer <key>`, a single token: a key with spaces could never be presented.
  @IsOptional() @Matches(/^\S{16,}$/, { message: 'must be at least 16 characters long, without spaces' })
  ADMIN_API_KEY?: string;

  @IsOptional() KNOWLEDGE_BASE_DIR?: string;

  @IsOptional() @IsBooleanWord()
  KNOWLEDGE_BASE_WATCH?: string;

  @IsOptional() @IsIntegerString(1, 256)
  PROCESSING_CONCURRENCY?: string;

  @IsOptional() @IsIntegerString(10, 86_400)
  PROCESSING_LEASE_SECONDS?: string;

  @IsOptional() @IsIntegerString(0, 10_000)
  AUTO_REPLY_LIMIT?: string;

  @IsOptional() @IsNumberString(0, 1)
  AI_MIN_CONFIDENCE?: string;
}

export type EnvironmentName = keyof EnvironmentVariables;

/** Thrown when the environment is unusable; `problems` holds one line per problem. */
export class EnvironmentValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

export function parseByteSize(value: string): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*(b|kb|k|mb|m|gb|g)?$/i.exec(value.trim());
  if (!match) return null;
  const unit = (match[2] ?? 'b').toLowerCase()[0];
  const multiplier = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  const bytes = Math.floor(Number(match[1]) * multiplier);
  return bytes >= 1024 ? bytes : null;
}

function toBoolean(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  return ['true', '1', 'yes', 'on'].includes(value.toLowerCase());
}

function toInt(value: string | undefined, fallback: number): number {
  return value === undefined ? fallback : Number(value);
}

/** Every variable the service reads; the README's table and .env.example list the same names. */
export const ENVIRONMENT_VARIABLE_NAMES = [
  'NODE_ENV', 'LOG_LEVEL', 'PORT', 'TRUST_PROXY', 'SHUTDOWN_TIMEOUT_MS', 'DATABASE_URL', 'GIGACHAT_AUTH_KEY', 'GIGACHAT_CLIENT_ID',
  'GIGACHAT_SCOPE', 'GIGACHAT_MODEL', 'GIGACHAT_AUTH_URL', 'GIGACHAT_API_URL', 'GIGACHAT_CA_BUNDLE',
  'GIGACHAT_VERIFY_SSL', 'GIGACHAT_TIMEOUT_MS', 'GIGACHAT_MAX_CONCURRENCY', 'GIGACHAT_MAX_RETRIES',
  'GIGACHAT_RETRY_BASE_MS', 'TELEGRAM_BOT_TOKEN', 'TELEGRAM_CHAT_ID', 'TELEGRAM_API_URL', 'SMTP_URL', 'MAIL_FROM',
  'MAIL_OUTBOX_DIR', 'OUTBOX_MAX_ATTEMPTS', 'OUTBOX_RETRY_BASE_MS', 'WEBHOOK_SECRET', 'WEBHOOK_BODY_LIMIT',
  'WEBHOOK_RATE_LIMIT', 'WEBHOOK_RATE_WINDOW_SECONDS', 'ADMIN_API_KEY', 'KNOWLEDGE_BASE_DIR', 'KNOWLEDGE_BASE_WATCH',
  'PROCESSING_CONCURRENCY', 'PROCESSING_LEASE_SECONDS', 'AUTO_REPLY_LIMIT', 'AI_MIN_CONFIDENCE',
] as const satisfies readonly EnvironmentName[];

/** Keeps only the variables we know, trimmed, with empty strings treated as unset (common in .env files). */
function pickKnown(raw: Record<string, unknown>): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const key of ENVIRONMENT_VARIABLE_NAMES) {
    const value = raw[key];
    if (typeof value === 'string' && value.trim() !== '') picked[key] = value.trim();
  }
  return picked;
}

function describeValue(name: string, value: unknown): string {
  if (SECRET_VARIABLES.has(name)) return '';
  const text = String(value);
  return ` (got "${text.length > 80 ? `${text.slice(0, 77)}...` : text}")`;
}

/**
 * Validates the environment and builds the typed configuration. Every problem is collected, so an
 * operator fixes them all in one go; the error lists one line per variable.
 */
export function validateEnvironment(raw: Record<string, unknown>): AppConfig {
  const values = pickKnown(raw);
  const env = plainToInstance(EnvironmentVariables, values);
  const problems: string[] = [];
  for (const error of validateSync(env, { forbidUnknownValues: false })) {
    const messages = Object.values(error.constraints ?? {});
    for (const message of messages) {
      problems.push(`${error.property} ${message}${describeValue(error.property, error.value)}`);
    }
  }

  const isProduction = (env.NODE_ENV ?? '').toLowerCase() === 'production';
  if (isProduction && !env.WEBHOOK_SECRET) {
    problems.push('WEBHOOK_SECRET must be set when NODE_ENV=production (anyone could post e-mails otherwise)');
  }
  if (isProduction && !env.ADMIN_API_KEY) {
    problems.push('ADMIN_API_KEY must be set when NODE_ENV=production (the tickets API would be public otherwise)');
  }
  if (Boolean(env.TELEGRAM_BOT_TOKEN) !== Boolean(env.TELEGRAM_CHAT_ID)) {
    problems.push(
      env.TELEGRAM_BOT_TOKEN
        ? 'TELEGRAM_CHAT_ID must be set together with TELEGRAM_BOT_TOKEN'
        : 'TELEGRAM_BOT_TOKEN must be set together with TELEGRAM_CHAT_ID',
    );
  }
  if (problems.length > 0) throw new EnvironmentValidationError(problems);

  const scope = (env.GIGACHAT_SCOPE ?? 'GIGACHAT_API_PERS') as GigaChatScope;
  const mailFrom = env.MAIL_FROM ?? 'Support <support@localhost>';
  const mailbox = parseEmailAddress(mailFrom)!;
  const caBundlePath = env.GIGACHAT_CA_BUNDLE;

  const config: AppConfig = {
    environment: env.NODE_ENV ?? 'development',
    isProduction,
    logLevel: (env.LOG_LEVEL ?? 'info') as LogLevel,
    http: {
      port: toInt(env.PORT, 8000),
      shutdownTimeoutMs: toInt(env.SHUTDOWN_TIMEOUT_MS, 10_000),
      trustProxy: env.TRUST_PROXY === undefined ? false : parseTrustProxy(env.TRUST_PROXY)!,
    },
    database: parseDatabaseUrl(env.DATABASE_URL ?? 'sqlite:./data/ai-support.sqlite'),
    gigachat: {
      authKey: env.GIGACHAT_AUTH_KEY,
      clientId: env.GIGACHAT_CLIENT_ID,
      scope,
      model: env.GIGACHAT_MODEL ?? 'GigaChat',
      authUrl: env.GIGACHAT_AUTH_URL ?? 'https://ngw.devices.sberbank.ru:9443/api/v2/oauth',
      apiUrl: (env.GIGACHAT_API_URL ?? 'https://gigachat.devices.sberbank.ru/api/v1').replace(/\/+$/, ''),
      caBundlePath,
      caBundle: caBundlePath ? readFileSync(caBundlePath, 'utf8') : undefined,
      verifySsl: toBoolean(env.GIGACHAT_VERIFY_SSL, true),
      timeoutMs: toInt(env.GIGACHAT_TIMEOUT_MS, 60_000),
      // GigaChat answers 429 past 1 request in flight for individuals and 10 for businesses.
      maxConcurrency: toInt(env.GIGACHAT_MAX_CONCURRENCY, scope === 'GIGACHAT_API_PERS' ? 1 : 10),
      maxRetries: toInt(env.GIGACHAT_MAX_RETRIES, 3),
      retryBaseMs: toInt(env.GIGACHAT_RETRY_BASE_MS, 500),
    },
    telegram: {
      botToken: env.TELEGRAM_BOT_TOKEN,
      chatId: env.TELEGRAM_CHAT_ID,
      apiUrl: (env.TELEGRAM_API_URL ?? 'https://api.telegram.org').replace(/\/+$/, ''),
      timeoutMs: 15_000,
    },
    mail: {
      smtpUrl: env.SMTP_URL,
      from: mailFrom,
      fromAddress: mailbox.address,
      fromName: mailbox.name,
      fromDomain: mailbox.address.slice(mailbox.address.lastIndexOf('@') + 1).toLowerCase(),
      outboxDir: env.MAIL_OUTBOX_DIR ?? './data/outbox',
      maxAttempts: toInt(env.OUTBOX_MAX_ATTEMPTS, 8),
      retryBaseMs: toInt(env.OUTBOX_RETRY_BASE_MS, 30_000),
      timeoutMs: 30_000,
    },
    webhook: {
      secret: env.WEBHOOK_SECRET,
      bodyLimitBytes: env.WEBHOOK_BODY_LIMIT ? parseByteSize(env.WEBHOOK_BODY_LIMIT)! : 2 * 1024 * 1024,
      rateLimit: toInt(env.WEBHOOK_RATE_LIMIT, 600),
      rateWindowMs: toInt(env.WEBHOOK_RATE_WINDOW_SECONDS, 60) * 1000,
      waitTimeoutMs: 30_000,
    },
    admin: { apiKey: env.ADMIN_API_KEY },
    knowledgeBase: {
      dir: env.KNOWLEDGE_BASE_DIR ?? './knowledge-base',
      watch: toBoolean(env.KNOWLEDGE_BASE_WATCH, true),
    },
    processing: {
      concurrency: toInt(env.PROCESSING_CONCURRENCY, 4),
      leaseMs: toInt(env.PROCESSING_LEASE_SECONDS, 120) * 1000,
      autoReplyLimit: toInt(env.AUTO_REPLY_LIMIT, 10),
      autoReplyWindowMs: 3 * 60 * 60 * 1000,
      aiMinConfidence: env.AI_MIN_CONFIDENCE === undefined ? 0.6 : Number(env.AI_MIN_CONFIDENCE),
    },
  };
  return config;
}
