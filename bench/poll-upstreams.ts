/**
 * Scenario 8's loopback upstreams, in the bench process: one node:http server on several
 * ports (calpush bounds its polls per `host:port`, as it would per upstream server) that
 * serves both kinds of source an idle poll reads.
 *
 * - ICS feeds at `/feeds/{i}.ics`: a conditional GET whose If-None-Match matches is answered
 *   304 with the same ETag and Last-Modified, as a static file server does; anything else
 *   gets the (small) feed with them.
 * - CalDAV homes at `/dav/{i}/`, each with one calendar `/dav/{i}/cal/` whose ctag and sync
 *   token never move: PROPFIND Depth 0 on the home is discovery's first step (the home names
 *   itself as calendar-home-set), Depth 1 the poll's probe (the home and its calendar), and
 *   Depth 1 on the calendar an empty listing (a first read finds no events).
 *
 * It counts the requests it answers, which is how the scenario counts polls.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const FEED_ETAG = '"feed-v1"';
export const FEED_LAST_MODIFIED = 'Tue, 01 Dec 2026 09:00:00 GMT';

const feedBody = [
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'PRODID:-//calpush bench//feed//EN',
  'X-WR-CALNAME:Team',
  'BEGIN:VEVENT',
  'UID:bench-feed-1',
  'DTSTAMP:20261201T000000Z',
  'DTSTART:20261201T090000Z',
  'DTEND:20261201T100000Z',
  'SUMMARY:Stand-up',
  'END:VEVENT',
  'END:VCALENDAR',
  '',
].join('\r\n');

const ns =
  'xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CS="http://calendarserver.org/ns/"';

function multistatus(responses: readonly string[]): string {
  return `<?xml version="1.0" encoding="utf-8"?>\n<multistatus ${ns}>${responses.join('')}</multistatus>`;
}

function response(href: string, props: string): string {
  return (
    `<response><href>${href}</href><propstat><prop>${props}</prop>` +
    '<status>HTTP/1.1 200 OK</status></propstat></response>'
  );
}

function homeResponse(home: string): string {
  return response(
    home,
    '<resourcetype><collection/></resourcetype><displayname>Home</displayname>' +
      `<C:calendar-home-set><href>${home}</href></C:calendar-home-set>`,
  );
}

/** A calendar as Radicale lists it for the probe: ctag and sync token of fixed length. */
function calendarResponse(calendar: string): string {
  return response(
    calendar,
    '<resourcetype><collection/><C:calendar/></resourcetype><displayname>Work</displayname>' +
      '<C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set>' +
      '<CS:getctag>"4f0c2a9d6b1e8f3a7c5d0e2b9a6f1c3d"</CS:getctag>' +
      '<sync-token>http://radicale.org/ns/sync/5b8e1f0a3c7d9e2b4a6f8c1d3e5a7b9c0d2f4e6a8b1c3d5e7f9a0b2c4d6e8f1a</sync-token>' +
      '<supported-report-set><supported-report><report><sync-collection/></report></supported-report>' +
      '<supported-report><report><C:calendar-multiget/></report></supported-report></supported-report-set>',
  );
}

/** Source i's feed: sources are spread over the ports in turn. */
export function feedUrl(bases: readonly string[], i: number): string {
  return `${bases[i % bases.length]}/feeds/${i}.ics`;
}

/** Source i's CalDAV home. */
export function davUrl(bases: readonly string[], i: number): string {
  return `${bases[i % bases.length]}/dav/${i}/`;
}

export class PollUpstreams {
  /** Each port's origin, `http://127.0.0.1:{port}`. */
  readonly bases: string[] = [];
  /** Requests answered since the start (or the last reset). */
  requests = 0;
  /** Answers other than the idle ones expected (304 to a feed, 207 to a probe). */
  unexpected = 0;
  readonly #servers: Server[] = [];

  private constructor() {}

  static async start(ports: number): Promise<PollUpstreams> {
    const upstreams = new PollUpstreams();
    for (let p = 0; p < ports; p++) {
      const server = createServer((req, res) => upstreams.#answer(req, res));
      server.keepAliveTimeout = 60_000;
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      upstreams.#servers.push(server);
      upstreams.bases.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    }
    return upstreams;
  }

  feedUrl(i: number): string {
    return feedUrl(this.bases, i);
  }

  davUrl(i: number): string {
    return davUrl(this.bases, i);
  }

  reset(): void {
    this.requests = 0;
    this.unexpected = 0;
  }

  #answer(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    req.once('end', () => {
      this.requests++;
      const path = req.url ?? '';
      if (req.method === 'GET' && path.startsWith('/feeds/')) {
        const headers = { etag: FEED_ETAG, 'last-modified': FEED_LAST_MODIFIED };
        if (req.headers['if-none-match'] === FEED_ETAG) {
          res.writeHead(304, headers).end();
          return;
        }
        this.unexpected++;
        res.writeHead(200, { ...headers, 'content-type': 'text/calendar; charset=utf-8' });
        res.end(feedBody);
        return;
      }
      const dav = /^\/dav\/(\d+)\/(cal\/)?$/.exec(path);
      if (req.method === 'PROPFIND' && dav) {
        const home = `/dav/${dav[1]}/`;
        const calendar = `${home}cal/`;
        let body: string;
        if (dav[2]) {
          this.unexpected++;
          body = multistatus([calendarResponse(calendar)]);
        } else if (req.headers.depth === '0') {
          this.unexpected++;
          body = multistatus([homeResponse(home)]);
        } else {
          body = multistatus([homeResponse(home), calendarResponse(calendar)]);
        }
        res.writeHead(207, { 'content-type': 'application/xml; charset=utf-8' }).end(body);
        return;
      }
      this.unexpected++;
      res.writeHead(404).end();
    });
  }

  async close(): Promise<void> {
    await Promise.all(
      this.#servers.map((server) => {
        server.closeAllConnections();
        return new Promise<void>((resolve) => server.close(() => resolve()));
      }),
    );
  }
}
