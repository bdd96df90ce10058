import { Injectable, Logger } from '@nestjs/common';
import type { AxiosInstance } from 'axios';
import { Semaphore } from '../../common/async-lock.js';
import { backoffDelay, parseRetryAfter, sleep } from '../../common/backoff.js';
import { AppConfig, type GigaChatConfig } from '../../config/app-config.js';
import { type ChatCompletion, type ChatRequest, LlmClient, type TokenUsage } from '../llm-client.js';
import { GigaChatApiError, type GigaChatError, GigaChatNotConfiguredError } from './gigachat.errors.js';
import { createGigaChatHttp, errorBodyOf, toNetworkError } from './gigachat.http.js';
import { GigaChatTokenProvider } from './gigachat-token.provider.js';

const MAX_BACKOFF_MS = 30_000;

interface GigaChatChoice {
  message?: { content?: unknown; role?: string; function_call?: { name?: unknown; arguments?: unknown } };
  finish_reason?: unknown;
}

interface GigaChatResponse {
  choices?: GigaChatChoice[];
  model?: unknown;
  usage?: { prompt_tokens?: unknown; completion_tokens?: unknown; total_tokens?: unknown };
}

/**
 * GigaChat's chat API (POST /chat/completions), written from the public documentation:
 * - OAuth tokens through GigaChatTokenProvider (cached, renewed early, single flight);
 * - a 401 renews the token and retries once; 429, 5xx, timeouts and resets retry with exponential
 *   backoff and jitter (Retry-After honoured), GIGACHAT_MAX_RETRIES times; 400/404/413/422 do not;
 * - at most GIGACHAT_MAX_CONCURRENCY requests in flight (1 for PERS, 10 for B2B/CORP: GigaChat
 *   answers 429 beyond), waiting callers queue here instead.
 */
@Injectable()
export class GigaChatClient extends LlmClient {
  private readonly logger = new Logger(GigaChatClient.name);
  private readonly settings: GigaChatConfig;
  private readonly http: AxiosInstance;
  private readonly tokens: GigaChatTokenProvider;
  private readonly limiter: Semaphore;

  constructor(config: AppConfig) {
    super();
    this.settings = config.gigachat;
    this.http = createGigaChatHttp(this.settings);
    this.tokens = new GigaChatTokenProvider(this.settings, this.http);
    this.limiter = new Semaphore(this.settings.maxConcurrency);
    if (!this.settings.verifySsl) {
      this.logger.warn({ msg: 'GIGACHAT_VERIFY_SSL=false: TLS certificates of GigaChat are NOT verified' });
    }
  }

  get isConfigured(): boolean {
    return Boolean(this.settings.authKey);
  }

  /** Requests in flight right now (for tests and metrics). */
  get inFlight(): number {
    return this.limiter.inFlight;
  }

  async chat(request: ChatRequest): Promise<ChatCompletion> {
    if (!this.isConfigured) throw new GigaChatNotConfiguredError();
    const body = this.requestBody(request);
    const started = performance.now();
    let attempts = 0;
    let retries = 0;
    let renewedAfter401 = false;

    for (;;) {
      attempts++;
      let failure: GigaChatError;
      try {
        // The token is taken once a slot is ours: on PERS a caller can wait in the queue longer
        // than the minute of margin a cached token has left.
        const { token, response } = await this.limiter.run(async () => {
          const token = await this.tokens.getToken();
          const response = await this.http.post(`${this.settings.apiUrl}/chat/completions`, body, {
            headers: {
              Authorization: `Bearer ${token}`,
              'Content-Type': 'application/json',
              Accept: 'application/json',
              'X-Request-ID': request.requestId,
              ...(this.settings.clientId ? { 'X-Client-ID': this.settings.clientId } : {}),
            },
          });
          return { token, response };
        });
        const requestId = headerOf(response.headers, 'x-request-id') ?? request.requestId;
        if (response.status === 200) {
          return this.toCompletion(response.data as GigaChatResponse, requestId, attempts, performance.now() - started);
        }
        const { message } = errorBodyOf(response.data);
        failure = new GigaChatApiError(response.status, message, requestId, parseRetryAfter(headerOf(response.headers, 'retry-after')));
        if (response.status === 401 && !renewedAfter401) {
          // The token expired or was revoked early: renew once, right away.
          renewedAfter401 = true;
          this.tokens.invalidate(token);
          this.logger.warn({ msg: 'GigaChat rejected the token; renewing', requestId });
          continue;
        }
      } catch (error) {
        failure = isGigaChatError(error) ? error : toNetworkError(error);
      }

      if (!failure.retryable || retries >= this.settings.maxRetries) throw failure;
      retries++;
      const delay = backoffDelay(retries, { baseMs: this.settings.retryBaseMs, maxMs: MAX_BACKOFF_MS }, failure.retryAfterMs);
      this.logger.warn({ msg: 'GigaChat call failed; retrying', requestId: request.requestId, error: failure.message, retry: retries, delayMs: delay });
      await sleep(delay);
    }
  }

  /** The API's rules: at most one system message, and it comes first; content is a string; temperature > 0. */
  private requestBody(request: ChatRequest): Record<string, unknown> {
    const systemIndexes = request.messages.flatMap((m, i) => (m.role === 'system' ? [i] : []));
    if (systemIndexes.length > 1 || (systemIndexes.length === 1 && systemIndexes[0] !== 0)) {
      throw new Error('GigaChat takes exactly one system message, first');
    }
    if (!(request.temperature > 0)) throw new Error('GigaChat temperature must be greater than 0');
    return {
      model: this.settings.model,
      messages: request.messages.map((m) => ({ role: m.role, content: String(m.content) })),
      temperature: request.temperature,
      ...(request.maxTokens ? { max_tokens: request.maxTokens } : {}),
      ...(request.functions?.length ? { functions: request.functions } : {}),
      ...(request.forceFunction ? { function_call: { name: request.forceFunction } } : {}),
      stream: false,
    };
  }

  private toCompletion(data: GigaChatResponse, requestId: string, attempts: number, latencyMs: number): ChatCompletion {
    const choice = data?.choices?.[0];
    const message = choice?.message ?? {};
    const call = message.function_call;
    return {
      content: typeof message.content === 'string' ? message.content : '',
      functionCall: call && typeof call.name === 'string' ? { name: call.name, arguments: call.arguments } : null,
      finishReason: typeof choice?.finish_reason === 'string' ? choice.finish_reason : 'unknown',
      model: typeof data?.model === 'string' ? data.model : this.settings.model,
      usage: usageOf(data?.usage),
      requestId,
      attempts,
      latencyMs: Math.round(latencyMs),
    };
  }
}

function usageOf(usage: GigaChatResponse['usage']): TokenUsage | null {
  if (!usage || typeof usage.prompt_tokens !== 'number') return null;
  const promptTokens = usage.prompt_tokens;
  const completionTokens = typeof usage.completion_tokens === 'number' ? usage.completion_tokens : 0;
  return {
    promptTokens,
    completionTokens,
    totalTokens: typeof usage.total_tokens === 'number' ? usage.total_tokens : promptTokens + completionTokens,
  };
}

function headerOf(headers: unknown, name: string): string | undefined {
  const value = (headers as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : undefined;
}

function isGigaChatError(error: unknown): error is GigaChatError {
  return error instanceof Error && typeof (error as { retryable?: unknown }).retryable === 'boolean';
}
