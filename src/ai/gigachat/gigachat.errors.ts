/**
 * Errors of the GigaChat adapter. They carry the provider's message and status, never the token
 * or the authorization key, so they are safe to log and to record on a ticket.
 */
export abstract class GigaChatError extends Error {
  abstract readonly retryable: boolean;
  /** Server-requested delay before a retry (Retry-After), when given. */
  readonly retryAfterMs?: number;
}

/** The OAuth endpoint refused us: its body is `{code, message}`. */
export class GigaChatAuthError extends GigaChatError {
  readonly retryable: boolean;
  constructor(
    readonly status: number,
    readonly code: number | null,
    readonly providerMessage: string,
  ) {
    super(`GigaChat OAuth failed: HTTP ${status}${code !== null ? ` code ${code}` : ''}: ${providerMessage}`);
    this.name = 'GigaChatAuthError';
    // A wrong key or scope will not fix itself; the OAuth service being down might.
    this.retryable = status === 429 || status >= 500;
  }
}

/** The API answered with an error: its body is `{status, message}`. */
export class GigaChatApiError extends GigaChatError {
  readonly retryable: boolean;
  override readonly retryAfterMs?: number;
  constructor(
    readonly status: number,
    readonly providerMessage: string,
    readonly requestId: string | null,
    retryAfterMs?: number,
  ) {
    super(`GigaChat API error: HTTP ${status}: ${providerMessage}`);
    this.name = 'GigaChatApiError';
    this.retryable = status === 429 || status >= 500;
    this.retryAfterMs = retryAfterMs;
  }
}

/** No answer at all: timeout, connection refused or reset. */
export class GigaChatNetworkError extends GigaChatError {
  readonly retryable = true;
  constructor(
    readonly code: string,
    detail: string,
  ) {
    super(`GigaChat unreachable (${code}): ${detail}`);
    this.name = 'GigaChatNetworkError';
  }
}

export class GigaChatNotConfiguredError extends GigaChatError {
  readonly retryable = false;
  constructor() {
    super('AI is not configured (GIGACHAT_AUTH_KEY is not set)');
    this.name = 'GigaChatNotConfiguredError';
  }
}
