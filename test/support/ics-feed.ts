import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';

/** A feed on loopback with an ETag, like a static file server; it records what it is asked. */
export class Feed {
  body = '';
  version = 1;
  name = 'Team';
  readonly asked: IncomingHttpHeaders[] = [];
  readonly #server: Server;

  constructor() {
    this.#server = createServer((req, res) => {
      this.asked.push(req.headers);
      const etag = `"v${this.version}"`;
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { etag }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/calendar', etag }).end(this.body);
    });
  }

  async start(): Promise<void> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/team.ics`;
  }

  publish(events: readonly string[]): void {
    this.body = [
      'BEGIN:VCALENDAR',
      'VERSION:2.0',
      'PRODID:-//test//feed//EN',
      `X-WR-CALNAME:${this.name}`,
      ...events,
      'END:VCALENDAR',
      '',
    ].join('\r\n');
    this.version++;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
