export interface BackoffPolicy {
  /** The first delay; each further attempt doubles it. */
  baseMs: number;
  maxMs: number;
}

/** A server may ask for a longer pause than our own cap, but not for longer than this. */
const MAX_REQUESTED_DELAY_MS = 10 * 60 * 1000;

/**
 * Exponential backoff with jitter: between half and all of base·2^(attempt-1), capped at maxMs.
 * Jitter keeps many clients that failed together from retrying together. A delay the server asked
 * for (Retry-After, Telegram's retry_after) is honoured as given.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, requestedMs?: number, random = Math.random): number {
  if (requestedMs !== undefined) return Math.min(Math.max(0, requestedMs), MAX_REQUESTED_DELAY_MS);
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + (random() * exponential) / 2);
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: unknown, now = Date.now()): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
