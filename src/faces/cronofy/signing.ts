import { createHmac, createSecretKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/** Keys already imported; a client has one or two live secrets, so this stays small. */
const keys = new Map<string, KeyObject>();
const MAX_KEYS = 4096;

/** An HMAC from an imported key skips parsing the secret on every request (a fifth of it). */
function keyOf(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) {
    if (keys.size >= MAX_KEYS) keys.clear();
    key = createSecretKey(Buffer.from(secret, 'utf8'));
    keys.set(secret, key);
  }
  return key;
}

/** Cronofy-HMAC-SHA256: one Base64 HMAC of the exact body bytes per active secret. */
export function hmacHeader(body: string | Buffer, secrets: readonly string[]): string {
  return secrets.map((s) => createHmac('sha256', keyOf(s)).update(body).digest('base64')).join(',');
}
