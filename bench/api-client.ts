/** A pooled client for the server's Cronofy face, used to drive changes over HTTP. */
import { Pool } from 'undici';

export interface ApiTarget {
  readonly token: string;
  readonly calendarId: string;
}

export class ApiClient {
  readonly #pool: Pool;
  readonly #eventPrefix: string;
  #n = 0;
  /** `eventPrefix` keeps event ids apart when several clients write to one installation. */
  constructor(url: string, connections = 64, eventPrefix = 'bench') {
    this.#pool = new Pool(url, { connections, pipelining: 1 });
    this.#eventPrefix = eventPrefix;
  }

  /** Upserts a managed event with a fresh event_id; resolves with the status code. */
  async upsertEvent(t: ApiTarget): Promise<number> {
    const res = await this.#pool.request({
      method: 'POST',
      path: `/v1/calendars/${t.calendarId}/events`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t.token}` },
      body: JSON.stringify({
        event_id: `${this.#eventPrefix}-${++this.#n}`,
        summary: 'Bench event',
        start: '2026-03-01T09:00:00Z',
        end: '2026-03-01T10:00:00Z',
        tzid: 'Etc/UTC',
      }),
    });
    await res.body.dump();
    return res.statusCode;
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}
