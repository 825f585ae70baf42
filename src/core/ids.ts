import { createHash, randomBytes } from 'node:crypto';

const base32hex = '0123456789abcdefghijklmnopqrstuv';

/** Random lowercase base32hex: valid as a Google event id and safe in any URL segment. */
export function randomBase32(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += base32hex[byte & 31];
  return out;
}

export function newId(prefix: string): string {
  return `${prefix}_${randomBase32(20)}`;
}

/** Event ids serve both faces, so they follow Google's alphabet: no underscore. */
export function newEventUid(): string {
  return `evt${randomBase32(23)}`;
}

export function newSecret(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
