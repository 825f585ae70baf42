import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { SecretBoxError } from './secret-box.ts';
import { narrowFile, privateDir } from '../store/private-files.ts';

export const SECRET_KEY_FILE = 'secret.key';
/**
 * The key a rotation re-seals under, written before anything is sealed under it and renamed
 * over `secret.key` once everything is: while it exists, a server opens values under it too.
 */
export const NEXT_KEY_FILE = 'secret.key.next';

export interface SecretKeys {
  /** The sealing key first; a value sealed under any of them can be opened. */
  readonly keys: readonly Buffer[];
  /** From configuration (CALPUSH_SECRET_KEY) or from the key file in the data directory. */
  readonly source: 'config' | 'file';
  /** A key file rotation was interrupted: `calpush keys rotate` finishes it. */
  readonly rotationPending: boolean;
}

function decodeKey(text: string, where: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) throw new SecretBoxError(`${where} must be the base64 of 32 random bytes`);
  return key;
}

/**
 * The server's secret keys. Configured (`CALPUSH_SECRET_KEY`, comma-separated): the first
 * seals, the others are still accepted, which is how several nodes switch keys without a
 * moment where one of them cannot read what another sealed. Otherwise the key file in the
 * data directory, made 0600 at first start, plus the next key of a rotation under way.
 */
export function loadSecretKeys(configured: string | undefined, dataDir: string): SecretKeys {
  if (configured) {
    const keys = configured
      .split(',')
      .map((k) => k.trim())
      .filter((k) => k !== '')
      .map((k) => decodeKey(k, 'CALPUSH_SECRET_KEY'));
    if (keys.length === 0) throw new SecretBoxError('CALPUSH_SECRET_KEY holds no key');
    return { keys, source: 'config', rotationPending: false };
  }
  privateDir(dataDir);
  const current = readOrCreateKeyFile(join(dataDir, SECRET_KEY_FILE));
  const next = readKeyFile(join(dataDir, NEXT_KEY_FILE));
  return {
    keys: next ? [current, next] : [current],
    source: 'file',
    rotationPending: next !== undefined,
  };
}

function readKeyFile(file: string): Buffer | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  narrowFile(file);
  return decodeKey(text, file);
}

function readOrCreateKeyFile(file: string): Buffer {
  const existing = readKeyFile(file);
  if (existing) return existing;
  const key = randomBytes(32);
  // 'wx': two processes starting at once must not both write a key; the loser reads it.
  try {
    writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return decodeKey(readFileSync(file, 'utf8'), file);
  }
  narrowFile(file);
  return key;
}

/**
 * First step of a key file rotation: the new key, on disk and synced before anything is
 * sealed under it. An interrupted rotation's next key is taken up again, not replaced:
 * values may already be sealed under it.
 */
export function stageNextKey(dataDir: string): Buffer {
  const file = join(dataDir, NEXT_KEY_FILE);
  const staged = readKeyFile(file);
  if (staged) return staged;
  const key = randomBytes(32);
  // Written aside and renamed: the next key file is whole or absent, never half written.
  const aside = `${file}.tmp`;
  const fd = openSync(aside, 'w', 0o600);
  try {
    writeFileSync(fd, `${key.toString('base64')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  narrowFile(aside);
  renameSync(aside, file);
  syncDir(dataDir);
  return key;
}

/** Last step: the next key replaces the old one, which is gone for good. */
export function promoteNextKey(dataDir: string): void {
  renameSync(join(dataDir, NEXT_KEY_FILE), join(dataDir, SECRET_KEY_FILE));
  syncDir(dataDir);
}

/** A rename is durable once its directory is synced. */
function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
