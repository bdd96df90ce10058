import { ParseUUIDPipe } from '@nestjs/common';
import { AsyncLock, Semaphore } from '../../src/common/async-lock.js';
import { backoffDelay, parseRetryAfter } from '../../src/common/backoff.js';
import { constantTimeEqual } from '../../src/common/constant-time.js';
import { formatEmailAddress, parseEmailAddress } from '../../src/common/email-address.js';
import {
  cleanMessageId,
  deterministicMessageId,
  isOwnMessageId,
  normalizeMessageId,
  ownMessageId,
  parseMessageIdList,
} from '../../src/common/message-id.js';

describe('Message-IDs', () => {
  it.each([
    ['<AbC.123@Mail.Example.COM>', 'AbC.123@mail.example.com'],
    ['  <x@y.ru>  ', 'x@y.ru'],
    ['plain@Host.RU', 'plain@host.ru'],
    ['<with space@host>', 'withspace@host'],
    ['', null],
    ['<>', null],
  ])('normalises %j', (input, expected) => {
    expect(normalizeMessageId(input)).toBe(expected);
  });

  it('reads References as written, in order, without repeats', () => {
    expect(parseMessageIdList('<a@X.ru> <b@y.ru>\r\n <a@x.ru>')).toEqual(['a@X.ru', 'b@y.ru']);
    expect(parseMessageIdList(['<a@x>', '<c@z>'])).toEqual(['a@x', 'c@z']);
    expect(parseMessageIdList('a@x, c@z')).toEqual(['a@x', 'c@z']);
    expect(parseMessageIdList(undefined)).toEqual([]);
  });

  it('keeps the written form apart from the comparable one', () => {
    expect(cleanMessageId(' <AM0PR07MB1234@AM0PR07MB4321.eurprd07.prod.outlook.com> ')).toBe('AM0PR07MB1234@AM0PR07MB4321.eurprd07.prod.outlook.com');
    expect(normalizeMessageId('<AM0PR07MB1234@AM0PR07MB4321.eurprd07.prod.outlook.com>')).toBe('AM0PR07MB1234@am0pr07mb4321.eurprd07.prod.outlook.com');
  });

  it('derives the same id from the same e-mail and a different one from another', () => {
    const mail = { from: 'Ivan@Example.ru', subject: 'Возврат', date: '2026-11-26T09:00:00Z', body: 'Текст' };
    expect(deterministicMessageId(mail)).toBe(deterministicMessageId({ ...mail, from: 'ivan@example.ru' }));
    expect(deterministicMessageId(mail)).not.toBe(deterministicMessageId({ ...mail, body: 'Другой текст' }));
    expect(deterministicMessageId(mail)).not.toBe(deterministicMessageId({ ...mail, date: null }));
    expect(deterministicMessageId(mail)).toMatch(/^[0-9a-f]{40}@generated\.ai-support\.invalid$/);
  });

  it('recognises its own ids only on its own domain', () => {
    const id = ownMessageId('5b0c3a5e-1f7e-4c55-9a61-0f1f9f7d2a10', 'Shop.Example');
    expect(id).toBe('ais-5b0c3a5e-1f7e-4c55-9a61-0f1f9f7d2a10@shop.example');
    expect(isOwnMessageId(id, 'shop.example')).toBe(true);
    expect(isOwnMessageId(id, 'other.example')).toBe(false);
    expect(isOwnMessageId('CAF3x9@shop.example', 'shop.example')).toBe(false);
  });
});

describe('e-mail addresses', () => {
  it.each([
    ['Иван Петров <Ivan@Example.RU>', { address: 'Ivan@example.ru', name: 'Иван Петров' }],
    ['"Petrov, Ivan" <ivan@example.ru>', { address: 'ivan@example.ru', name: 'Petrov, Ivan' }],
    ['<ivan@example.ru>', { address: 'ivan@example.ru', name: undefined }],
    ['ivan@example.ru', { address: 'ivan@example.ru', name: undefined }],
    ['support@localhost', { address: 'support@localhost', name: undefined }],
  ])('parses %s', (input, expected) => {
    expect(parseEmailAddress(input)).toEqual(expected);
  });

  it.each(['', 'Ivan', 'Ivan <not-an-address>', 'a@', '@b.ru', 'two@a.ru three@b.ru'])('refuses %j', (input) => {
    expect(parseEmailAddress(input)).toBeNull();
  });

  it('quotes names that need it', () => {
    expect(formatEmailAddress({ address: 'a@b.ru', name: 'Petrov, Ivan' })).toBe('"Petrov, Ivan" <a@b.ru>');
    expect(formatEmailAddress({ address: 'a@b.ru', name: 'Иван' })).toBe('Иван <a@b.ru>');
    expect(formatEmailAddress({ address: 'a@b.ru' })).toBe('a@b.ru');
  });
});

describe('backoff', () => {
  it('grows exponentially with jitter between half and all of the step, capped', () => {
    const policy = { baseMs: 100, maxMs: 1000 };
    expect(backoffDelay(1, policy, undefined, () => 0)).toBe(50);
    expect(backoffDelay(1, policy, undefined, () => 1)).toBe(100);
    expect(backoffDelay(3, policy, undefined, () => 1)).toBe(400);
    expect(backoffDelay(10, policy, undefined, () => 1)).toBe(1000);
    expect(backoffDelay(10, policy, undefined, () => 0)).toBe(500);
  });

  it('honours a server-requested delay, within reason', () => {
    expect(backoffDelay(1, { baseMs: 100, maxMs: 1000 }, 5000)).toBe(5000);
    expect(backoffDelay(1, { baseMs: 100, maxMs: 1000 }, 0)).toBe(0);
    expect(backoffDelay(1, { baseMs: 100, maxMs: 1000 }, 24 * 3600 * 1000)).toBe(10 * 60 * 1000);
  });

  it('reads Retry-After as seconds or as a date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter('0.5')).toBe(500);
    expect(parseRetryAfter('Thu, 26 Nov 2026 10:00:10 GMT', Date.parse('Thu, 26 Nov 2026 10:00:00 GMT'))).toBe(10_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});

describe('locks', () => {
  it('AsyncLock runs tasks one at a time in call order, surviving failures', async () => {
    const lock = new AsyncLock();
    const log: string[] = [];
    const task = (name: string, ms: number, fail = false) =>
      lock.run(async () => {
        log.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([task('a', 20), task('b', 1, true), task('c', 1)]);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('Semaphore never runs more than its limit at once', async () => {
    const semaphore = new Semaphore(3);
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 12 }, () =>
        semaphore.run(async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((r) => setTimeout(r, 5));
          running--;
        }),
      ),
    );
    expect(peak).toBe(3);
    expect(semaphore.inFlight).toBe(0);
    expect(() => new Semaphore(0)).toThrow(RangeError);
  });

  it('compares secrets by value', () => {
    expect(constantTimeEqual('secret-value', 'secret-value')).toBe(true);
    expect(constantTimeEqual('secret-value', 'secret-valuf')).toBe(false);
    expect(constantTimeEqual('short', 'a-much-longer-secret')).toBe(false);
  });
});

describe('UUID version 7', () => {
  // The generator keeps the last millisecond it used: each test gets a fresh copy of the module.
  async function freshUuidV7(): Promise<(now?: number) => string> {
    vi.resetModules();
    return (await import('../../src/common/uuid-v7.js')).uuidV7;
  }

  it('is an RFC 9562 version 7 UUID carrying the time it was made, accepted by the API', async () => {
    const uuidV7 = await freshUuidV7();
    const at = Date.UTC(2026, 10, 26, 12, 0, 0, 123);
    const id = uuidV7(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
    // The pipe GET /api/tickets/:id validates its parameter with.
    await expect(new ParseUUIDPipe().transform(id, { type: 'param', data: 'id' })).resolves.toBe(id);
  });

  it('sorts in the order made, within one millisecond and when the clock steps back', async () => {
    const uuidV7 = await freshUuidV7();
    const at = Date.UTC(2030, 0, 1);
    // 10,000 ids in one millisecond overflow the 12-bit sequence: the next millisecond is borrowed.
    const ids = [...Array.from({ length: 10_000 }, () => uuidV7(at)), uuidV7(at - 5_000), uuidV7(at + 60_000)];
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });
});
