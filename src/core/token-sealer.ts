import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '../store/schema.ts';
import type { SecretBox } from './secret-box.ts';
import { SecretBoxError } from './secret-box.ts';

/**
 * Page and sync tokens carry their state to the client and back. They are signed with a
 * key kept in the store (sealed under the server's secret key), so a client cannot forge or
 * alter one, and they survive restarts.
 */
export interface TokenSealer {
  seal(kind: string, payload: unknown): string;
  /** Returns undefined for anything not sealed by us for this kind. */
  open<T>(kind: string, token: string): T | undefined;
}

export const TOKEN_KEY = 'sealed_token_key';

/**
 * The store's token key, made at first start. It is the first sealed value a server opens:
 * one started with the wrong secret key stops here, saying so, rather than failing every
 * signature and every page token later.
 */
export async function loadTokenSealer(db: Db, box: SecretBox): Promise<TokenSealer> {
  await db
    .insertInto('meta')
    .values({ key: TOKEN_KEY, value: box.seal(randomBytes(32).toString('base64')) })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const row = await db
    .selectFrom('meta')
    .select('value')
    .where('key', '=', TOKEN_KEY)
    .executeTakeFirstOrThrow();
  let key: string;
  try {
    key = box.open(row.value);
  } catch (err) {
    if (!(err instanceof SecretBoxError)) throw err;
    throw new SecretBoxError(
      `cannot read the store's secrets: ${err.message}. Start calpush with the secret key ` +
        'this store was sealed under (CALPUSH_SECRET_KEY, or secret.key in the data directory); ' +
        'if it is lost, `calpush keys rotate --drop-unreadable` drops what it sealed',
    );
  }
  return createTokenSealer(Buffer.from(key, 'base64'));
}

export function createTokenSealer(key: Buffer): TokenSealer {
  const mac = (kind: string, body: string) =>
    createHmac('sha256', key).update(kind).update('.').update(body).digest().subarray(0, 16);
  return {
    seal(kind, payload) {
      const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
      return `${body}.${mac(kind, body).toString('base64url')}`;
    },
    open<T>(kind: string, token: string): T | undefined {
      const [body, signature, extra] = token.split('.');
      if (!body || !signature || extra !== undefined) return undefined;
      const given = Buffer.from(signature, 'base64url');
      const expected = mac(kind, body);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
      try {
        return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as T;
      } catch {
        return undefined;
      }
    },
  };
}
