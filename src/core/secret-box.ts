import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Secrets calpush must read back (a source's password) are sealed with AES-256-GCM under the
 * server's secret key: whoever holds the database or a backup of it without the key learns
 * nothing from them. A sealed value names the key it was sealed under, so a node with
 * another key says so instead of failing obscurely.
 */
export interface SecretBox {
  seal(plain: string): string;
  /** Throws SecretBoxError when the value was sealed under another key or was altered. */
  open(sealed: string): string;
}

export class SecretBoxError extends Error {
  override name = 'SecretBoxError';
}

const VERSION = 'v1';
export const SECRET_KEY_FILE = 'secret.key';

function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 8);
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new SecretBoxError('the secret key must be 32 bytes');
  const id = keyId(key);
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(`${VERSION}.${id}`));
      const body = Buffer.concat([
        cipher.update(plain, 'utf8'),
        cipher.final(),
        cipher.getAuthTag(),
      ]);
      return `${VERSION}.${id}.${iv.toString('base64url')}.${body.toString('base64url')}`;
    },
    open(sealed) {
      const [version, sealedId, ivText, bodyText, extra] = sealed.split('.');
      if (version !== VERSION || !sealedId || !ivText || !bodyText || extra !== undefined) {
        throw new SecretBoxError('not a sealed secret');
      }
      if (sealedId !== id) {
        throw new SecretBoxError(`sealed under key ${sealedId}, but this server's key is ${id}`);
      }
      const body = Buffer.from(bodyText, 'base64url');
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(ivText, 'base64url'));
        decipher.setAAD(Buffer.from(`${VERSION}.${id}`));
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

/**
 * The server's secret key: the configured one (base64 of 32 bytes), or the key file in the
 * data directory, made with mode 0600 at first start. Every node of a cluster needs the same
 * key, so several nodes are given it in configuration.
 */
export function loadSecretKey(configured: string | undefined, dataDir: string): Buffer {
  if (configured) {
    const key = Buffer.from(configured, 'base64');
    if (key.length !== 32) {
      throw new SecretBoxError('CALPUSH_SECRET_KEY must be the base64 of 32 random bytes');
    }
    return key;
  }
  const file = join(dataDir, SECRET_KEY_FILE);
  try {
    return decodeKeyFile(readFileSync(file, 'utf8'), file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  // 'wx': two processes starting at once must not both write a key; the loser reads it.
  try {
    writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return decodeKeyFile(readFileSync(file, 'utf8'), file);
  }
  chmodSync(file, 0o600);
  return key;
}

function decodeKeyFile(text: string, file: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) throw new SecretBoxError(`${file} does not hold a 32-byte key`);
  return key;
}
