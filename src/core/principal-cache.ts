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
 * token removed from the store by another process (or another node) keeps working. A token
 * revoked through this process is forgotten at once. Unknown tokens are never remembered: a
 * token created a moment ago works at once.
 */
export class PrincipalCache {
  readonly #entries = new Map<string, Entry>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  /** Counts revocations, so a lookup that raced one does not store what it read before. */
  #revocations = 0;

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

  /** Taken before a lookup in the store, and handed back to `set` with what it found. */
  get revocations(): number {
    return this.#revocations;
  }

  /** A revoked token: asked again, the store refuses it. */
  forget(tokenHash: string): void {
    this.#revocations++;
    this.#entries.delete(tokenHash);
  }

  /** Every token of an account (its tokens revoked, or the account erased). */
  forgetAccount(accountId: string): void {
    this.#revocations++;
    for (const [tokenHash, entry] of this.#entries) {
      if (entry.principal.accountId === accountId) this.#entries.delete(tokenHash);
    }
  }

  /**
   * Remembers what a lookup found, unless a token was revoked since it began (`revocations`
   * as it was then): the lookup may have read the token just before the revocation removed it.
   */
  set(tokenHash: string, principal: Principal, now: number, revocations = this.#revocations): void {
    if (revocations !== this.#revocations) return;
    this.#entries.delete(tokenHash);
    // Oldest first in a Map's order: the entry stored longest ago goes when it is full.
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(tokenHash, { principal, checkedAt: now });
  }
}
