import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import type { ParsedCommand } from './args.ts';
import type { Service } from '../service.ts';
import { required, UsageError } from './args.ts';
import { issueAccessToken, revokeAccessTokens } from '../core/access-tokens.ts';
import { deleteAccount } from '../core/account-erasure.ts';

/** How long `accounts delete` waits for the account's last notifications by default. */
const DEFAULT_WAIT_SECONDS = 30;
/** Retries come due with time: the wait looks again this often. */
const LOOK_EVERY_MS = 250;

type Print = (value: Record<string, unknown>, text: string) => void;

/** `accounts issue-token`, `accounts revoke-token`, `accounts delete`; false for others. */
export async function runAccountCommand(
  service: Service,
  parsed: ParsedCommand,
  print: Print,
): Promise<boolean> {
  const v = parsed.values;
  const res = service.core;
  switch (parsed.command[1]) {
    case 'issue-token': {
      const accountId = required(v['account-id'], 'account-id');
      const token = await issueAccessToken(res, accountId);
      print({ account_id: accountId, access_token: token }, `access_token: ${token}`);
      return true;
    }
    case 'revoke-token': {
      if ((v['token-file'] === undefined) === (v['account-id'] === undefined)) {
        throw new UsageError('give exactly one of --token-file FILE and --account-id ID');
      }
      // A token is read from a file, never from the command line, where others could see it.
      const r = await revokeAccessTokens(
        res,
        v['token-file'] !== undefined
          ? { token: readFileSync(v['token-file'], 'utf8').trim() }
          : { accountId: v['account-id'] ?? '' },
      );
      print(
        {
          revoked: r.revoked,
          remaining: r.remaining,
          closed_channels: r.closedChannels,
          noticed_channels: r.noticedChannels,
        },
        `revoked ${r.revoked}, ${r.remaining} left` +
          (r.closedChannels > 0 ? `; ${r.closedChannels} channel(s) closed` : '') +
          (r.noticedChannels > 0 ? `; ${r.noticedChannels} channel(s) told to reauthorize` : ''),
      );
      return true;
    }
    case 'delete': {
      const accountId = required(v['account-id'], 'account-id');
      const wait = v.wait ?? String(DEFAULT_WAIT_SECONDS);
      if (!/^\d+$/.test(wait)) throw new UsageError('--wait takes a whole number of seconds');
      const erased = await deleteAccount(res, accountId, {
        waitMs: Number(wait) * 1000,
        // This process sends what is due (alongside any server: claims are leased), then
        // looks again a little later, for retries.
        progress: async () => {
          await service.dispatcher.runUntilIdle();
          await delay(LOOK_EVERY_MS);
        },
      });
      const rows = Object.values(erased.rows).reduce((n, c) => n + c, 0);
      print(
        { account_id: accountId, undelivered: erased.undelivered, rows: erased.rows },
        `erased ${accountId}: ${rows} rows` +
          (erased.undelivered > 0
            ? ` (${erased.undelivered} notification(s) not delivered in time were dropped)`
            : ''),
      );
      return true;
    }
    default:
      return false;
  }
}
