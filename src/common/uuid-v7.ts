import { randomFillSync } from 'node:crypto';

/** Random bytes drawn 4 KB at a time: one system call per 256 ids instead of one per id. */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;
let lastMs = -1;
let sequence = 0;

function randomBytes16(): Buffer {
  if (poolOffset + 16 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  // A view, not a copy: each 16 bytes are handed out once and read before the pool refills.
  const bytes = pool.subarray(poolOffset, poolOffset + 16);
  poolOffset += 16;
  return bytes;
}

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then a 12-bit sequence, then 62
 * random bits. Ticket and message ids are the primary keys of tables that only grow: random
 * (version 4) keys land on a random page of every index that holds them, so each stored e-mail
 * dirtied a page per index that the commit then had to write whole; ids in time order all land on
 * the last page. The sequence (method 1 of the RFC) keeps ids made in one millisecond in order,
 * and a clock that steps back never reorders them. Unguessable enough for ids (they are not
 * secrets; the APIs that take them are authenticated).
 */
export function uuidV7(now: number = Date.now()): string {
  const bytes = randomBytes16();
  if (now > lastMs) {
    lastMs = now;
    // Start anywhere in the lower half, leaving room to count up within the millisecond.
    sequence = bytes.readUInt16BE(6) & 0x7ff;
  } else if (++sequence > 0xfff) {
    // 4,096 ids in one millisecond: borrow the next one rather than wrap around.
    lastMs += 1;
    sequence = 0;
  }
  bytes.writeUIntBE(lastMs, 0, 6);
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
