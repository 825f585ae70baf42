import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { systemClock } from '../src/domain/clock.ts';
import { createOutboundHttp } from '../src/net/outbound-http.ts';
import { NO_EXCEPTIONS } from '../src/net/safe-lookup.ts';
import { createDavSession } from '../src/sources/caldav/dav-session.ts';

/** A server that records the Authorization header of each request it gets. */
async function recordingServer() {
  const seen: (string | undefined)[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers.authorization);
    res.writeHead(207, { 'content-type': 'application/xml' }).end('<multistatus xmlns="DAV:"/>');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { seen, url, close: () => new Promise((resolve) => server.close(resolve)) };
}

test('a CalDAV password goes only to the origin the user gave, not to one the server names', async () => {
  const given = await recordingServer();
  const elsewhere = await recordingServer();
  const http = createOutboundHttp({
    dev: true,
    exceptions: NO_EXCEPTIONS,
    timeoutMs: 5000,
    maxBodyBytes: 1 << 20,
    connectionsPerOrigin: 2,
  });
  try {
    const session = createDavSession(
      http,
      { username: 'ada', password: 'secret' },
      systemClock,
      new URL(given.url).origin,
    );
    const propfind = (url: string) => session.send({ method: 'PROPFIND', url, body: '' });
    await propfind(given.url);
    // As if the server had named a calendar home on another host.
    await propfind(`${elsewhere.url}home/`);
    assert.match(given.seen[0] ?? '', /^Basic /);
    assert.deepEqual(elsewhere.seen, [undefined]);
  } finally {
    await http.close();
    await given.close();
    await elsewhere.close();
  }
});
