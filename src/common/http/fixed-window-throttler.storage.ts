import type { ThrottlerStorage } from '@nestjs/throttler';

interface Window {
  hits: number;
  resetAt: number;
}

const SWEEP_EVERY_MS = 60_000;

/**
 * Rate-limit counters in fixed windows: O(1) per request. @nestjs/throttler's default storage keeps
 * one timestamp per request and filters the whole list on every hit, so at a mail provider's volume
 * (thousands of requests a minute from one address) the limiter became the webhook's largest cost,
 * and its `Math.min(...hits)` would overflow the stack past ~100,000 hits in a window.
 */
export class FixedWindowThrottlerStorage implements ThrottlerStorage {
  private readonly windows = new Map<string, Window>();
  private nextSweep = 0;

  async increment(key: string, ttl: number, limit: number, _blockDuration: number, throttlerName: string) {
    const now = Date.now();
    if (now >= this.nextSweep) this.sweep(now);
    const id = `${throttlerName}\u0000${key}`;
    let window = this.windows.get(id);
    if (!window || window.resetAt <= now) {
      window = { hits: 0, resetAt: now + ttl };
      this.windows.set(id, window);
    }
    const isBlocked = window.hits >= limit;
    if (!isBlocked) window.hits++;
    const timeToExpire = Math.max(1, Math.ceil((window.resetAt - now) / 1000));
    return {
      totalHits: isBlocked ? window.hits + 1 : window.hits,
      timeToExpire,
      isBlocked,
      timeToBlockExpire: isBlocked ? timeToExpire : 0,
    };
  }

  private sweep(now: number): void {
    this.nextSweep = now + SWEEP_EVERY_MS;
    for (const [id, window] of this.windows) if (window.resetAt <= now) this.windows.delete(id);
  }
}
