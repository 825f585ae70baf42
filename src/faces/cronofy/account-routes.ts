import { Hono } from 'hono';
import type { CoreResources } from '../../core/resources.ts';
import type { CronofyEnv } from './context.ts';
import { getAccount } from '../../core/accounts.ts';
import { listCalendars } from '../../core/calendars.ts';
import { listSources } from '../../core/sources.ts';
import { calendarJson } from './serialize.ts';

/** `/v1/userinfo`, `/v1/profiles` and `/v1/account`: who the token speaks for. */
export function accountRoutes(res: CoreResources) {
  const app = new Hono<CronofyEnv>();

  const profilesOf = async (accountId: string) => {
    const account = await getAccount(res, accountId);
    const calendars = await listCalendars(res, accountId);
    const sources = new Map((await listSources(res, accountId)).map((s) => [s.profileId, s]));
    // A removed source's profile stays behind its deleted calendars, but is not listed.
    const listed = account.profiles.filter(
      (p) => p.providerName === 'calpush' || sources.has(p.id),
    );
    return {
      account,
      profiles: listed.map((p) => ({
        provider_name: p.providerName,
        profile_id: p.id,
        profile_name: p.name,
        profile_connected: p.connected,
        profile_initial_sync_required: sources.get(p.id)?.synced === false,
        profile_calendars: calendars
          .filter((cal) => cal.profile_id === p.id)
          .map((cal) => calendarJson(cal, p)),
      })),
    };
  };

  app.get('/userinfo', async (c) => {
    const { account, profiles } = await profilesOf(c.get('principal').accountId);
    return c.json({
      sub: account.id,
      email: account.email,
      email_verified: false,
      name: account.name,
      zoneinfo: account.timeZone,
      'cronofy.type': 'account',
      'cronofy.data': {
        authorization: { scope: 'read_write', status: 'active' },
        profiles,
        conferencing_profiles: [],
      },
    });
  });

  app.get('/profiles', async (c) => {
    const { profiles } = await profilesOf(c.get('principal').accountId);
    return c.json({
      profiles: profiles.map(({ profile_calendars: _calendars, ...p }) => p),
    });
  });

  app.get('/account', async (c) => {
    const account = await getAccount(res, c.get('principal').accountId);
    return c.json({
      account: {
        account_id: account.id,
        email: account.email,
        name: account.name,
        scope: 'read_write',
        default_tzid: account.timeZone,
      },
    });
  });

  return app;
}
