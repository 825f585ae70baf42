/**
 * Secrets calpush must read back (client secrets, channel tokens, source passwords, the page
 * and sync token key) are kept sealed in the store. Whoever holds the key hands these out:
 * the store and the delivery engine are given one and never see the key.
 */
export interface SecretSealer {
  seal(plain: string): string;
}

export interface SecretOpener {
  /** Throws when the value was sealed under a key the opener does not hold, or altered. */
  open(sealed: string): string;
}

/** A delivery's secrets, opened: what its dialect signs with and echoes back. */
export interface OpenedSecrets {
  /** The client's active secrets, oldest first. */
  readonly signingSecrets: readonly string[];
  /** The channel's token, which some dialects echo with every notification. */
  readonly token: string | null;
}
