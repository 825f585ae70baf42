import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { QueueSignal } from '../queue-signal.ts';
import { CONNECTION_NAMES } from './connection-names.ts';

const CHANNEL = 'calpush_queued';
const RECONNECT_FIRST_MS = 100;
const RECONNECT_MAX_MS = 5_000;
/**
 * NOTIFYs sent at most this often: each is a transaction of its own, and wakes every other
 * node into a claim, which mostly finds that the writing node (woken directly) took the work
 * already. A burst of writes makes one NOTIFY per interval.
 */
export const SIGNAL_SPACING_MS = 5;
/** Starts the payload of a listener's first signal, which every other node answers. */
const HELLO = 'hello:';
/** Plain text: every payload is `HELLO` or our own UUID, with nothing to quote. */
const notifyWith = (payload: string) => `select pg_notify('${CHANNEL}', '${payload}')`;

/**
 * Tells every node sharing the database that notifications were queued, with LISTEN/NOTIFY:
 * a change committed on one node is claimed by any node within milliseconds, not at its
 * next regular look. Signals are hints: one lost (a node reconnecting) costs only the wait
 * until that look.
 *
 * A node alone sends none: each NOTIFY is a transaction with a commit to flush, and only
 * its own listener would hear it. A listener that connects says hello, every other node
 * answers with a signal, and a node that hears another's signal sends from then on (until
 * its listener reconnects and asks again). While its listener is down a node does not know,
 * and sends.
 */
export class PostgresQueueSignal implements QueueSignal {
  readonly events = new EventEmitter<{ signalled: []; sent: [] }>();
  /** Names this node's signals, so its listener does not count them as another node's. */
  readonly #id = randomUUID();
  readonly #hello = `${HELLO}${this.#id}`;
  readonly #url: string;
  readonly #pool: pg.Pool;
  readonly #onError: (err: Error) => void;
  #listener: pg.Client | undefined;
  #listening = false;
  #reconnectMs = RECONNECT_FIRST_MS;
  #reconnectTimer: NodeJS.Timeout | undefined;
  /**
   * One NOTIFY on the wire at a time, and none within `SIGNAL_SPACING_MS` of the last one
   * sent; signals meanwhile make one more after that.
   */
  #sending: Promise<void> | undefined;
  #again = false;
  #lastSentAt = -Infinity;
  #closed = false;
  #spacingTimer: NodeJS.Timeout | undefined;
  /** Whether another node was heard since this listener connected; unknown while down. */
  #othersHeard: boolean | undefined;

  constructor(url: string, pool: pg.Pool, onError: (err: Error) => void) {
    this.#url = url;
    this.#pool = pool;
    this.#onError = onError;
  }

  /** Whether another node was heard since the listener connected; undefined while down. */
  get othersHeard(): boolean | undefined {
    return this.#othersHeard;
  }

  listen(onSignal: () => void): void {
    this.#listening = true;
    this.events.on('signalled', onSignal);
    void this.#connect();
  }

  async #connect(): Promise<void> {
    if (!this.#listening) return;
    const client = new pg.Client({
      connectionString: this.#url,
      application_name: CONNECTION_NAMES.listener,
      keepAlive: true,
    });
    const retry = (err: Error) => {
      this.#onError(err);
      if (this.#listener === client) this.#stopListening();
      client.removeAllListeners('notification');
      void client.end().catch(() => undefined);
      this.#scheduleReconnect();
    };
    client.on('error', retry);
    client.on('notification', (message) => {
      const from = message.payload ?? '';
      if (from !== this.#id && from !== this.#hello) {
        this.#othersHeard = true;
        // A node that just connected asks who is there: one signal answers it.
        if (from.startsWith(HELLO)) this.signal();
      }
      this.events.emit('signalled');
    });
    try {
      await client.connect();
      await client.query(`listen ${CHANNEL}`);
      await client.query(notifyWith(this.#hello));
    } catch (err) {
      retry(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (!this.#listening) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#listener = client;
    this.#reconnectMs = RECONNECT_FIRST_MS;
    // Alone until another node answers the hello, or signals.
    this.#othersHeard ??= false;
    // Whatever was signalled while no connection listened is looked for now.
    this.events.emit('signalled');
  }

  #stopListening(): void {
    this.#listener = undefined;
    this.#othersHeard = undefined;
  }

  #scheduleReconnect(): void {
    if (!this.#listening || this.#reconnectTimer) return;
    const wait = this.#reconnectMs;
    this.#reconnectMs = Math.min(RECONNECT_MAX_MS, this.#reconnectMs * 2);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      void this.#connect();
    }, wait);
    this.#reconnectTimer.unref();
  }

  signal(): void {
    // After close the pool it sends on is ending: a signal then would only fail.
    if (this.#closed || this.#othersHeard === false) return;
    if (this.#sending || this.#spacingTimer) {
      this.#again = true;
      return;
    }
    const wait = this.#lastSentAt + SIGNAL_SPACING_MS - performance.now();
    if (wait > 0) {
      this.#spacingTimer = setTimeout(() => {
        this.#spacingTimer = undefined;
        this.#again = false;
        this.signal();
      }, wait);
      this.#spacingTimer.unref();
      return;
    }
    this.#lastSentAt = performance.now();
    this.#sending = this.#pool
      .query(notifyWith(this.#id))
      .then(
        () => void this.events.emit('sent'),
        (err: unknown) => this.#onError(err instanceof Error ? err : new Error(String(err))),
      )
      .finally(() => {
        this.#sending = undefined;
        if (this.#again) {
          this.#again = false;
          this.signal();
        }
      });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listening = false;
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#spacingTimer);
    this.#spacingTimer = undefined;
    this.events.removeAllListeners('signalled');
    await this.#sending;
    const listener = this.#listener;
    this.#stopListening();
    await listener?.end().catch(() => undefined);
  }
}
