import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the fake answers sync-collection, as servers in the wild do. */
export type SyncMode =
  /** RFC 6578 with tokens; answers longer than `pageSize` are truncated (507). */
  | 'sync'
  /** Refuses every token: 403 with the valid-sync-token precondition (as Radicale does). */
  | 'refuse-403'
  | 'refuse-412'
  | 'refuse-500'
  /** Lists a sync token but no supported-report-set, and answers the report 501. */
  | 'unsupported-501'
  /** No sync token and no sync-collection in supported-report-set. */
  | 'none';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly depth: string | undefined;
  readonly body: string;
}

/** An answer to give instead of the usual one. */
export interface Failure {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

const home = '/dav/';
const calendar = '/dav/cal/';

/**
 * A loopback WebDAV server that speaks just enough CalDAV for one calendar at /dav/cal/:
 * PROPFIND on the home and the calendar, sync-collection (in the chosen mode) and
 * calendar-multiget. It writes hrefs in several spellings (full URLs, `%40` or `@`) and
 * declares namespaces its own way, as real servers differ.
 */
export class FakeCaldav {
  readonly url: string;
  readonly requests: RecordedRequest[] = [];
  mode: SyncMode;
  pageSize: number;
  /** Sees each request first: may change the fake's state, or answer instead (once set). */
  onRequest: ((request: RecordedRequest) => Failure | undefined) | null = null;
  readonly #server: Server;
  readonly #items = new Map<string, { etag: string; ics: string }>();
  /** Each change as (version, resource name); the sync token is the version reached. */
  readonly #log: { version: number; name: string }[] = [];
  #version = 0;

  private constructor(server: Server, url: string, mode: SyncMode, pageSize: number) {
    this.#server = server;
    this.url = url;
    this.mode = mode;
    this.pageSize = pageSize;
  }

  static async start(mode: SyncMode, pageSize = 1000): Promise<FakeCaldav> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const fake = new FakeCaldav(server, `http://127.0.0.1:${port}`, mode, pageSize);
    server.on('request', (req, res) => fake.#receive(req, res));
    return fake;
  }

  get homeUrl(): string {
    return `${this.url}${home}`;
  }

  get calendarUrl(): string {
    return `${this.url}${calendar}`;
  }

  /** The key the provider should report for a resource name. */
  key(name: string): string {
    return `${calendar}${encodeURIComponent(name).replace(/%40/g, '@')}`;
  }

  put(name: string, ics: string): void {
    this.#version++;
    this.#items.set(name, { etag: `"etag-${this.#version}"`, ics });
    this.#log.push({ version: this.#version, name });
  }

  delete(name: string): void {
    this.#version++;
    this.#items.delete(name);
    this.#log.push({ version: this.#version, name });
  }

  /** Requests since `from`, as `METHOD depth kind` lines a test can compare. */
  since(from: number): string[] {
    return this.requests.slice(from).map((r) => {
      const kind = /<(?:\w+:)?(sync-collection|calendar-multiget)\b/.exec(r.body)?.[1] ?? '';
      return [r.method, r.path, r.depth, kind].filter(Boolean).join(' ');
    });
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #receive(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        depth: typeof req.headers.depth === 'string' ? req.headers.depth : undefined,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      this.requests.push(request);
      const answer = this.onRequest?.(request) ?? this.#answer(request);
      res.writeHead(answer.status, {
        'content-type': 'application/xml; charset=utf-8',
        ...answer.headers,
      });
      res.end(answer.body ?? '');
    });
  }

  #answer(request: RecordedRequest): Failure {
    if (request.path.startsWith('/loop')) return { status: 301, headers: { location: '/loop' } };
    if (request.method === 'PROPFIND' && request.path === home) {
      const self = response(home, [
        '<resourcetype><collection/></resourcetype>',
        `<A:calendar-home-set><href>${home}</href></A:calendar-home-set>`,
      ]);
      return multistatus(request.depth === '0' ? [self] : [self, this.#calendarResponse()]);
    }
    if (request.method === 'PROPFIND' && request.path === calendar) {
      if (request.depth === '0') return multistatus([this.#calendarResponse()]);
      const items = [...this.#items].map(([name, item]) =>
        // Full URLs with `@` escaped: the provider must make keys canonical.
        response(`${this.url}${calendar}${encodeURIComponent(name)}`, [
          '<resourcetype/>',
          `<getetag>${item.etag}</getetag>`,
        ]),
      );
      return multistatus([this.#calendarResponse(), ...items]);
    }
    if (request.method === 'REPORT' && request.path === calendar) {
      if (/<(?:\w+:)?calendar-multiget\b/.test(request.body)) return this.#multiget(request.body);
      if (/<(?:\w+:)?sync-collection\b/.test(request.body)) return this.#sync(request.body);
    }
    return { status: 404, body: '' };
  }

  #calendarResponse(): string {
    const props = [
      '<resourcetype><collection/><A:calendar/></resourcetype>',
      '<displayname>Fake</displayname>',
      `<B:getctag>"ctag-${this.#version}"</B:getctag>`,
    ];
    if (this.mode !== 'none') props.push(`<sync-token>urn:fake:sync:${this.#version}</sync-token>`);
    if (this.mode !== 'unsupported-501') {
      const reports = ['<A:calendar-multiget/>'];
      if (this.mode !== 'none') reports.push('<sync-collection/>');
      props.push(
        `<supported-report-set>${reports
          .map((r) => `<supported-report><report>${r}</report></supported-report>`)
          .join('')}</supported-report-set>`,
      );
    }
    return response(calendar, props);
  }

  #sync(body: string): Failure {
    switch (this.mode) {
      case 'refuse-403':
        return { status: 403, body: '<error xmlns="DAV:"><valid-sync-token/></error>' };
      case 'refuse-412':
        return { status: 412 };
      case 'refuse-500':
        return { status: 500, body: 'internal error' };
      case 'unsupported-501':
      case 'none':
        return { status: 501 };
      case 'sync':
        break;
    }
    const token = /<(?:\w+:)?sync-token>([^<]*)</.exec(body)?.[1] ?? '';
    const from = token === '' ? 0 : Number(/^urn:fake:sync:(\d+)$/.exec(token)?.[1] ?? NaN);
    if (!(from <= this.#version)) {
      return { status: 403, body: '<error xmlns="DAV:"><valid-sync-token/></error>' };
    }
    const changes = this.#log.filter((c) => c.version > from);
    const page = changes.slice(0, this.pageSize);
    const truncated = page.length < changes.length;
    const reached = truncated ? (page.at(-1)?.version ?? from) : this.#version;
    const names = [...new Set(page.map((c) => c.name))];
    const responses = names.map((name) => {
      const item = this.#items.get(name);
      const href = `${calendar}${encodeURIComponent(name)}`;
      return item
        ? response(href, [`<getetag>${item.etag}</getetag>`])
        : `<response><href>${href}</href><status>HTTP/1.1 404 Not Found</status></response>`;
    });
    if (truncated) {
      responses.push(
        `<response><href>${calendar}</href><status>HTTP/1.1 507 Insufficient Storage</status></response>`,
      );
    }
    return multistatus(responses, `<sync-token>urn:fake:sync:${reached}</sync-token>`);
  }

  #multiget(body: string): Failure {
    const hrefs = [...body.matchAll(/<(?:\w+:)?href>([^<]*)</g)].map((m) => m[1] ?? '');
    return multistatus(
      hrefs.map((href) => {
        const name = decodeURIComponent(href.slice(calendar.length));
        const item = this.#items.get(name);
        // Paths with `@` unescaped here, unlike the listing.
        const shown = `${calendar}${encodeURIComponent(name).replace(/%40/g, '@')}`;
        return item
          ? response(shown, [
              `<getetag>${item.etag}</getetag>`,
              `<A:calendar-data><![CDATA[${item.ics}]]></A:calendar-data>`,
            ])
          : `<response><href>${shown}</href><status>HTTP/1.1 404 Not Found</status></response>`;
      }),
    );
  }
}

function response(href: string, props: readonly string[]): string {
  return (
    `<response><href>${href}</href><propstat><prop>${props.join('')}</prop>` +
    '<status>HTTP/1.1 200 OK</status></propstat></response>'
  );
}

function multistatus(responses: readonly string[], extra = ''): Failure {
  return {
    status: 207,
    body:
      '<?xml version="1.0" encoding="utf-8"?>' +
      '<multistatus xmlns="DAV:" xmlns:A="urn:ietf:params:xml:ns:caldav" ' +
      'xmlns:B="http://calendarserver.org/ns/">' +
      `${responses.join('')}${extra}</multistatus>`,
  };
}
