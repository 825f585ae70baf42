import type { Config } from '../config/config.ts';
import type { ParsedCommand } from './args.ts';
import { required, UsageError } from './args.ts';
import { createService } from '../service.ts';
import { createLogger } from '../log.ts';
import { createClient, revokeClientSecret, rotateClientSecret } from '../core/clients.ts';
import { createAccount } from '../core/accounts.ts';

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
      default:
        throw new UsageError(`unknown command: ${parsed.command.join(' ')}`);
    }
  } finally {
    await service.stop();
  }
}
