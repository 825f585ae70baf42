import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { MigrationContext } from './context.ts';
import * as initial from './001-initial.ts';
import * as claimIndex from './002-claim-index.ts';
import * as quietUntil from './003-quiet-until.ts';
import * as liveNotificationsIndex from './004-live-notifications-index.ts';
import * as leasesInDueIndex from './005-leases-in-due-index.ts';
import * as sendingOnChannel from './006-sending-on-channel.ts';
import * as dialectSettingsInInterest from './007-dialect-settings-in-interest.ts';
import * as sources from './008-sources.ts';
import * as occurrences from './009-occurrences.ts';
import * as sealedSecrets from './010-sealed-secrets.ts';
import * as channelCreatorToken from './011-channel-creator-token.ts';
import * as seriesHistory from './012-series-history.ts';
import * as notificationLatestSeq from './013-notification-latest-seq.ts';
import * as sourcePushes from './014-source-pushes.ts';
import * as deliveryLog from './015-delivery-log.ts';
import * as tokenRevocations from './016-token-revocations.ts';

interface MigrationModule {
  up(db: Kysely<unknown>, ctx: MigrationContext): Promise<void>;
}

/** Numbered in order; never edit one that has shipped, add the next. */
const modules: Record<string, MigrationModule> = {
  '001-initial': initial,
  '002-claim-index': claimIndex,
  '003-quiet-until': quietUntil,
  '004-live-notifications-index': liveNotificationsIndex,
  '005-leases-in-due-index': leasesInDueIndex,
  '006-sending-on-channel': sendingOnChannel,
  '007-dialect-settings-in-interest': dialectSettingsInInterest,
  '008-sources': sources,
  '009-occurrences': occurrences,
  '010-sealed-secrets': sealedSecrets,
  '011-channel-creator-token': channelCreatorToken,
  '012-series-history': seriesHistory,
  '013-notification-latest-seq': notificationLatestSeq,
  '014-source-pushes': sourcePushes,
  '015-delivery-log': deliveryLog,
  '016-token-revocations': tokenRevocations,
};

export function migrationsFor(ctx: MigrationContext): Record<string, Migration> {
  return Object.fromEntries(
    Object.entries(modules).map(([name, m]) => [name, { up: (db) => m.up(db, ctx) }]),
  );
}
