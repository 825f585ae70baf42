import { parseArgs } from 'node:util';
import type { ConfigOverrides } from '../config/config.ts';

export class UsageError extends Error {
  override name = 'UsageError';
}

export const usage = `Usage: calpush <command> [options]

Commands:
  serve                          serve both API faces and deliver notifications
  clients create --name NAME     create an application (client id and secret)
  clients rotate-secret --client-id ID
                                 add a secret; every active secret signs until revoked
  clients revoke-secret --client-id ID [--secret SECRET]
                                 remove a secret (default: all but the newest)
  accounts create --client-id ID --email EMAIL [--name NAME] [--time-zone TZ]
                                 create an account with a calendar and an access token
  accounts issue-token --account-id ID
                                 add an access token (to replace one before revoking it)
  accounts revoke-token (--token-file FILE | --account-id ID)
                                 revoke one token, or every token of the account; an
                                 account left with none has its channels closed
  accounts delete --account-id ID [--wait SECONDS]
                                 tell the account's Cronofy channels (gdpr_requested), wait
                                 for delivery (default 30 s), then erase every row of it
  sources add --account-id ID (--caldav URL --username USER --password-file FILE | --ics URL
              | --google-refresh-token-file FILE) [--name NAME] [--poll-interval SECONDS]
                                 mirror a CalDAV server's, an ICS feed's or a Google
                                 account's calendars
  sources list --account-id ID   list an account's sources
  sources remove --source-id ID  remove a source, its calendars and their events
  admin-token create [--name NAME]
                                 make an operator token for /admin/v1 and /dashboard
                                 (stored hashed, shown once); CALPUSH_ADMIN_TOKEN also opens
  admin-token revoke-all         remove every stored operator token
  store copy --from DIR --to URL copy a stopped SQLite installation into an empty PostgreSQL
                                 database (the way to move to several nodes)
  listen --server URL --token TOKEN [--dev | --public-url URL] [--forward-to URL]
         [--dialect cronofy|google] [--calendar ID] [--secret SECRET] [--port N]
                                 a developer's receiver: opens a channel on the server
                                 pointing at 127.0.0.1 (--dev: the server must run
                                 \`serve --dev\`), prints and checks every notification,
                                 forwards it unchanged; Ctrl-C closes the channel
  keys rotate [--drop-unreadable]
                                 seal every stored secret again under a new key: with the
                                 key file, a new one replaces it (stop calpush first); with
                                 CALPUSH_SECRET_KEY=NEW,OLD, under its first key. With a
                                 key lost, --drop-unreadable removes what none can open

Options (every command):
  --data DIR             SQLite data directory (default ./data)
  --database-url URL     use PostgreSQL instead of SQLite
  --json                 print machine-readable JSON
Options (serve):
  --host HOST            listen address (default 127.0.0.1)
  --port N               listen port (default 8080)
  --public-url URL       base URL clients reach this server at
  --dev                  allow http and private callback addresses (for local testing)
`;

const options = {
  data: { type: 'string' },
  'database-url': { type: 'string' },
  json: { type: 'boolean' },
  host: { type: 'string' },
  port: { type: 'string' },
  'public-url': { type: 'string' },
  dev: { type: 'boolean' },
  name: { type: 'string' },
  email: { type: 'string' },
  'client-id': { type: 'string' },
  secret: { type: 'string' },
  'time-zone': { type: 'string' },
  'account-id': { type: 'string' },
  'source-id': { type: 'string' },
  caldav: { type: 'string' },
  ics: { type: 'string' },
  username: { type: 'string' },
  'password-file': { type: 'string' },
  'google-refresh-token-file': { type: 'string' },
  'token-file': { type: 'string' },
  wait: { type: 'string' },
  'drop-unreadable': { type: 'boolean' },
  'poll-interval': { type: 'string' },
  'log-level': { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  server: { type: 'string' },
  token: { type: 'string' },
  'forward-to': { type: 'string' },
  dialect: { type: 'string' },
  calendar: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface ParsedCommand {
  readonly command: string[];
  readonly values: {
    readonly json?: boolean | undefined;
    readonly help?: boolean | undefined;
    readonly name?: string | undefined;
    readonly email?: string | undefined;
    readonly 'client-id'?: string | undefined;
    readonly secret?: string | undefined;
    readonly 'time-zone'?: string | undefined;
    readonly 'account-id'?: string | undefined;
    readonly 'source-id'?: string | undefined;
    readonly caldav?: string | undefined;
    readonly ics?: string | undefined;
    readonly username?: string | undefined;
    readonly 'password-file'?: string | undefined;
    readonly 'google-refresh-token-file'?: string | undefined;
    readonly 'token-file'?: string | undefined;
    readonly wait?: string | undefined;
    readonly 'drop-unreadable'?: boolean | undefined;
    readonly 'poll-interval'?: string | undefined;
    readonly from?: string | undefined;
    readonly to?: string | undefined;
    readonly server?: string | undefined;
    readonly token?: string | undefined;
    readonly 'forward-to'?: string | undefined;
    readonly dialect?: string | undefined;
    readonly calendar?: string | undefined;
  };
  readonly overrides: ConfigOverrides;
}

export function parseCommand(argv: readonly string[]): ParsedCommand {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const v = parsed.values;
  return {
    command: parsed.positionals,
    values: v,
    overrides: {
      dataDir: v.data,
      databaseUrl: v['database-url'],
      host: v.host,
      port: v.port,
      publicUrl: v['public-url'],
      dev: v.dev,
      logLevel: v['log-level'],
    },
  };
}

export function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new UsageError(`missing --${flag}`);
  return value;
}
