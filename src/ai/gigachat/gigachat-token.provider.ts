import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { AxiosInstance } from 'axios';
import type { GigaChatConfig } from '../../config/app-config.js';
import { GigaChatAuthError } from './gigachat.errors.js';
import { errorBodyOf, toNetworkError } from './gigachat.http.js';

/** Tokens live 30 minutes; renewing a minute early avoids using one that expires in flight. */
export const TOKEN_RENEWAL_MARGIN_MS = 60_000;

interface CachedToken {
  value: string;
  expiresAt: number;
}

/**
 * GigaChat OAuth access tokens: fetched with the authorization key, cached, renewed a minute before
 * expiry, and shared: concurrent callers wait for one renewal instead of each asking (the OAuth
 * endpoint allows 10 requests a second).
 */
export class GigaChatTokenProvider {
  private readonly logger = new Logger(GigaChatTokenProvider.name);
  private token: CachedToken | null = null;
  private renewal: Promise<string> | null = null;

  constructor(
    private readonly config: GigaChatConfig,
    private readonly http: AxiosInstance,
    private readonly now: () => number = Date.now,
  ) {}

  /** A token valid for at least another minute. */
  async getToken(): Promise<string> {
    if (this.token && this.token.expiresAt - this.now() > TOKEN_RENEWAL_MARGIN_MS) return this.token.value;
    return this.renew();
  }

  /**
   * Forgets `rejected` after the API refused it (401). A token renewed meanwhile by another caller
   * is kept, so a burst of 401s still causes a single renewal.
   */
  invalidate(rejected: string): void {
    if (this.token?.value === rejected) this.token = null;
  }

  private renew(): Promise<string> {
    this.renewal ??= this.fetchToken().finally(() => {
      this.renewal = null;
    });
    return this.renewal;
  }

  private async fetchToken(): Promise<string> {
    const started = this.now();
    let response;
    try {
      response = await this.http.post(this.config.authUrl, new URLSearchParams({ scope: this.config.scope }).toString(), {
        headers: {
          Authorization: `Basic ${this.config.authKey}`,
          RqUID: randomUUID(),
          'Content-Type': 'application/x-www-form-urlencoded',
          Accept: 'application/json',
        },
      });
    } catch (error) {
      throw toNetworkError(error);
    }
    if (response.status !== 200) {
      const { message, code } = errorBodyOf(response.data);
      throw new GigaChatAuthError(response.status, code, message);
    }
    const body = response.data as { access_token?: unknown; expires_at?: unknown };
    if (typeof body?.access_token !== 'string' || typeof body.expires_at !== 'number') {
      throw new GigaChatAuthError(response.status, null, 'the OAuth answer has no access_token/expires_at');
    }
    // expires_at is documented in milliseconds, but one docs example shows seconds.
    const expiresAt = body.expires_at < 1e12 ? body.expires_at * 1000 : body.expires_at;
    this.token = { value: body.access_token, expiresAt };
    this.logger.log({ msg: 'GigaChat token obtained', validForSeconds: Math.round((expiresAt - this.now()) / 1000), ms: this.now() - started });
    return body.access_token;
  }
}
