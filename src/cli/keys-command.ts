import type { Config } from '../config/config.ts';
import type { ParsedCommand } from './args.ts';
import type { SecretBox } from '../core/secret-box.ts';
import type { ResealReport } from '../core/key-rotation.ts';
import { createSecretBox, SecretBoxError } from '../core/secret-box.ts';
import { loadSecretKeys, promoteNextKey, stageNextKey } from '../core/secret-keys.ts';
import { resealSecrets } from '../core/key-rotation.ts';
import { loadTokenSealer } from '../core/token-sealer.ts';
import { openStore } from '../store/store.ts';
import { runningServer } from './pid-file.ts';

/**
 * `calpush keys rotate`: every sealed value in the store is sealed again under a new key.
 *
 * With the key file (no CALPUSH_SECRET_KEY), in an order where no crash leaves a value
 * unreadable: (1) the new key is written to `secret.key.next` and synced, before anything
 * is sealed under it; a server started from then on accepts both keys. (2) One transaction
 * seals everything again under the new key: before it commits the store holds old seals,
 * after it new ones, and both keys are on disk either way. (3) `secret.key.next` is renamed
 * over `secret.key`, at once. Run again after a crash, it takes up the staged key and
 * finishes; values already under it are left alone.
 *
 * With CALPUSH_SECRET_KEY, the nodes hold the keys: the first configured key is the new one
 * and everything is sealed again under it. The older keys may go from the configuration
 * once every node seals under the new one and a run reports nothing left under them.
 *
 * `--drop-unreadable` is the way back from a lost key: values no key opens are removed, in
 * the same transaction, and what needed them asks for them again (see `resealSecrets`).
 */
export async function rotateKeys(config: Config, parsed: ParsedCommand): Promise<number> {
  const fromFile = !config.secretKey;
  if (fromFile) {
    const pid = runningServer(config.dataDir);
    if (pid !== null) {
      throw new SecretBoxError(
        `a server (pid ${pid}) is running on ${config.dataDir}: stop it before rotating its key`,
      );
    }
  }
  const current = loadSecretKeys(config.secretKey, config.dataDir);
  const held = createSecretBox(current.keys);
  const drop = parsed.values['drop-unreadable'] === true;
  const store = await openStore({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    sealer: held,
  });
  let ring: SecretBox;
  let report: ResealReport;
  try {
    // A store this server cannot read is not re-sealed unless asked (that would hide it),
    // and is refused before a next key is staged.
    if (!drop) await loadTokenSealer(store.db, held);
    ring = fromFile ? createSecretBox([stageNextKey(config.dataDir), ...current.keys]) : held;
    report = await resealSecrets(store.db, ring, {
      unreadable: drop ? 'drop' : 'keep',
      now: Date.now(),
    });
    // A token key dropped is made anew, under the new key.
    if (drop) await loadTokenSealer(store.db, ring);
  } finally {
    await store.close();
  }
  if (fromFile) promoteNextKey(config.dataDir);
  print(parsed, ring, report, fromFile);
  return 0;
}

function print(parsed: ParsedCommand, ring: SecretBox, report: ResealReport, fromFile: boolean) {
  const left = Object.values(report).reduce((n, c) => n + c.unreadable, 0);
  if (parsed.values.json) {
    process.stdout.write(`${JSON.stringify({ key_id: ring.keyId, sealed: report })}\n`);
    return;
  }
  const lines = Object.entries(report).map(
    ([kind, c]) =>
      `  ${kind.padEnd(17)} ${c.total} sealed, ${c.resealed} sealed again` +
      (c.unreadable > 0 ? `, ${c.unreadable} under a key this server does not hold` : ''),
  );
  lines.unshift(`every readable secret is now sealed under key ${ring.keyId}`);
  if (fromFile) {
    lines.push('the key file holds the new key: back it up, apart from the database');
  } else {
    lines.push(
      `once every node runs with CALPUSH_SECRET_KEY starting with key ${ring.keyId}, run this ` +
        'again: when it seals nothing again, the older keys may go from CALPUSH_SECRET_KEY',
    );
  }
  if (left > 0) {
    lines.push(
      parsed.values['drop-unreadable']
        ? `${left} value(s) no key could read were dropped: see docs/secrets.md for what follows`
        : `${left} value(s) could not be read with any key given and were left as they were`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}
