import type { Config } from '../config/config.ts';
import type { ParsedCommand } from './args.ts';
import { required, UsageError } from './args.ts';
import { createService } from '../service.ts';
import { createLogger } from '../log.ts';
import { createClient, revokeClientSecret, rotateClientSecret } from '../core/clients.ts';
import { createAccount } from '../core/accounts.ts';
import type { NewSource } from '../core/sources.ts';
import { accountOfSource, connectSource, listSources, removeSource } from '../core/sources.ts';
import { sourceJson } from '../faces/cronofy/serialize.ts';
import { readFileSync } from 'node:fs';
import { runAccountCommand } from './account-commands.ts';
import { createAdminToken, revokeAdminTokens } from '../core/admin-tokens.ts';

/**
 * `sources add`: exactly one of --caldav, --ics and --google-refresh-token-file; a password
 * or refresh token only from a file.
 */
function sourceToAdd(v: ParsedCommand['values']): NewSource {
  const google = v['google-refresh-token-file'];
  const kinds = [v.caldav, v.ics, google].filter((k) => k !== undefined);
  if (kinds.length !== 1) {
    throw new UsageError(
      'give exactly one of --caldav URL, --ics URL and --google-refresh-token-file FILE',
    );
  }
  const interval = v['poll-interval'];
  if (interval !== undefined && !/^\d+$/.test(interval)) {
    throw new UsageError('--poll-interval takes a whole number of seconds');
  }
  const common = {
    accountId: required(v['account-id'], 'account-id'),
    name: v.name,
    pollIntervalSeconds: interval === undefined ? undefined : Number(interval),
  };
  if (v.ics !== undefined) return { ...common, provider: 'ics', url: v.ics };
  if (google !== undefined) {
    const refreshToken = readFileSync(google, 'utf8').trim();
    return { ...common, provider: 'google', refreshToken };
  }
  // Read from a file, never from the command line, where other users could see it.
  const password = readFileSync(required(v['password-file'], 'password-file'), 'utf8');
  return {
    ...common,
    provider: 'caldav',
    url: v.caldav ?? '',
    username: required(v.username, 'username'),
    password: password.replace(/\r?\n$/, ''),
  };
}

function print(json: boolean | undefined, value: Record<string, unknown>, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`);
}

/** The operator commands: they open the same store as `serve`, change it, and exit. */
export async function runAdminCommand(config: Config, parsed: ParsedCommand): Promise<number> {
  const [group, action] = parsed.command;
  const v = parsed.values;
  const service = await createService(config, { logger: createLogger('warn') });
  try {
    const res = service.core;
    switch (`${group} ${action}`) {
      case 'clients create': {
        const c = await createClient(res, required(v.name, 'name'));
        print(
          v.json,
          { client_id: c.clientId, client_secret: c.clientSecret },
          `client_id:     ${c.clientId}\nclient_secret: ${c.clientSecret}`,
        );
        return 0;
      }
      case 'clients rotate-secret': {
        const c = await rotateClientSecret(res, required(v['client-id'], 'client-id'));
        print(
          v.json,
          { client_id: c.clientId, client_secret: c.clientSecret },
          `new client_secret: ${c.clientSecret}\n(both secrets sign until the old one is revoked)`,
        );
        return 0;
      }
      case 'clients revoke-secret': {
        const r = await revokeClientSecret(res, required(v['client-id'], 'client-id'), v.secret);
        print(
          v.json,
          { revoked: r.revoked, remaining: r.remaining },
          `revoked ${r.revoked}, ${r.remaining} active`,
        );
        return 0;
      }
      case 'accounts create': {
        const a = await createAccount(res, {
          clientId: required(v['client-id'], 'client-id'),
          email: required(v.email, 'email'),
          name: v.name,
          timeZone: v['time-zone'],
        });
        print(
          v.json,
          {
            account_id: a.accountId,
            access_token: a.accessToken,
            profile_id: a.profileId,
            calendar_id: a.calendarId,
          },
          `account_id:   ${a.accountId}\naccess_token: ${a.accessToken}\ncalendar_id:  ${a.calendarId}`,
        );
        return 0;
      }
      case 'admin-token create': {
        const token = await createAdminToken(res, v.name ?? 'operator');
        print(v.json, { admin_token: token }, `admin_token: ${token}\n(shown once; stored hashed)`);
        return 0;
      }
      case 'admin-token revoke-all': {
        const revoked = await revokeAdminTokens(res);
        print(v.json, { revoked }, `revoked ${revoked} stored operator token(s)`);
        return 0;
      }
      case 'sources add': {
        const s = await connectSource(res, sourceToAdd(v));
        print(v.json, sourceJson(s), `source_id: ${s.id}\nstate:     ${s.state}`);
        return 0;
      }
      case 'sources list': {
        const sources = await listSources(res, required(v['account-id'], 'account-id'));
        print(
          v.json,
          { sources: sources.map(sourceJson) },
          sources.map((s) => `${s.id}  ${s.provider}  ${s.state}  ${s.url}`).join('\n'),
        );
        return 0;
      }
      case 'sources remove': {
        const sourceId = required(v['source-id'], 'source-id');
        await removeSource(res, await accountOfSource(res, sourceId), sourceId);
        print(v.json, { removed: sourceId }, `removed ${sourceId}`);
        return 0;
      }
      default:
        if (
          group === 'accounts' &&
          (await runAccountCommand(service, parsed, (value, text) => print(v.json, value, text)))
        ) {
          return 0;
        }
        throw new UsageError(`unknown command: ${parsed.command.join(' ')}`);
    }
  } finally {
    await service.stop();
  }
}
