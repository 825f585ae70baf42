import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ParsedCommand } from './args.ts';
import { UsageError, required } from './args.ts';
import type { ListenDialect } from './listen-check.ts';
import { LISTEN_DIALECTS } from './listen-check.ts';
import { createListenReceiver } from './listen-receiver.ts';
import { ListenError, openListenChannel } from './listen-channels.ts';
import { close } from '../http/node-server.ts';

function httpUrl(value: string, flag: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--${flag} must be an http(s) URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--${flag} must be an http(s) URL`);
  }
  return url.toString();
}

function dialectOf(value: string | undefined): ListenDialect {
  const dialect = value ?? 'cronofy';
  if (!(LISTEN_DIALECTS as readonly string[]).includes(dialect)) {
    throw new UsageError(`--dialect must be one of ${LISTEN_DIALECTS.join(', ')}`);
  }
  return dialect as ListenDialect;
}

function closeNow(server: Server): Promise<void> {
  server.closeAllConnections();
  return close(server);
}

/**
 * `calpush listen`: a receiver on loopback, a channel on the server pointing at it, one
 * printed line per notification, each forwarded unchanged; the channel is closed on
 * SIGINT or SIGTERM.
 */
export async function listen(parsed: ParsedCommand): Promise<number> {
  const v = parsed.values;
  const server = httpUrl(required(v.server, 'server'), 'server');
  const accessToken = required(v.token, 'token');
  const dialect = dialectOf(v.dialect);
  const forwardTo =
    v['forward-to'] === undefined ? undefined : httpUrl(v['forward-to'], 'forward-to');
  const publicUrl = parsed.overrides.publicUrl;
  if (!publicUrl && !parsed.overrides.dev) {
    throw new UsageError(
      'calpush listen receives on 127.0.0.1, a callback only a server run with `serve --dev` ' +
        'accepts: pass --dev, or --public-url with an address the server may call',
    );
  }
  const port = Number(parsed.overrides.port ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError('--port must be a port number');
  }
  const token = randomBytes(24).toString('base64url');
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const receiver = createListenReceiver({
    expected: { dialect, secret: v.secret, token },
    forwardTo,
    print: out,
    now: () => Date.now(),
  });
  const publicCallback = publicUrl ? httpUrl(publicUrl, 'public-url') : undefined;
  await new Promise<void>((resolve, reject) => {
    receiver.once('error', (err) =>
      reject(new ListenError(`cannot listen on 127.0.0.1:${port}: ${err.message}`)),
    );
    receiver.listen(port, '127.0.0.1', () => resolve());
  });
  const local = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`;
  const callbackUrl = publicCallback ?? local;
  // Signals that arrive while the channel is being opened still close it afterwards.
  const stopped = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  let channel;
  try {
    channel = await openListenChannel({
      server,
      accessToken,
      dialect,
      callbackUrl,
      calendarId: v.calendar,
      token,
    });
  } catch (err) {
    await closeNow(receiver);
    throw err;
  }
  out(`calpush listen: receiving on ${local} (callback ${callbackUrl})`);
  out(
    `calpush listen: ${dialect} channel ${channel.id} open on ${server}` +
      (forwardTo ? `, forwarding to ${forwardTo}` : '') +
      '; Ctrl-C closes it',
  );
  if (dialect === 'cronofy' && v.secret === undefined) {
    out('calpush listen: no --secret given: Cronofy signatures are not checked');
  }
  const signal = await stopped;
  out(`calpush listen: ${signal}: closing channel ${channel.id}`);
  try {
    await channel.close();
  } finally {
    await closeNow(receiver);
  }
  out(`calpush listen: channel ${channel.id} closed`);
  return 0;
}
