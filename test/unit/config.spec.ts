import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDatabaseUrl } from '../../src/config/database-url.js';
import { ENVIRONMENT_VARIABLE_NAMES, EnvironmentValidationError, validateEnvironment } from '../../src/config/environment.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    validateEnvironment(env);
  } catch (error) {
    if (error instanceof EnvironmentValidationError) return error.problems;
    throw error;
  }
  throw new Error('expected the environment to be rejected');
}

describe('DATABASE_URL', () => {
  it.each([
    ['sqlite:./data/ai-support.sqlite', { type: 'sqlite', path: './data/ai-support.sqlite' }],
    ['sqlite:/var/lib/ai-support/db.sqlite', { type: 'sqlite', path: '/var/lib/ai-support/db.sqlite' }],
    ['sqlite::memory:', { type: 'sqlite', path: ':memory:' }],
    ['sqlite+aiosqlite:///./x.db', { type: 'sqlite', path: './x.db' }],
    ['sqlite+aiosqlite:////var/data/x.db', { type: 'sqlite', path: '/var/data/x.db' }],
    ['sqlite+aiosqlite:///:memory:', { type: 'sqlite', path: ':memory:' }],
    ['sqlite:///relative/app.db', { type: 'sqlite', path: 'relative/app.db' }],
    ['sqlite://', { type: 'sqlite', path: ':memory:' }],
  ])('%s is SQLite', (url, expected) => {
    expect(parseDatabaseUrl(url)).toEqual(expected);
  });

  it.each([
    ['postgres://app:s3cr%40t@db.internal:6543/support', { username: 'app', password: 's3cr@t', host: 'db.internal', port: 6543, database: 'support', ssl: false }],
    ['postgresql://app@127.0.0.1/support', { username: 'app', password: undefined, host: '127.0.0.1', port: 5432, database: 'support', ssl: false }],
    ['postgresql+asyncpg://app:pw@pg:5432/support', { username: 'app', password: 'pw', host: 'pg', port: 5432, database: 'support', ssl: false }],
    ['postgres://app:pw@pg/support?sslmode=require', { username: 'app', password: 'pw', host: 'pg', port: 5432, database: 'support', ssl: { rejectUnauthorized: false } }],
    ['postgresql+asyncpg://app:pw@pg/support?ssl=verify-full', { username: 'app', password: 'pw', host: 'pg', port: 5432, database: 'support', ssl: { rejectUnauthorized: true } }],
  ])('%s is PostgreSQL', (url, expected) => {
    expect(parseDatabaseUrl(url)).toEqual({ type: 'postgres', ...expected });
  });

  it.each([
    ['mysql://root@localhost/app', /unsupported scheme "mysql"/],
    ['mongodb+srv://cluster/app', /unsupported scheme/],
    ['postgres://localhost', /names no PostgreSQL database/],
    ['postgres://pg/app?sslmode=sometimes', /unknown sslmode/],
    ['sqlite+weird:///x.db', /unknown SQLite driver/],
    ['postgresql+mysqlconnector://x/y', /unknown PostgreSQL driver/],
    ['sqlite:', /names no SQLite file/],
    ['just-a-path.db', /has no scheme/],
  ])('%s is refused', (url, message) => {
    expect(() => parseDatabaseUrl(url)).toThrow(message);
  });
});

describe('validateEnvironment', () => {
  it('starts with defaults from an empty environment', () => {
    const config = validateEnvironment({});
    expect(config.http.port).toBe(8000);
    expect(config.database).toEqual({ type: 'sqlite', path: './data/ai-support.sqlite' });
    expect(config.gigachat).toMatchObject({
      authKey: undefined,
      scope: 'GIGACHAT_API_PERS',
      model: 'GigaChat',
      authUrl: 'https://ngw.devices.sberbank.ru:9443/api/v2/oauth',
      apiUrl: 'https://gigachat.devices.sberbank.ru/api/v1',
      verifySsl: true,
      timeoutMs: 60_000,
      maxConcurrency: 1,
    });
    expect(config.telegram.apiUrl).toBe('https://api.telegram.org');
    expect(config.mail).toMatchObject({ from: 'Support <support@localhost>', fromAddress: 'support@localhost', fromDomain: 'localhost', outboxDir: './data/outbox' });
    expect(config.knowledgeBase.dir).toBe('./knowledge-base');
    expect(config.processing).toMatchObject({ concurrency: 4, autoReplyLimit: 10, aiMinConfidence: 0.6 });
    expect(config.webhook.bodyLimitBytes).toBe(2 * 1024 * 1024);
  });

  it('reads every variable of the table', () => {
    const config = validateEnvironment({
      PORT: '9001',
      DATABASE_URL: 'postgresql+asyncpg://u:p@h/db',
      GIGACHAT_AUTH_KEY: 'Y2xpZW50OnNlY3JldA==',
      GIGACHAT_CLIENT_ID: '0f0e-client',
      GIGACHAT_SCOPE: 'GIGACHAT_API_B2B',
      GIGACHAT_MODEL: 'GigaChat-2-Pro',
      GIGACHAT_AUTH_URL: 'http://127.0.0.1:9/api/v2/oauth',
      GIGACHAT_API_URL: 'http://127.0.0.1:9/api/v1/',
      GIGACHAT_VERIFY_SSL: 'false',
      GIGACHAT_TIMEOUT_MS: '15000',
      TELEGRAM_BOT_TOKEN: '123456:ABC-def_1',
      TELEGRAM_CHAT_ID: '-1001234567890',
      TELEGRAM_API_URL: 'http://127.0.0.1:10',
      SMTP_URL: 'smtp://user:pass@mail.example.com:587',
      MAIL_FROM: '"Северный Ветер" <help@Shop.Example>',
      WEBHOOK_SECRET: 'a-webhook-secret-of-some-length',
      ADMIN_API_KEY: 'an-admin-key-long-enough',
      KNOWLEDGE_BASE_DIR: '/srv/kb',
      PROCESSING_CONCURRENCY: '8',
      AUTO_REPLY_LIMIT: '3',
      AI_MIN_CONFIDENCE: '0.75',
    });
    expect(config.http.port).toBe(9001);
    expect(config.database).toMatchObject({ type: 'postgres', host: 'h', database: 'db' });
    expect(config.gigachat).toMatchObject({
      scope: 'GIGACHAT_API_B2B',
      maxConcurrency: 10,
      apiUrl: 'http://127.0.0.1:9/api/v1',
      verifySsl: false,
      timeoutMs: 15_000,
      clientId: '0f0e-client',
    });
    expect(config.telegram).toMatchObject({ botToken: '123456:ABC-def_1', chatId: '-1001234567890' });
    expect(config.mail).toMatchObject({ fromAddress: 'help@shop.example', fromName: 'Северный Ветер', fromDomain: 'shop.example' });
    expect(config.processing).toMatchObject({ concurrency: 8, autoReplyLimit: 3, aiMinConfidence: 0.75 });
  });

  it('sizes the GigaChat limiter by scope unless told otherwise', () => {
    expect(validateEnvironment({ GIGACHAT_SCOPE: 'GIGACHAT_API_CORP' }).gigachat.maxConcurrency).toBe(10);
    expect(validateEnvironment({ GIGACHAT_SCOPE: 'GIGACHAT_API_CORP', GIGACHAT_MAX_CONCURRENCY: '4' }).gigachat.maxConcurrency).toBe(4);
  });

  it.each([
    [undefined, false],
    ['false', false],
    ['1', 1],
    ['2', 2],
    ['uniquelocal', ['uniquelocal']],
    ['loopback, 10.0.0.0/8, 192.0.2.7, fd00::/8', ['loopback', '10.0.0.0/8', '192.0.2.7', 'fd00::/8']],
  ])('TRUST_PROXY=%s trusts %j', (value, expected) => {
    expect(validateEnvironment(value === undefined ? {} : { TRUST_PROXY: value }).http.trustProxy).toEqual(expected);
  });

  it('treats empty values as unset, as .env files often have them', () => {
    const config = validateEnvironment({ GIGACHAT_AUTH_KEY: '', PORT: '  ', TELEGRAM_BOT_TOKEN: '', TELEGRAM_CHAT_ID: '' });
    expect(config.gigachat.authKey).toBeUndefined();
    expect(config.http.port).toBe(8000);
  });

  it.each([
    ['PORT', 'abc', /^PORT must be a port number between 1 and 65535 \(got "abc"\)$/],
    ['PORT', '70000', /^PORT must be a port number/],
    ['DATABASE_URL', 'mysql://root@localhost/app', /^DATABASE_URL uses the unsupported scheme "mysql"/],
    ['PROCESSING_CONCURRENCY', '-1', /^PROCESSING_CONCURRENCY must be a whole number between 1 and 256 \(got "-1"\)$/],
    ['PROCESSING_CONCURRENCY', '2.5', /^PROCESSING_CONCURRENCY must be a whole number/],
    ['AUTO_REPLY_LIMIT', '-3', /^AUTO_REPLY_LIMIT must be a whole number between 0 and 10000/],
    ['GIGACHAT_TIMEOUT_MS', '-100', /^GIGACHAT_TIMEOUT_MS must be a whole number/],
    ['GIGACHAT_MAX_CONCURRENCY', '0', /^GIGACHAT_MAX_CONCURRENCY must be a whole number between 1 and 100/],
    ['AI_MIN_CONFIDENCE', '1.5', /^AI_MIN_CONFIDENCE must be a number between 0 and 1/],
    ['AI_MIN_CONFIDENCE', 'high', /^AI_MIN_CONFIDENCE must be a number between 0 and 1/],
    ['GIGACHAT_SCOPE', 'GIGACHAT_API_FREE', /^GIGACHAT_SCOPE must be one of GIGACHAT_API_PERS, GIGACHAT_API_B2B, GIGACHAT_API_CORP/],
    ['GIGACHAT_VERIFY_SSL', 'maybe', /^GIGACHAT_VERIFY_SSL must be true or false/],
    ['GIGACHAT_API_URL', 'ftp://x', /^GIGACHAT_API_URL must be an http\(s\) URL/],
    ['GIGACHAT_CA_BUNDLE', '/nonexistent/russian_trusted_root_ca.pem', /^GIGACHAT_CA_BUNDLE names a file that does not exist \(got "\/nonexistent\/russian_trusted_root_ca\.pem"\)$/],
    ['MAIL_FROM', 'support at shop', /^MAIL_FROM must be an e-mail address/],
    ['SMTP_URL', 'http://mail.example.com', /^SMTP_URL must be smtp:\/\/user:pass@host:587/],
    ['TELEGRAM_API_URL', 'not a url', /^TELEGRAM_API_URL must be an http\(s\) URL/],
    ['WEBHOOK_BODY_LIMIT', 'huge', /^WEBHOOK_BODY_LIMIT must be a size/],
    ['LOG_LEVEL', 'loud', /^LOG_LEVEL must be one of/],
    ['TRUST_PROXY', 'true', /^TRUST_PROXY must be false, the number of proxies .*true is refused/],
    ['TRUST_PROXY', '11', /^TRUST_PROXY must be false, the number of proxies in front of the service \(1 to 10\)/],
    ['TRUST_PROXY', '10.0.0.0/33', /^TRUST_PROXY must be false/],
    ['TRUST_PROXY', 'ingress.local', /^TRUST_PROXY must be false/],
    ['TRUST_PROXY', 'loopback,', /^TRUST_PROXY must be false/],
    ['ADMIN_API_KEY', 'an admin key with spaces in it', /^ADMIN_API_KEY must be at least 16 characters long, without spaces$/],
    ['GIGACHAT_AUTH_URL', 'ngw.devices.sberbank.ru', /^GIGACHAT_AUTH_URL must be an http\(s\) URL/],
    ['OUTBOX_MAX_ATTEMPTS', '0', /^OUTBOX_MAX_ATTEMPTS must be a whole number/],
    ['OUTBOX_RETRY_BASE_MS', 'soon', /^OUTBOX_RETRY_BASE_MS must be a whole number/],
    ['WEBHOOK_RATE_LIMIT', '-5', /^WEBHOOK_RATE_LIMIT must be a whole number/],
    ['WEBHOOK_RATE_WINDOW_SECONDS', '0', /^WEBHOOK_RATE_WINDOW_SECONDS must be a whole number/],
    ['PROCESSING_LEASE_SECONDS', '5', /^PROCESSING_LEASE_SECONDS must be a whole number/],
    ['SHUTDOWN_TIMEOUT_MS', 'forever', /^SHUTDOWN_TIMEOUT_MS must be a whole number/],
    ['GIGACHAT_MAX_RETRIES', '-1', /^GIGACHAT_MAX_RETRIES must be a whole number/],
    ['GIGACHAT_RETRY_BASE_MS', '1.5', /^GIGACHAT_RETRY_BASE_MS must be a whole number/],
    ['KNOWLEDGE_BASE_WATCH', 'sometimes', /^KNOWLEDGE_BASE_WATCH must be true or false/],
  ])('%s=%s stops start-up with a line naming it', (name, value, message) => {
    const problems = problemsOf({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  it('refuses a CA bundle that holds no certificate', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-'));
    const file = join(dir, 'empty.pem');
    writeFileSync(file, 'not a certificate');
    expect(problemsOf({ GIGACHAT_CA_BUNDLE: file })).toEqual([`GIGACHAT_CA_BUNDLE holds no PEM certificate (got "${file}")`]);
  });

  it('reads a CA bundle into the configuration', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-'));
    const file = join(dir, 'ca.pem');
    writeFileSync(file, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const config = validateEnvironment({ GIGACHAT_CA_BUNDLE: file });
    expect(config.gigachat.caBundle).toContain('BEGIN CERTIFICATE');
  });

  it('lists every problem at once, one line each', () => {
    const problems = problemsOf({ PORT: 'abc', DATABASE_URL: 'mysql://x/y', AI_MIN_CONFIDENCE: '-1' });
    expect(problems).toHaveLength(3);
    expect(problems.map((p) => p.split(' ')[0]).sort()).toEqual(['AI_MIN_CONFIDENCE', 'DATABASE_URL', 'PORT']);
  });

  it('requires WEBHOOK_SECRET and ADMIN_API_KEY in production', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual([
      'WEBHOOK_SECRET must be set when NODE_ENV=production (anyone could post e-mails otherwise)',
      'ADMIN_API_KEY must be set when NODE_ENV=production (the tickets API would be public otherwise)',
    ]);
    expect(() =>
      validateEnvironment({ NODE_ENV: 'production', WEBHOOK_SECRET: 'x'.repeat(32), ADMIN_API_KEY: 'y'.repeat(32) }),
    ).not.toThrow();
  });

  it('requires the Telegram token and chat together', () => {
    expect(problemsOf({ TELEGRAM_BOT_TOKEN: '1:abc' })).toEqual(['TELEGRAM_CHAT_ID must be set together with TELEGRAM_BOT_TOKEN']);
    expect(problemsOf({ TELEGRAM_CHAT_ID: '-100' })).toEqual(['TELEGRAM_BOT_TOKEN must be set together with TELEGRAM_CHAT_ID']);
  });

  it('never echoes secret values in its messages', () => {
    const problems = problemsOf({
      WEBHOOK_SECRET: 'short',
      ADMIN_API_KEY: 'tiny',
      TELEGRAM_BOT_TOKEN: 'not-a-token-value',
      TELEGRAM_CHAT_ID: '-100',
      SMTP_URL: 'ftp://user:hunter2@host',
      DATABASE_URL: 'mysql://root:hunter2@db/app',
    });
    expect(problems.length).toBeGreaterThanOrEqual(5);
    const text = problems.join('\n');
    for (const secret of ['short', 'tiny', 'not-a-token-value', 'hunter2']) expect(text).not.toContain(secret);
  });
});

describe('.env.example', () => {
  const text = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
  const parsed = Object.fromEntries(
    text
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );

  it('lists every variable the service reads, each with a comment above it', () => {
    for (const name of ENVIRONMENT_VARIABLE_NAMES) {
      expect(parsed, name).toHaveProperty(name);
      const lines = text.split('\n');
      const index = lines.findIndex((line) => line.startsWith(`${name}=`));
      expect(lines.slice(Math.max(0, index - 3), index).some((line) => line.startsWith('#')), `${name} has a comment`).toBe(true);
    }
    expect(Object.keys(parsed).sort()).toEqual([...ENVIRONMENT_VARIABLE_NAMES].sort());
  });

  it('is a valid configuration as it stands', () => {
    expect(() => validateEnvironment(parsed)).not.toThrow();
  });
});
