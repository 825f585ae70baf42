import { randomBytes } from 'node:crypto';
import { sameText } from '../../domain/same-text.ts';
import { cookieValue } from '../../http/cookies.ts';
import type { OperatorSession, SessionRequest } from './app.ts';

export const SESSION_COOKIE = 'calpush_session';
/** How long a dashboard login lasts. */
const SESSION_MS = 8 * 60 * 60 * 1000;
/** Sessions held at once; the oldest goes first past it. */
const MAX_SESSIONS = 1000;
/**
 * How long a session trusts its last look at the operator token: revoking the token (from
 * another process, `calpush admin-token revoke-all`) ends its sessions within this time.
 */
const SESSION_RECHECK_MS = 30_000;

interface Session {
  readonly csrf: string;
  readonly expiresAt: number;
  /** The hash of the operator token that opened it, looked up again every so often. */
  readonly tokenHash: string;
  checkedAt: number;
}

/** Whether the operator token with this hash still opens calpush. */
export type TokenStillValid = (tokenHash: string) => Promise<boolean>;

/**
 * The dashboard's logins: a random session id in an HttpOnly, SameSite=Strict cookie, and a
 * CSRF token the page sends back in `X-CSRF-Token` with every write. Held in this process's
 * memory: a restart logs the operator out, and behind a balancer over several nodes the
 * dashboard needs sticky sessions (the admin API with a bearer token needs none). A session
 * lasts only as long as the operator token that opened it.
 */
export class DashboardSessions {
  readonly #sessions = new Map<string, Session>();
  readonly #now: () => number;
  readonly #stillValid: TokenStillValid;

  constructor(now: () => number, stillValid: TokenStillValid) {
    this.#now = now;
    this.#stillValid = stillValid;
  }

  open(tokenHash: string): { id: string; csrf: string; maxAgeSeconds: number } {
    if (this.#sessions.size >= MAX_SESSIONS) {
      const oldest = this.#sessions.keys().next();
      if (!oldest.done) this.#sessions.delete(oldest.value);
    }
    const id = randomBytes(32).toString('base64url');
    const csrf = randomBytes(32).toString('base64url');
    const now = this.#now();
    this.#sessions.set(id, { csrf, expiresAt: now + SESSION_MS, tokenHash, checkedAt: now });
    return { id, csrf, maxAgeSeconds: SESSION_MS / 1000 };
  }

  /** The live session a cookie header names, if any. */
  async find(cookie: string | undefined): Promise<{ id: string; csrf: string } | undefined> {
    const id = cookieValue(cookie, SESSION_COOKIE);
    if (!id) return undefined;
    return (await this.#live(id)) ? { id, csrf: this.#sessions.get(id)?.csrf ?? '' } : undefined;
  }

  /** Whether the session with this id is still open (for long requests to ask again). */
  readonly stillOpen = (id: string): Promise<boolean> => this.#live(id);

  async #live(id: string): Promise<boolean> {
    const session = this.#sessions.get(id);
    if (!session) return false;
    const now = this.#now();
    if (session.expiresAt <= now) {
      this.#sessions.delete(id);
      return false;
    }
    if (now - session.checkedAt < SESSION_RECHECK_MS) return true;
    if (!(await this.#stillValid(session.tokenHash))) {
      this.#sessions.delete(id);
      return false;
    }
    session.checkedAt = now;
    return true;
  }

  close(id: string): void {
    this.#sessions.delete(id);
  }

  /** The admin API's check: reads need the session, writes its CSRF token too. */
  readonly check: OperatorSession = async (req: SessionRequest) => {
    const session = await this.find(req.cookie);
    if (!session) return null;
    const open = { stillOpen: () => this.stillOpen(session.id) };
    if (req.method === 'GET' || req.method === 'HEAD') return open;
    return req.csrf !== undefined && sameText(req.csrf, session.csrf) ? open : 'csrf';
  };
}
