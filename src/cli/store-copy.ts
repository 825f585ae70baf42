import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ParsedCommand } from './args.ts';
import { required, UsageError } from './args.ts';
import { openStore, StoreError } from '../store/store.ts';
import { copyStore } from '../store/copy.ts';
import type { Config } from '../config/config.ts';
import { SECRET_KEY_FILE, loadSecretKeys } from '../core/secret-keys.ts';
import { createSecretBox } from '../core/secret-box.ts';
import { runningServer } from './pid-file.ts';

/** `calpush store copy --from DIR --to URL`: moves an SQLite installation to PostgreSQL. */
export async function storeCopy(config: Config, parsed: ParsedCommand): Promise<number> {
  const from = required(parsed.values.from, 'from');
  const to = required(parsed.values.to, 'to');
  if (!/^postgres(ql)?:\/\//.test(to)) {
    throw new UsageError('--to takes a PostgreSQL URL (postgres://user:pass@host/db)');
  }
  if (!existsSync(join(from, 'calpush.sqlite'))) {
    throw new StoreError(`no calpush store in ${from} (calpush.sqlite not found)`);
  }
  const pid = runningServer(from);
  if (pid !== null) {
    throw new StoreError(`a server (pid ${pid}) is running on ${from}: stop it before copying`);
  }
  // Sealed values are copied as they are: the source's key reads them on the target too (and
  // seals what an older source kept in clear, when its migrations run here).
  const keys = loadSecretKeys(config.secretKey, from);
  const sealer = createSecretBox(keys.keys);
  const source = await openStore({ dataDir: from, sealer });
  try {
    const target = await openStore({ dataDir: from, databaseUrl: to, sealer });
    try {
      const report = await copyStore(source.db, target.db, (table, rows) => {
        if (!parsed.values.json) process.stdout.write(`${table}: ${rows} rows\n`);
      });
      if (parsed.values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
      else {
        // Client secrets, channel tokens and credentials are sealed under this key: every
        // node needs it to read them.
        const key =
          keys.source === 'file'
            ? `${join(from, SECRET_KEY_FILE)}: give every node that key (CALPUSH_SECRET_KEY=its content)`
            : 'the configured CALPUSH_SECRET_KEY: give every node the same';
        process.stdout.write(`copied to ${target.location}\nsecrets are sealed under ${key}\n`);
      }
      return 0;
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}
