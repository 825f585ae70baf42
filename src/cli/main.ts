import { ConfigError, loadConfig } from '../config/config.ts';
import { CoreError } from '../core/errors.ts';
import { StoreError } from '../store/store.ts';
import { parseCommand, usage, UsageError } from './args.ts';
import { runAdminCommand } from './admin-commands.ts';
import { serve, ServeError } from './serve.ts';
import { storeCopy } from './store-copy.ts';
import { rotateKeys } from './keys-command.ts';
import { SecretBoxError } from '../core/secret-box.ts';
import { listen } from './listen-command.ts';
import { ListenError } from './listen-channels.ts';

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseCommand(argv);
  if (parsed.values.help || parsed.command.length === 0) {
    process.stdout.write(usage);
    return parsed.values.help ? 0 : 2;
  }
  // A client of a server, not one: it reads no configuration.
  if (parsed.command.join(' ') === 'listen') return listen(parsed);
  const config = loadConfig(parsed.overrides);
  if (parsed.command.join(' ') === 'store copy') return storeCopy(config, parsed);
  if (parsed.command.join(' ') === 'keys rotate') return rotateKeys(config, parsed);
  if (parsed.command[0] === 'serve' && parsed.command.length === 1) {
    await serve(config);
    return 0;
  }
  return runAdminCommand(config, parsed);
}

try {
  const code = await main(process.argv.slice(2));
  if (code !== 0) process.exitCode = code;
} catch (err) {
  if (err instanceof UsageError) {
    process.stderr.write(`calpush: ${err.message}\n\n${usage}`);
    process.exitCode = 2;
  } else if (
    err instanceof ConfigError ||
    err instanceof CoreError ||
    err instanceof StoreError ||
    err instanceof ServeError ||
    err instanceof SecretBoxError ||
    err instanceof ListenError
  ) {
    process.stderr.write(`calpush: ${err.message}\n`);
    process.exitCode = 1;
  } else {
    throw err;
  }
}
