import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { OperatorSession, SessionRequest } from './app.ts';

export const SESSION_COOKIE = 'calpush_session';
/** How long a dashboard login lasts. */
const SESSION_MS = 8 * 60 * 60 * 1000;
/** Sessions held at once; the oldest goes first past it. */
const MAX_SESSIONS = 1000;

interface Session {
  readonly csrf: string;
  readonly expiresAt: number;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

/**
 * The dashboard's logins: a random session id in an HttpOnly, SameSite=Strict cookie, and a
 * CSRF token the page sends back in `X-CSRF-Token` with every write. Held in this process's
 * memory: a restart logs the operator out, and behind a balancer over several nodes the
 * dashboard needs sticky sessions (the admin API with a bearer token needs none).
 */
export class DashboardSessions {
  readonly #sessions = new Map<string, Session>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  open(): { id: string; csrf: string; maxAgeSeconds: number } {
    if (this.#sessions.size >= MAX_SESSIONS) {
      const oldest = this.#sessions.keys().next();
      if (!oldest.done) this.#sessions.delete(oldest.value);
    }
    const id = randomBytes(32).toString('base64url');
    const csrf = randomBytes(32).toString('base64url');
    this.#sessions.set(id, { csrf, expiresAt: this.#now() + SESSION_MS });
    return { id, csrf, maxAgeSeconds: SESSION_MS / 1000 };
  }

  /** The live session a cookie header names, if any. */
  find(cookie: string | undefined): (Session & { id: string }) | undefined {
    const id = cookieValue(cookie, SESSION_COOKIE);
    if (!id) return undefined;
    const session = this.#sessions.get(id);
    if (!session) return undefined;
    if (session.expiresAt <= this.#now()) {
      this.#sessions.delete(id);
      return undefined;
    }
    return { id, ...session };
  }

  close(id: string): void {
    this.#sessions.delete(id);
  }

  /** The admin API's check: reads need the session, writes its CSRF token too. */
  readonly check: OperatorSession = (req: SessionRequest) => {
    const session = this.find(req.cookie);
    if (!session) return null;
    if (req.method === 'GET' || req.method === 'HEAD') return 'operator';
    return req.csrf !== undefined && sameText(req.csrf, session.csrf) ? 'operator' : 'csrf';
  };
}
