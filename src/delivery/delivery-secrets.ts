import type { Delivery } from '../domain/delivery.ts';
import type { OpenedSecrets, SecretOpener } from '../domain/secrets.ts';

/** Clients and channels remembered; past this the longest-remembered goes first. */
const MAX_ENTRIES = 10_000;

interface ClientEntry {
  readonly sealed: readonly string[];
  /** The opened secrets of a delivery without a token, ready to hand out as they are. */
  readonly opened: OpenedSecrets;
}

interface TokenEntry {
  readonly sealed: string;
  readonly token: string;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function remember<V>(map: Map<string, V>, key: string, value: V): V {
  map.delete(key);
  if (map.size >= MAX_ENTRIES) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
  map.set(key, value);
  return value;
}

/**
 * Opens a delivery's sealed secrets for its renderer. Opening costs a cipher set-up per
 * value, a good part of what signing a notification costs, while a client's secrets change
 * only when it rotates them: each client's opened secrets are kept, with the sealed values
 * they came from, and opened again only when the claim brings other sealed values (a
 * secret added or revoked, a key rotated). Channel tokens are kept the same way, per
 * channel. A value that cannot be opened throws, which fails that one attempt alone.
 */
export class DeliverySecrets {
  readonly #opener: SecretOpener;
  readonly #clients = new Map<string, ClientEntry>();
  readonly #tokens = new Map<string, TokenEntry>();

  constructor(opener: SecretOpener) {
    this.#opener = opener;
  }

  of(delivery: Delivery): OpenedSecrets {
    const client = this.#client(delivery.channel.clientId, delivery.sealedSecrets);
    const sealedToken = delivery.channel.sealedToken;
    if (sealedToken === null) return client.opened;
    return {
      signingSecrets: client.opened.signingSecrets,
      token: this.#token(delivery.channel.id, sealedToken),
    };
  }

  #client(clientId: string, sealed: readonly string[]): ClientEntry {
    const known = this.#clients.get(clientId);
    if (known && sameList(known.sealed, sealed)) return known;
    const signingSecrets = sealed.map((s) => this.#opener.open(s));
    return remember(this.#clients, clientId, { sealed, opened: { signingSecrets, token: null } });
  }

  #token(channelId: string, sealed: string): string {
    const known = this.#tokens.get(channelId);
    if (known?.sealed === sealed) return known.token;
    return remember(this.#tokens, channelId, { sealed, token: this.#opener.open(sealed) }).token;
  }
}
