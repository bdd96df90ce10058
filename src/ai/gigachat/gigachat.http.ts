import http from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import axios, { type AxiosInstance, isAxiosError } from 'axios';
import type { GigaChatConfig } from '../../config/app-config.js';
import { GigaChatNetworkError } from './gigachat.errors.js';

/**
 * One axios instance for both GigaChat hosts (OAuth and API), with keep-alive agents and the
 * configured trust: GIGACHAT_CA_BUNDLE is added to Node's roots (the real endpoints are signed by
 * the Russian Trusted Root CA), scoped to these calls only. Non-2xx answers are returned, not
 * thrown, so the client can read the provider's error body.
 */
export function createGigaChatHttp(config: GigaChatConfig): AxiosInstance {
  return axios.create({
    timeout: config.timeoutMs,
    httpAgent: new http.Agent({ keepAlive: true, maxSockets: Math.max(config.maxConcurrency, 1) + 2 }),
    httpsAgent: new https.Agent({
      keepAlive: true,
      maxSockets: Math.max(config.maxConcurrency, 1) + 2,
      ca: config.caBundle ? [...rootCertificates, config.caBundle] : undefined,
      rejectUnauthorized: config.verifySsl,
    }),
    validateStatus: () => true,
    // The bodies we read are small JSON; never follow redirects to somewhere else with our token.
    maxRedirects: 0,
    headers: { 'User-Agent': 'ai-support' },
  });
}

/** A transport failure (no HTTP answer) as a typed, token-free error. */
export function toNetworkError(error: unknown): GigaChatNetworkError {
  if (isAxiosError(error)) {
    const code = error.code ?? 'ERR_NETWORK';
    const detail = code === 'ECONNABORTED' || code === 'ETIMEDOUT' ? 'request timed out' : (error.cause as Error | undefined)?.message ?? error.message;
    return new GigaChatNetworkError(code, detail);
  }
  return new GigaChatNetworkError('ERR_UNKNOWN', error instanceof Error ? error.message : String(error));
}

/** Reads `message` (and `code`) from an error body that may be JSON, text or empty. */
export function errorBodyOf(data: unknown): { message: string; code: number | null } {
  if (data && typeof data === 'object') {
    const body = data as { message?: unknown; code?: unknown; status?: unknown };
    return {
      message: typeof body.message === 'string' ? body.message : JSON.stringify(body).slice(0, 300),
      code: typeof body.code === 'number' ? body.code : null,
    };
  }
  if (typeof data === 'string' && data.trim()) {
    try {
      return errorBodyOf(JSON.parse(data));
    } catch {
      return { message: data.trim().slice(0, 300), code: null };
    }
  }
  return { message: 'no message', code: null };
}
