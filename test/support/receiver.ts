import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly at: number;
  /** The sender's TCP port: which process sent it, for tests that need to know. */
  readonly port: number;
}

/** What the receiver answers; a function may vary it per request. `hang` never answers. */
/** The Cronofy notification type a request carried (`verification`, `change`, …). */
export function notificationType(request: ReceivedRequest): string {
  return (JSON.parse(request.body) as { notification: { type: string } }).notification.type;
}

export type Reply =
  { status: number; headers?: Record<string, string>; delayMs?: number; body?: string } | 'hang';

/**
 * A real HTTP webhook receiver on loopback that records what it gets. Tests wait on it with
 * waitFor (a spy), never with sleeps.
 */
export class Receiver {
  readonly requests: ReceivedRequest[] = [];
  /** Requests received and not yet answered (a slow reply, a hang). */
  readonly unanswered = new Set<ReceivedRequest>();
  reply: Reply | ((req: ReceivedRequest) => Reply) = { status: 200 };
  readonly #server: Server;
  readonly #waiters = new Set<() => void>();
  readonly #hanging = new Set<ServerResponse>();

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<Receiver> {
    const server = createServer();
    const receiver = new Receiver(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const record: ReceivedRequest = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          at: Date.now(),
          port: req.socket.remotePort ?? 0,
        };
        const reply =
          typeof receiver.reply === 'function' ? receiver.reply(record) : receiver.reply;
        receiver.requests.push(record);
        receiver.unanswered.add(record);
        res.once('close', () => receiver.unanswered.delete(record));
        for (const w of receiver.#waiters) w();
        if (reply === 'hang') {
          receiver.#hanging.add(res);
          return;
        }
        const answer = () => {
          res.writeHead(reply.status, reply.headers);
          res.end(reply.body);
        };
        // A slow endpoint, not a sleep in a test: the server answers late.
        if (reply.delayMs) setTimeout(answer, reply.delayMs);
        else answer();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** Resolves once `predicate` holds for the recorded requests; fails after `timeoutMs`. */
  async waitFor(
    predicate: (requests: readonly ReceivedRequest[]) => boolean,
    timeoutMs = 10_000,
  ): Promise<void> {
    if (predicate(this.requests)) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(
          new Error(
            `receiver: condition not met after ${timeoutMs} ms (${this.requests.length} requests)`,
          ),
        );
      }, timeoutMs);
      const check = () => {
        if (!predicate(this.requests)) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      this.#waiters.add(check);
    });
  }

  async waitForCount(n: number, timeoutMs?: number): Promise<void> {
    await this.waitFor((r) => r.length >= n, timeoutMs);
  }

  /** The Cronofy notification types received, in order; with `path`, those sent to it. */
  notificationTypes(path?: string): string[] {
    const sent = path === undefined ? this.requests : this.requests.filter((r) => r.path === path);
    return sent.map(notificationType);
  }

  bodies(): unknown[] {
    return this.requests.map((r) => (r.body ? (JSON.parse(r.body) as unknown) : undefined));
  }

  async close(): Promise<void> {
    for (const res of this.#hanging) res.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
