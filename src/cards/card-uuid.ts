/**
 * The uuids of cards and suggestions: UUID version 7 (RFC 9562), the time in milliseconds in the first
 * 48 bits and 74 random bits after it. The ledger keys its rows by them, and time-ordered keys go to
 * the end of their indexes: random ones (version 4) went anywhere, so that every insert touched some
 * page of the index and cost more as the ledger grew (bench/README.md, "The ledger's keys"). The
 * time a uuid shows is when its card was issued, which the EHR that received the card knows.
 */
import { randomFillSync } from 'node:crypto';

/** Random bytes for 256 uuids, drawn at once (as `crypto.randomUUID` does). */
const pool = Buffer.alloc(16 * 256);
let used = pool.length;
const hex = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

export function timeOrderedUuid(): string {
  if (used === pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const at = used;
  used += 16;
  const ms = Date.now();
  const high = Math.floor(ms / 0x1_0000_0000);
  const low = ms >>> 0;
  const byte = (i: number) => pool[at + i] as number;
  const random = (i: number) => hex[byte(i)];
  return (
    `${hex[(high >>> 8) & 0xff]}${hex[high & 0xff]}${hex[low >>> 24]}${hex[(low >>> 16) & 0xff]}-` +
    `${hex[(low >>> 8) & 0xff]}${hex[low & 0xff]}-` +
    `7${(byte(0) & 0x0f).toString(16)}${random(1)}-` +
    `${hex[(byte(2) & 0x3f) | 0x80]}${random(3)}-` +
    `${random(4)}${random(5)}${random(6)}${random(7)}${random(8)}${random(9)}`
  );
}
