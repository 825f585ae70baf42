import type {
  Connected,
  KnownCalendar,
  PollInput,
  PollResult,
  SourceCredentials,
  SourceItem,
} from '../../src/domain/source.ts';

interface StoredCalendar {
  cursor: unknown;
  readonly items: Map<string, SourceItem>;
}

/**
 * What the core keeps of one source, in memory: its cursor, its calendars with their cursors
 * and items. Tests poll from it and apply each result, as the core's batched write would.
 */
export class SourceState {
  cursor: unknown;
  readonly calendars = new Map<string, StoredCalendar>();
  /** How many times a provider asked for the stored versions (the costly read). */
  itemReads = 0;
  readonly #url: string;
  readonly #credentials: SourceCredentials | null;

  constructor(url: string, credentials: SourceCredentials | null, connected: Connected) {
    this.#url = url;
    this.#credentials = credentials;
    this.cursor = connected.cursor;
    for (const calendar of connected.calendars) {
      this.calendars.set(calendar.remoteId, { cursor: null, items: new Map() });
    }
  }

  input(): PollInput {
    const calendars: KnownCalendar[] = [...this.calendars].map(([remoteId, stored]) => ({
      remoteId,
      cursor: stored.cursor,
      items: () => {
        this.itemReads++;
        return Promise.resolve(new Map([...stored.items].map(([k, item]) => [k, item.version])));
      },
    }));
    return { url: this.#url, credentials: this.#credentials, cursor: this.cursor, calendars };
  }

  apply(result: PollResult): void {
    this.cursor = result.cursor;
    const upstream = new Set(result.calendars.map((c) => c.remoteId));
    for (const remoteId of this.calendars.keys()) {
      if (!upstream.has(remoteId)) this.calendars.delete(remoteId);
    }
    for (const remoteId of upstream) {
      if (!this.calendars.has(remoteId)) {
        this.calendars.set(remoteId, { cursor: null, items: new Map() });
      }
    }
    for (const change of result.changes) {
      const stored = this.calendars.get(change.remoteId);
      if (!stored) throw new Error(`changes for unknown calendar ${change.remoteId}`);
      for (const item of change.changed) stored.items.set(item.key, item);
      for (const key of change.removed) stored.items.delete(key);
      stored.cursor = change.cursor;
    }
  }

  items(remoteId: string): Map<string, SourceItem> {
    const stored = this.calendars.get(remoteId);
    if (!stored) throw new Error(`no calendar ${remoteId}`);
    return stored.items;
  }
}
