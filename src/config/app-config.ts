import type { DatabaseConfig } from './database-url.js';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export type GigaChatScope = 'GIGACHAT_API_PERS' | 'GIGACHAT_API_B2B' | 'GIGACHAT_API_CORP';
export const GIGACHAT_SCOPES: readonly GigaChatScope[] = ['GIGACHAT_API_PERS', 'GIGACHAT_API_B2B', 'GIGACHAT_API_CORP'];

export interface HttpConfig {
  readonly port: number;
  /** How long SIGTERM waits for in-flight requests and work before closing the database. */
  readonly shutdownTimeoutMs: number;
  /**
   * Express's `trust proxy`: which hops in front of the service may state the client's address in
   * X-Forwarded-For. `false` (the default) uses the socket's address and ignores the header.
   */
  readonly trustProxy: false | number | readonly string[];
}

export interface GigaChatConfig {
  /** Unset: the service runs, and every ticket is escalated because AI is not configured. */
  readonly authKey?: string;
  readonly clientId?: string;
  readonly scope: GigaChatScope;
  readonly model: string;
  readonly authUrl: string;
  readonly apiUrl: string;
  /** PEM contents (not the path) of the extra CAs to trust. */
  readonly caBundle?: string;
  readonly caBundlePath?: string;
  readonly verifySsl: boolean;
  readonly timeoutMs: number;
  readonly maxConcurrency: number;
  readonly maxRetries: number;
  readonly retryBaseMs: number;
}

export interface TelegramConfig {
  readonly botToken?: string;
  readonly chatId?: string;
  readonly apiUrl: string;
  readonly timeoutMs: number;
}

export interface MailConfig {
  readonly smtpUrl?: string;
  /** MAIL_FROM as given, e.g. `Support <support@shop.example>`. */
  readonly from: string;
  readonly fromAddress: string;
  readonly fromName?: string;
  /** MAIL_FROM's domain: our Message-IDs are minted on it, and mail claiming it is ours. */
  readonly fromDomain: string;
  readonly outboxDir: string;
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
  readonly timeoutMs: number;
}

export interface WebhookConfig {
  readonly secret?: string;
  readonly bodyLimitBytes: number;
  readonly rateLimit: number;
  readonly rateWindowMs: number;
  /** Upper bound of `?wait=true`. */
  readonly waitTimeoutMs: number;
}

export interface KnowledgeBaseConfig {
  readonly dir: string;
  readonly watch: boolean;
}

export interface ProcessingConfig {
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly autoReplyLimit: number;
  readonly autoReplyWindowMs: number;
  readonly aiMinConfidence: number;
}

/**
 * The validated, typed configuration. Built once from the environment by `validateEnvironment`
 * and injected wherever it is needed; nothing else reads process.env.
 */
export abstract class AppConfig {
  abstract readonly environment: string;
  abstract readonly isProduction: boolean;
  abstract readonly logLevel: LogLevel;
  abstract readonly http: HttpConfig;
  abstract readonly database: DatabaseConfig;
  abstract readonly gigachat: GigaChatConfig;
  abstract readonly telegram: TelegramConfig;
  abstract readonly mail: MailConfig;
  abstract readonly webhook: WebhookConfig;
  abstract readonly admin: { readonly apiKey?: string };
  abstract readonly knowledgeBase: KnowledgeBaseConfig;
  abstract readonly processing: ProcessingConfig;
}
