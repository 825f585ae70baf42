import { sameTextAnyLength } from '../domain/same-text.ts';
import type { CoreResources } from './resources.ts';
import { CoreError } from './errors.ts';
import { newId, newSecret } from './ids.ts';
import { SecretBoxError } from './secret-box.ts';

export interface ClientCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
}

export async function createClient(res: CoreResources, name: string): Promise<ClientCredentials> {
  const now = res.clock.now();
  const clientId = newId('cli');
  const clientSecret = newSecret('sec');
  await res.write(async (trx) => {
    await trx.insertInto('clients').values({ id: clientId, name, created_at: now }).execute();
    await trx
      .insertInto('client_secrets')
      .values({
        client_id: clientId,
        sealed_secret: res.secrets.seal(clientSecret),
        created_at: now,
      })
      .execute();
  });
  return { clientId, clientSecret };
}

async function requireClient(res: CoreResources, clientId: string): Promise<void> {
  const row = await res.db
    .selectFrom('clients')
    .select('id')
    .where('id', '=', clientId)
    .executeTakeFirst();
  if (!row) throw new CoreError('not_found', `no client ${clientId}`, { field: 'client_id' });
}

/** Adds a secret; every active secret signs notifications until the old one is revoked. */
export async function rotateClientSecret(
  res: CoreResources,
  clientId: string,
): Promise<ClientCredentials> {
  await requireClient(res, clientId);
  const clientSecret = newSecret('sec');
  await res.db
    .insertInto('client_secrets')
    .values({
      client_id: clientId,
      sealed_secret: res.secrets.seal(clientSecret),
      created_at: res.clock.now(),
    })
    .execute();
  return { clientId, clientSecret };
}

/**
 * Removes one secret, or with none named every secret but the newest. The last secret can
 * never be removed: a client without a secret could not sign anything.
 */
export async function revokeClientSecret(
  res: CoreResources,
  clientId: string,
  secret?: string,
): Promise<{ readonly revoked: number; readonly remaining: number }> {
  await requireClient(res, clientId);
  return res.write(async (trx) => {
    const secrets = await trx
      .selectFrom('client_secrets')
      .select(['id', 'sealed_secret'])
      .where('client_id', '=', clientId)
      .orderBy('id')
      .execute();
    const doomed = secret
      ? secrets.filter((s) => sameSecret(openedOrNull(res, s.sealed_secret), secret))
      : secrets.slice(0, Math.max(0, secrets.length - 1));
    if (secret && doomed.length === 0) {
      throw new CoreError('not_found', 'that secret is not active for this client', {
        field: 'secret',
      });
    }
    if (doomed.length >= secrets.length) {
      throw new CoreError('invalid', 'cannot revoke the only active secret; rotate first', {
        field: 'secret',
      });
    }
    if (doomed.length > 0) {
      await trx
        .deleteFrom('client_secrets')
        .where(
          'id',
          'in',
          doomed.map((s) => s.id),
        )
        .execute();
    }
    return { revoked: doomed.length, remaining: secrets.length - doomed.length };
  });
}

/** A stored secret opened, or null if this server cannot (sealed under a key it lacks). */
function openedOrNull(res: CoreResources, sealed: string): string | null {
  try {
    return res.secrets.open(sealed);
  } catch (err) {
    if (err instanceof SecretBoxError) return null;
    throw err;
  }
}

/** Compared in constant time: the secret given may be a guess. */
function sameSecret(stored: string | null, given: string): boolean {
  return stored !== null && sameTextAnyLength(stored, given);
}

/**
 * Checks a client's id and secret, as an application authenticates itself (OAuth token
 * revocation). Any active secret will do; a wrong pair is `unauthorized`, whichever half.
 */
export async function authenticateClient(
  res: CoreResources,
  clientId: string,
  secret: string,
): Promise<void> {
  const rows = await res.db
    .selectFrom('client_secrets')
    .select('sealed_secret')
    .where('client_id', '=', clientId)
    .execute();
  // Every secret is compared, so the time taken says nothing of which one matched.
  let matched = false;
  for (const row of rows) {
    if (sameSecret(openedOrNull(res, row.sealed_secret), secret)) matched = true;
  }
  if (!matched) throw new CoreError('unauthorized', 'unknown client or wrong client secret');
}
