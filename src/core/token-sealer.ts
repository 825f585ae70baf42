import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '../store/schema.ts';

/**
 * Page and sync tokens carry their state to the client and back. They are signed with a
 * key kept in the store, so a client cannot forge or alter one, and they survive restarts.
 */
export interface TokenSealer {
  seal(kind: string, payload: unknown): string;
  /** Returns undefined for anything not sealed by us for this kind. */
  open<T>(kind: string, token: string): T | undefined;
}

export async function loadTokenSealer(db: Db): Promise<TokenSealer> {
  await db
    .insertInto('meta')
    .values({ key: 'token_key', value: randomBytes(32).toString('base64') })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const row = await db
    .selectFrom('meta')
    .select('value')
    .where('key', '=', 'token_key')
    .executeTakeFirstOrThrow();
  return createTokenSealer(Buffer.from(row.value, 'base64'));
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
