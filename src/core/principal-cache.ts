import type { Principal } from './accounts.ts';

/** Enough for every account a busy server hears from, at ~0.6 KB each. */
export const MAX_CACHED_TOKENS = 10_000;

export interface PrincipalCacheOptions {
  /** How long a reading of the revocation count is trusted (`CALPUSH_TOKEN_CACHE_MS`). */
  readonly ttlMs: number;
  readonly maxEntries: number;
  /** How often an access token was deleted or rewritten, by anyone: the store's count. */
  readonly revocationCount: () => Promise<number>;
}

/**
 * Who a bearer token speaks for, remembered. Every API request starts by looking its token
 * up; calpush never rewrites a token, so only its deletion can make a remembered answer
 * wrong. The store counts every deletion (and rewrite) of a token, whoever makes it (another
 * node, a `calpush` command, an operator's SQL), and the cache reads that count about once
 * per `ttlMs` instead of each request's token: while the count stays put every entry stands,
 * and when it moves they all go. A token deleted elsewhere is thus refused within `ttlMs`; one
 * revoked through this process is forgotten at once. Entries are keyed by the token's hash, as
 * the store keeps them, so no bearer secret lives on in the heap. Unknown tokens are never
 * remembered: a token created a moment ago works at once.
 */
export class PrincipalCache {
  /** In order of last use: the entry used longest ago goes first when it is full. */
  readonly #entries = new Map<string, Principal>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #revocationCount: () => Promise<number>;
  #count: number | undefined;
  #countReadAt = 0;
  #reading: Promise<void> | undefined;
  /** Moves whenever entries are dropped, so a lookup that raced that does not store. */
  #generation = 0;

  constructor(options: PrincipalCacheOptions) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries;
    this.#revocationCount = options.revocationCount;
  }

  /** What `tokenHash` speaks for, if remembered and no token was deleted since. */
  async get(tokenHash: string, now: number): Promise<Principal | undefined> {
    await this.#current(now);
    const principal = this.#entries.get(tokenHash);
    if (principal) {
      this.#entries.delete(tokenHash);
      this.#entries.set(tokenHash, principal);
    }
    return principal;
  }

  /**
   * Waits for a reading of the count only once the last one is `ttlMs` old. From half that
   * age a reading starts in the background, so under steady use no request waits for one (it
   * may queue behind writes for a connection). One reading serves every caller.
   */
  async #current(now: number): Promise<void> {
    const age = now - this.#countReadAt;
    if (this.#count !== undefined && age >= 0 && age < this.#ttlMs) {
      // A failure here is the next blocking reading's to report.
      if (age >= this.#ttlMs / 2) this.#read(now).catch(() => undefined);
      return;
    }
    await this.#read(now);
  }

  #read(now: number): Promise<void> {
    return (this.#reading ??= this.#readCount(now).finally(() => (this.#reading = undefined)));
  }

  async #readCount(now: number): Promise<void> {
    const count = await this.#revocationCount();
    if (count !== this.#count) {
      this.#entries.clear();
      this.#generation++;
      this.#count = count;
    }
    this.#countReadAt = now;
  }

  /** Taken before a lookup in the store, and handed back to `set` with what it found. */
  get generation(): number {
    return this.#generation;
  }

  /** A token revoked through this process: asked again, the store refuses it. */
  forget(tokenHash: string): void {
    this.#generation++;
    this.#entries.delete(tokenHash);
  }

  /** Every token of an account (its tokens revoked, or the account erased). */
  forgetAccount(accountId: string): void {
    this.#generation++;
    for (const [tokenHash, principal] of this.#entries) {
      if (principal.accountId === accountId) this.#entries.delete(tokenHash);
    }
  }

  /**
   * Remembers what a lookup found, unless entries were dropped since it began (`generation`
   * as it was then): the lookup may have read the token just before its deletion.
   */
  set(tokenHash: string, principal: Principal, generation: number): void {
    if (generation !== this.#generation) return;
    this.#entries.delete(tokenHash);
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(tokenHash, principal);
  }
}
