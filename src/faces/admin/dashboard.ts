import { readFileSync } from 'node:fs';
import { Hono } from 'hono';
import type { HonoRequest } from 'hono';
import type { CoreResources } from '../../core/resources.ts';
import { isOperatorToken } from '../../core/admin-tokens.ts';
import { hashToken } from '../../core/ids.ts';
import type { DashboardSessions } from './sessions.ts';
import { SESSION_COOKIE } from './sessions.ts';
import { sameText } from '../../domain/same-text.ts';
import { adminErrorBody } from './errors.ts';

/** The page's script and style: files shipped with calpush, read once; no CDN, no build. */
const asset = (name: string) =>
  readFileSync(new URL(`./dashboard/${name}`, import.meta.url), 'utf8');
const APP_JS = asset('app.js');
const STYLE_CSS = asset('style.css');

export interface DashboardOptions {
  readonly adminToken: string | undefined;
  readonly sessions: DashboardSessions;
  /** Cookies are marked Secure when calpush's public URL is https (else when the request was). */
  readonly secureCookies: boolean;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** Every page: no framing, no script but the dashboard's own, nothing from elsewhere. */
function securityHeaders(header: (name: string, value: string) => void): void {
  header(
    'content-security-policy',
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
  );
  header('x-content-type-options', 'nosniff');
  header('referrer-policy', 'same-origin');
  header('cache-control', 'no-store');
}

/** Whether a request's Origin names the host it was sent to (the page came from here). */
function sameHost(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

/**
 * Whether the request reached calpush over https, directly or through a proxy that says so.
 * A client lying about it only makes its own cookie https-only.
 */
function cameOverHttps(req: HonoRequest): boolean {
  const forwarded = req.header('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
  return forwarded === 'https' || req.url.startsWith('https:');
}

/** One text field of a posted form; undefined when absent or the body is not a form. */
async function formField(
  req: { parseBody(): Promise<Record<string, string | File>> },
  name: string,
): Promise<string | undefined> {
  try {
    const value = (await req.parseBody())[name];
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

function page(title: string, body: string, head = ''): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/dashboard/style.css">${head}</head>
<body>${body}</body></html>`;
}

function loginPage(problem?: string): string {
  return page(
    'calpush: sign in',
    `<main class="login"><h1>calpush</h1>
<form method="post" action="/dashboard/login">
<label for="token">Operator token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
${problem ? `<p class="problem" role="alert">${escapeHtml(problem)}</p>` : ''}
<button type="submit">Sign in</button></form></main>`,
  );
}

function appPage(csrf: string): string {
  return page(
    'calpush dashboard',
    `<header><h1>calpush</h1><span id="live" class="live">connecting…</span>
<form method="post" action="/dashboard/logout"><input type="hidden" name="csrf" value="${escapeHtml(csrf)}"><button type="submit">Sign out</button></form></header>
<main id="app"></main><script type="module" src="/dashboard/app.js"></script>`,
    `<meta name="csrf-token" content="${escapeHtml(csrf)}">`,
  );
}

/**
 * The operator's dashboard at `/dashboard`: a login form for the operator token, then one
 * page built from the admin API (`/admin/v1`), which it calls with its session cookie
 * (HttpOnly, SameSite=Strict) and a CSRF token on every write.
 */
export function createDashboard(res: CoreResources, options: DashboardOptions) {
  const app = new Hono();
  const { sessions } = options;
  const cookie = (req: HonoRequest, value: string, maxAge: number) =>
    `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${options.secureCookies || cameOverHttps(req) ? '; Secure' : ''}`;

  app.use('*', async function dashboardHeaders(c, next) {
    await next();
    securityHeaders((name, value) => c.header(name, value));
  });

  app.get('/', async (c) => {
    const session = await sessions.find(c.req.header('cookie'));
    return c.html(session ? appPage(session.csrf) : loginPage());
  });

  app.post('/login', async (c) => {
    // A login form posted from another site would sign the browser in to the attacker's view.
    const origin = c.req.header('origin');
    if (origin !== undefined && !sameHost(origin, c.req.header('host'))) {
      return c.html(loginPage('Sign in from this page.'), 403);
    }
    const token = await formField(c.req, 'token');
    if (!(await isOperatorToken(res, token, options.adminToken))) {
      return c.html(loginPage('That is not an operator token.'), 401);
    }
    const session = sessions.open(hashToken(token ?? ''));
    c.header('set-cookie', cookie(c.req, session.id, session.maxAgeSeconds));
    return c.redirect('/dashboard', 303);
  });

  app.post('/logout', async (c) => {
    const session = await sessions.find(c.req.header('cookie'));
    const csrf = await formField(c.req, 'csrf');
    if (session && csrf !== undefined && sameText(csrf, session.csrf)) sessions.close(session.id);
    c.header('set-cookie', cookie(c.req, '', 0));
    return c.redirect('/dashboard', 303);
  });

  app.get('/app.js', (c) => {
    c.header('content-type', 'text/javascript; charset=utf-8');
    return c.body(APP_JS);
  });
  app.get('/style.css', (c) => {
    c.header('content-type', 'text/css; charset=utf-8');
    return c.body(STYLE_CSS);
  });

  app.all('*', (c) => c.json(adminErrorBody(404, 'no such page', 'not_found'), 404));
  return app;
}
