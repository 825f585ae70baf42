import type { Principal } from './accounts.ts';

interface Entry {
  readonly principal: Principal;
  readonly checkedAt: number;
}

/** Enough for every account a busy server hears from within a TTL, at ~0.6 KB each. */
export const MAX_CACHED_TOKENS = 10_000;

/**
 * Who a bearer token speaks for, remembered for a short while. Every API request starts by
 * looking its token up, and that lookup (a read transaction of its own and a join) was the
 * largest piece of store work a write request did outside its write. Entries are keyed
 * by the token's hash, as the store keeps them, so no bearer secret lives on in the heap;
 * they are re-checked against the store once `ttlMs` has passed, which bounds how long a
 * token removed from the store by another process (or another node) keeps working. Unknown
 * tokens are never remembered: a token created a moment ago works at once.
 */
export class PrincipalCache {
  readonly #entries = new Map<string, Entry>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;

  constructor(options: { ttlMs: number; maxEntries: number }) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries;
  }

  get(tokenHash: string, now: number): Principal | undefined {
    const entry = this.#entries.get(tokenHash);
    if (!entry) return undefined;
    if (now - entry.checkedAt >= this.#ttlMs || now < entry.checkedAt) {
      this.#entries.delete(tokenHash);
      return undefined;
    }
    return entry.principal;
  }

  set(tokenHash: string, principal: Principal, now: number): void {
    this.#entries.delete(tokenHash);
    // Oldest first in a Map's order: the entry stored longest ago goes when it is full.
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(tokenHash, { principal, checkedAt: now });
  }
}
