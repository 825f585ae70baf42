import type { CoreResources } from '../../core/resources.ts';
import type { ChannelView } from '../../core/channels.ts';
import type { CronofyInterest } from './interest.ts';
import { DEFAULT_CHANNELS_PER_ACCOUNT, openChannel } from '../../core/channels.ts';
import { cronofyDialect } from './dialect.ts';

/** Cronofy's own limit, and calpush's unless configured otherwise. */
export const CRONOFY_CHANNELS_PER_ACCOUNT = DEFAULT_CHANNELS_PER_ACCOUNT;

export interface CronofyChannelInput {
  readonly accountId: string;
  readonly clientId: string;
  /** The access token the request came with (`Principal.tokenHash`). */
  readonly creatorTokenHash?: string;
  readonly callbackUrl: string;
  readonly calendarIds: readonly string[] | null;
  readonly onlyManaged: boolean;
}

/** Creates a Cronofy channel, or returns the live one an identical request made before. */
export function createCronofyChannel(
  res: CoreResources,
  input: CronofyChannelInput,
): Promise<ChannelView> {
  const calendarIds = input.calendarIds ? [...new Set(input.calendarIds)].sort() : null;
  const interest: CronofyInterest = {
    dialect: 'cronofy',
    calendarIds,
    onlyManaged: input.onlyManaged,
  };
  return openChannel(res, {
    dialect: cronofyDialect.name,
    accountId: input.accountId,
    clientId: input.clientId,
    ...(input.creatorTokenHash === undefined ? {} : { creatorTokenHash: input.creatorTokenHash }),
    callbackUrl: input.callbackUrl,
    callback: { requireHttps: false, field: 'callback_url' },
    idPrefix: 'chn',
    interest,
    requestKey: JSON.stringify([input.callbackUrl, calendarIds, input.onlyManaged]),
    ...(calendarIds ? { calendars: { ids: calendarIds, field: 'filters.calendar_ids' } } : {}),
    maxPerAccount: res.channelsPerAccount ?? CRONOFY_CHANNELS_PER_ACCOUNT,
  });
}
