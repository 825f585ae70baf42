import { createHash, randomBytes, randomFillSync } from 'node:crypto';

const base32hex = '0123456789abcdefghijklmnopqrstuv';

/**
 * Random bytes are drawn from the system a page at a time: one call per id cost more than
 * the rest of building it, and ids are made on every event write.
 */
const pool = Buffer.alloc(4096);
let poolUsed = pool.length;

/** Random lowercase base32hex: valid as a Google event id and safe in any URL segment. */
export function randomBase32(length: number): string {
  if (length > pool.length) throw new RangeError('id too long');
  if (poolUsed + length > pool.length) {
    randomFillSync(pool);
    poolUsed = 0;
  }
  let out = '';
  for (let i = poolUsed; i < poolUsed + length; i++) out += base32hex[(pool[i] ?? 0) & 31];
  // Each byte is used once: the next id never shares randomness with this one.
  poolUsed += length;
  return out;
}

/** The first `length` characters of a digest as base32hex: an id derived, not drawn. */
export function digestBase32(digest: Uint8Array, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += base32hex[(digest[i] ?? 0) & 31];
  return out;
}

export function newId(prefix: string): string {
  return `${prefix}_${randomBase32(20)}`;
}

const TIME_LIMIT = 2 ** 45;

/** `ms` as 9 base32hex digits (45 bits, until the year 3084): sorts as the time does. */
function timeBase32(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`not a time: ${ms}`);
  let out = '';
  // Clamped, not wrapped: a time past the range must not sort before earlier ones.
  let rest = Math.min(Math.max(0, Math.floor(ms)), TIME_LIMIT - 1);
  for (let i = 0; i < 9; i++) {
    out = base32hex[rest % 32] + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

/**
 * Event ids serve both faces, so they follow Google's alphabet: no underscore. They start
 * with their creation time, so a calendar's new events land at the end of its id index
 * instead of on a random page of it: a store with more events than its page cache holds
 * would otherwise read a page back from the file for almost every new event. The 14 random
 * characters (70 bits) keep ids unguessable and distinct within a millisecond.
 */
export function newEventUid(now: number): string {
  return `evt${timeBase32(now)}${randomBase32(14)}`;
}

export function newSecret(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
