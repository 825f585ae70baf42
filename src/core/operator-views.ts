import type { CoreResources } from './resources.ts';
import { healthOf } from './delivery-log.ts';
import { boundLimit } from '../store/bound-limit.ts';

/** What an operator sees of the installation: clients, accounts, channels, sources. */

export interface ClientSummary {
  readonly clientId: string;
  readonly name: string;
  readonly createdAt: number;
  readonly accounts: number;
}

export async function listClients(res: CoreResources): Promise<ClientSummary[]> {
  const rows = await res.db
    .selectFrom('clients')
    .leftJoin('accounts', 'accounts.client_id', 'clients.id')
    .select((eb) => [
      'clients.id',
      'clients.name',
      'clients.created_at',
      eb.fn.count<number>('accounts.id').as('accounts'),
    ])
    .groupBy(['clients.id', 'clients.name', 'clients.created_at'])
    .orderBy('clients.created_at')
    .limit(boundLimit(1000))
    .execute();
  return rows.map((r) => ({
    clientId: r.id,
    name: r.name,
    createdAt: Number(r.created_at),
    accounts: Number(r.accounts),
  }));
}

export interface AccountSummary {
  readonly accountId: string;
  readonly clientId: string;
  readonly email: string;
  readonly name: string;
  readonly createdAt: number;
}

export async function listAccounts(
  res: CoreResources,
  filter: { readonly clientId?: string | undefined },
): Promise<AccountSummary[]> {
  let query = res.db
    .selectFrom('accounts')
    .select(['id', 'client_id', 'email', 'name', 'created_at']);
  if (filter.clientId !== undefined) query = query.where('client_id', '=', filter.clientId);
  const rows = await query.orderBy('created_at').limit(boundLimit(1000)).execute();
  return rows.map((r) => ({
    accountId: r.id,
    clientId: r.client_id,
    email: r.email,
    name: r.name,
    createdAt: Number(r.created_at),
  }));
}

export interface ChannelSummary {
  readonly id: string;
  readonly publicId: string;
  readonly dialect: string;
  readonly clientId: string;
  readonly accountId: string;
  readonly callbackUrl: string;
  readonly state: 'active' | 'failing' | 'closed';
  readonly closedReason: string | null;
  readonly failingSince: number | null;
  readonly closesAt: number | null;
  readonly lastSuccessAt: number | null;
  readonly createdAt: number;
}

export interface ChannelListFilter {
  readonly clientId?: string | undefined;
  readonly accountId?: string | undefined;
  /** active, failing or closed. */
  readonly state?: 'active' | 'failing' | 'closed' | undefined;
  readonly limit: number;
}

/** Channels newest first, each with its last delivery; failing ones with when they close. */
export async function listChannelSummaries(
  res: CoreResources,
  filter: ChannelListFilter,
): Promise<ChannelSummary[]> {
  let query = res.db.selectFrom('channels').selectAll();
  if (filter.clientId !== undefined) query = query.where('client_id', '=', filter.clientId);
  if (filter.accountId !== undefined) query = query.where('account_id', '=', filter.accountId);
  if (filter.state === 'closed') query = query.where('state', '=', 'closed');
  if (filter.state === 'active') {
    query = query.where('state', '=', 'active').where('failing_since', 'is', null);
  }
  if (filter.state === 'failing') {
    query = query.where('state', '=', 'active').where('failing_since', 'is not', null);
  }
  const rows = await query.orderBy('created_at', 'desc').limit(boundLimit(filter.limit)).execute();
  const lastSuccess = new Map<string, number>();
  if (rows.length > 0) {
    const delivered = await res.db
      .selectFrom('attempts')
      .select((eb) => ['channel_id', eb.fn.max('at').as('at')])
      .where(
        'channel_id',
        'in',
        rows.map((r) => r.id),
      )
      .where('decision', '=', 'delivered')
      .groupBy('channel_id')
      .execute();
    for (const d of delivered) lastSuccess.set(d.channel_id, Number(d.at));
  }
  return rows.map((r) => {
    const failingSince = r.failing_since === null ? null : Number(r.failing_since);
    const health = healthOf(res, { state: r.state, dialect: r.dialect, failingSince });
    return {
      id: r.id,
      publicId: r.public_id,
      dialect: r.dialect,
      clientId: r.client_id,
      accountId: r.account_id,
      callbackUrl: r.callback_url,
      state: health.state,
      closedReason: r.closed_reason,
      failingSince,
      closesAt: health.closesAt,
      lastSuccessAt: lastSuccess.get(r.id) ?? null,
      createdAt: Number(r.created_at),
    };
  });
}

export interface SourceSummary {
  readonly id: string;
  readonly accountId: string;
  readonly provider: string;
  readonly host: string;
  readonly state: string;
  readonly lastPolledAt: number | null;
  readonly lastError: string | null;
}

export async function listSourceSummaries(res: CoreResources): Promise<SourceSummary[]> {
  const rows = await res.db
    .selectFrom('sources')
    .select(['id', 'account_id', 'provider', 'host', 'state', 'last_polled_at', 'last_error'])
    .orderBy('created_at', 'desc')
    .limit(boundLimit(1000))
    .execute();
  return rows.map((r) => ({
    id: r.id,
    accountId: r.account_id,
    provider: r.provider,
    host: r.host,
    state: r.state,
    lastPolledAt: r.last_polled_at === null ? null : Number(r.last_polled_at),
    lastError: r.last_error,
  }));
}
