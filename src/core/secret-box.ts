import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { SecretOpener, SecretSealer } from '../domain/secrets.ts';

/**
 * Secrets calpush must read back (client secrets, channel tokens, source passwords, the page
 * and sync token key) are sealed with AES-256-GCM under the server's secret key: whoever
 * holds the database or a backup of it without the key learns nothing from them. A sealed
 * value names the key it was sealed under, so a server holding several keys (during a
 * rotation) opens each with its own, and one with another key says so instead of failing
 * obscurely.
 */
export interface SecretBox extends SecretSealer, SecretOpener {
  /** The key new values are sealed under. */
  readonly keyId: string;
  /** Every key a value may be opened with, the sealing one first. */
  readonly keyIds: readonly string[];
  /** The key a sealed value names, or undefined for anything that is not a sealed value. */
  keyIdOf(sealed: string): string | undefined;
}

export class SecretBoxError extends Error {
  override name = 'SecretBoxError';
}

const VERSION = 'v1';

/** A key's short public name: what sealed values carry, never enough to find the key. */
export function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 8);
}

interface SealedParts {
  readonly id: string;
  readonly iv: Buffer;
  readonly body: Buffer;
}

function partsOf(sealed: string): SealedParts | undefined {
  const [version, id, ivText, bodyText, extra] = sealed.split('.');
  if (version !== VERSION || !id || !ivText || !bodyText || extra !== undefined) return undefined;
  return { id, iv: Buffer.from(ivText, 'base64url'), body: Buffer.from(bodyText, 'base64url') };
}

/** Seals under the first key; opens a value under whichever of the keys it names. */
export function createSecretBox(keyOrKeys: Buffer | readonly Buffer[]): SecretBox {
  const keys = Buffer.isBuffer(keyOrKeys) ? [keyOrKeys] : keyOrKeys;
  const [sealing] = keys;
  if (!sealing) throw new SecretBoxError('no secret key');
  if (keys.some((k) => k.length !== 32)) throw new SecretBoxError('a secret key must be 32 bytes');
  const byId = new Map(keys.map((k) => [keyId(k), k]));
  const id = keyId(sealing);
  return {
    keyId: id,
    keyIds: [...byId.keys()],
    keyIdOf: (sealed) => partsOf(sealed)?.id,
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', sealing, iv);
      cipher.setAAD(Buffer.from(`${VERSION}.${id}`));
      const body = Buffer.concat([
        cipher.update(plain, 'utf8'),
        cipher.final(),
        cipher.getAuthTag(),
      ]);
      return `${VERSION}.${id}.${iv.toString('base64url')}.${body.toString('base64url')}`;
    },
    open(sealed) {
      const parts = partsOf(sealed);
      if (!parts) throw new SecretBoxError('not a sealed secret');
      const key = byId.get(parts.id);
      if (!key) {
        const held = [...byId.keys()];
        throw new SecretBoxError(
          `sealed under key ${parts.id}, but this server's ${held.length > 1 ? 'keys are' : 'key is'} ${held.join(', ')}`,
        );
      }
      const { iv, body } = parts;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv);
        decipher.setAAD(Buffer.from(`${VERSION}.${parts.id}`));
        decipher.setAuthTag(body.subarray(body.length - 16));
        return Buffer.concat([
          decipher.update(body.subarray(0, body.length - 16)),
          decipher.final(),
        ]).toString('utf8');
      } catch {
        throw new SecretBoxError('the sealed secret was altered');
      }
    },
  };
}
