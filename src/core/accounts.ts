import type { CoreResources } from './resources.ts';
import { CoreError } from './errors.ts';
import { hashToken, newId, newSecret } from './ids.ts';
import { defaultSettings } from './settings-defaults.ts';
import { prepared } from '../store/prepared.ts';

export interface NewAccount {
  readonly accountId: string;
  readonly accessToken: string;
  readonly profileId: string;
  readonly calendarId: string;
}

export interface AccountInput {
  readonly clientId: string;
  readonly email: string;
  readonly name?: string | undefined;
  readonly timeZone?: string | undefined;
}

/** An account comes with a local profile and a default calendar, ready to receive events. */
export async function createAccount(res: CoreResources, input: AccountInput): Promise<NewAccount> {
  const now = res.clock.now();
  const accountId = newId('acc');
  const profileId = newId('pro');
  const calendarId = newId('cal');
  const accessToken = newSecret('tok');
  const timeZone = input.timeZone ?? 'Etc/UTC';
  await res.write(async (trx) => {
    const client = await trx
      .selectFrom('clients')
      .select('id')
      .where('id', '=', input.clientId)
      .executeTakeFirst();
    if (!client) {
      throw new CoreError('not_found', `no client ${input.clientId}`, { field: 'client_id' });
    }
    await trx
      .insertInto('accounts')
      .values({
        id: accountId,
        client_id: input.clientId,
        email: input.email,
        name: input.name ?? input.email,
        time_zone: timeZone,
        created_at: now,
      })
      .execute();
    await trx
      .insertInto('access_tokens')
      .values({ token_hash: hashToken(accessToken), account_id: accountId, created_at: now })
      .execute();
    await trx
      .insertInto('profiles')
      .values({
        id: profileId,
        account_id: accountId,
        provider_name: 'calpush',
        name: input.email,
        connected: 1,
        created_at: now,
      })
      .execute();
    await trx
      .insertInto('calendars')
      .values({
        id: calendarId,
        account_id: accountId,
        profile_id: profileId,
        name: input.email,
        description: null,
        location: null,
        time_zone: timeZone,
        color: null,
        is_primary: 1,
        readonly: 0,
        deleted: 0,
        created_at: now,
        updated_at: now,
        change_seq: 0,
      })
      .execute();
    await trx
      .insertInto('settings')
      .values(
        Object.entries(defaultSettings(timeZone)).map(([id, value]) => ({
          account_id: accountId,
          id,
          value,
          change_seq: 0,
        })),
      )
      .execute();
  });
  return { accountId, accessToken, profileId, calendarId };
}

/** Who a bearer token speaks for. */
export interface Principal {
  readonly accountId: string;
  readonly clientId: string;
  /** Which of the account's tokens it is (as stored: hashed), for channels made with it. */
  readonly tokenHash: string;
}

const principalByTokenHash = prepared((db, tokenHash: string) =>
  db
    .selectFrom('access_tokens')
    .innerJoin('accounts', 'accounts.id', 'access_tokens.account_id')
    .select([
      'accounts.id as accountId',
      'accounts.client_id as clientId',
      'access_tokens.token_hash as tokenHash',
    ])
    .where('access_tokens.token_hash', '=', tokenHash),
);

export async function authenticate(
  res: CoreResources,
  bearer: string | undefined,
): Promise<Principal> {
  if (!bearer) throw new CoreError('unauthorized', 'missing bearer token');
  const tokenHash = hashToken(bearer);
  const now = res.clock.now();
  const cache = res.principals;
  const known = await cache?.get(tokenHash, now);
  if (known) return known;
  const generation = cache?.generation ?? 0;
  const [row] = (await principalByTokenHash(res.db, tokenHash)).rows;
  if (!row) throw new CoreError('unauthorized', 'invalid or revoked access token');
  cache?.set(tokenHash, row, generation);
  return row;
}

export interface AccountView {
  readonly id: string;
  readonly clientId: string;
  readonly email: string;
  readonly name: string;
  readonly timeZone: string;
  readonly profiles: readonly {
    id: string;
    providerName: string;
    name: string;
    connected: boolean;
  }[];
}

const accountById = prepared((db, accountId: string) =>
  db.selectFrom('accounts').selectAll().where('id', '=', accountId),
);

const profilesOfAccount = prepared((db, accountId: string) =>
  db.selectFrom('profiles').selectAll().where('account_id', '=', accountId).orderBy('created_at'),
);

export async function getAccount(res: CoreResources, accountId: string): Promise<AccountView> {
  const [account] = (await accountById(res.db, accountId)).rows;
  if (!account) throw new CoreError('not_found', `no account ${accountId}`);
  const profiles = (await profilesOfAccount(res.db, accountId)).rows;
  return {
    id: account.id,
    clientId: account.client_id,
    email: account.email,
    name: account.name,
    timeZone: account.time_zone,
    profiles: profiles.map((p) => ({
      id: p.id,
      providerName: p.provider_name,
      name: p.name,
      connected: p.connected === 1,
    })),
  };
}
