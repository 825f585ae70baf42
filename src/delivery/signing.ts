import { createHmac } from 'node:crypto';

/** Cronofy-HMAC-SHA256: one Base64 HMAC of the exact body bytes per active secret. */
export function hmacHeader(body: string, secrets: readonly string[]): string {
  return secrets.map((s) => createHmac('sha256', s).update(body).digest('base64')).join(',');
}
