import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { access, appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { freePort } from './free-port.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/** Debian's Radicale: run directly, so its own Python (not the PATH's) loads it. */
const radicaleBin = '/usr/bin/radicale';

/** A real Radicale on loopback with a throwaway config, storage and htpasswd file. */
export class Radicale {
  readonly url: string;
  readonly #child: ChildProcess;
  readonly #dir: string;
  readonly #htpasswd: string;

  private constructor(child: ChildProcess, url: string, dir: string, htpasswd: string) {
    this.#child = child;
    this.url = url;
    this.#dir = dir;
    this.#htpasswd = htpasswd;
  }

  /** Starts one; a port another process took between our probe and Radicale's bind is retried. */
  static async start(): Promise<Radicale> {
    const dir = await mkdtemp(join(await scratchRoot(), 'calpush-radicale-'));
    const htpasswd = join(dir, 'users');
    await writeFile(htpasswd, '');
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      const config = join(dir, 'config');
      await writeFile(config, radicaleConfig(port, dir, htpasswd));
      const child = spawn(radicaleBin, ['--config', config], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' },
      });
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-4000);
      });
      try {
        await waitUntilListening(child, port);
        return new Radicale(child, `http://127.0.0.1:${port}`, dir, htpasswd);
      } catch (err) {
        lastError = new Error(`radicale did not start: ${String(err)}\n${stderr}`);
        await stopChild(child);
      }
    }
    await rm(dir, { recursive: true, force: true });
    throw lastError;
  }

  /** Radicale reads the htpasswd file at every login, so users can be added while it runs. */
  async addUser(name: string, password: string): Promise<void> {
    await appendFile(this.#htpasswd, `${name}:${password}\n`);
  }

  /** Gives a user a new password, as when someone changes it on the server. */
  async setPassword(name: string, password: string): Promise<void> {
    const lines = (await readFile(this.#htpasswd, 'utf8')).split('\n');
    const kept = lines.filter((line) => line !== '' && !line.startsWith(`${name}:`));
    await writeFile(this.#htpasswd, [...kept, `${name}:${password}`, ''].join('\n'));
  }

  async stop(): Promise<void> {
    await stopChild(this.#child);
    await rm(this.#dir, { recursive: true, force: true });
  }
}

/** Radicale fsyncs every write (no option turns it off): on tmpfs that costs nothing. */
async function scratchRoot(): Promise<string> {
  try {
    await access('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

function radicaleConfig(port: number, dir: string, htpasswd: string): string {
  return [
    '[server]',
    `hosts = 127.0.0.1:${port}`,
    '[auth]',
    'type = htpasswd',
    `htpasswd_filename = ${htpasswd}`,
    'htpasswd_encryption = plain',
    // A failed login otherwise waits about a second before answering.
    'delay = 0',
    '[rights]',
    'type = owner_only',
    '[storage]',
    `filesystem_folder = ${join(dir, 'collections')}`,
    '[web]',
    'type = none',
    '[logging]',
    'level = error',
    '',
  ].join('\n');
}

/** Tries to connect until Radicale accepts, it exits, or about ten seconds of attempts pass. */
async function waitUntilListening(child: ChildProcess, port: number): Promise<void> {
  let exited = false;
  child.once('exit', () => (exited = true));
  for (let attempt = 0; attempt < 200; attempt++) {
    if (exited) throw new Error(`exited with ${child.exitCode}`);
    if (await accepts(port)) return;
    await delay(50);
  }
  throw new Error(`nothing listening on port ${port}`);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** A user's view of a Radicale for setting up calendars and events, over plain fetch. */
export class RadicaleUser {
  readonly name: string;
  readonly base: string;
  readonly #authorization: string;

  constructor(server: Radicale, name: string, password: string) {
    this.name = name;
    this.base = `${server.url}/${name}/`;
    this.#authorization = `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}`;
  }

  /** Creates a calendar collection under the user's home; returns its URL. */
  async mkcalendar(
    slug: string,
    props: { name?: string; color?: string; components?: readonly string[]; tzid?: string } = {},
  ): Promise<string> {
    const url = `${this.base}${slug}/`;
    const set = [
      props.name === undefined ? '' : `<D:displayname>${props.name}</D:displayname>`,
      props.color === undefined ? '' : `<I:calendar-color>${props.color}</I:calendar-color>`,
      props.components === undefined
        ? ''
        : `<C:supported-calendar-component-set>${props.components
            .map((c) => `<C:comp name="${c}"/>`)
            .join('')}</C:supported-calendar-component-set>`,
      props.tzid === undefined
        ? ''
        : `<C:calendar-timezone>${vtimezone(props.tzid)}</C:calendar-timezone>`,
    ].join('');
    const body =
      '<?xml version="1.0" encoding="utf-8"?>' +
      '<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" ' +
      'xmlns:I="http://apple.com/ns/ical/">' +
      `<D:set><D:prop>${set}</D:prop></D:set></C:mkcalendar>`;
    await this.#expect('MKCALENDAR', url, body, [201]);
    return url;
  }

  /** Writes one resource (an event, a series with overrides, a todo); returns its URL. */
  async put(calendarUrl: string, name: string, ics: string): Promise<string> {
    const url = `${calendarUrl}${name}`;
    await this.#expect('PUT', url, ics, [201, 204], 'text/calendar; charset=utf-8');
    return url;
  }

  /**
   * Creates a calendar with all its events in one request: Radicale takes a PUT of a whole
   * VCALENDAR on a collection URL, names it from X-WR-CALNAME and each resource `<UID>.ics`.
   */
  async putCalendar(slug: string, ics: string): Promise<string> {
    const url = `${this.base}${slug}/`;
    await this.#expect('PUT', url, ics, [201], 'text/calendar; charset=utf-8');
    return url;
  }

  async delete(url: string): Promise<void> {
    await this.#expect('DELETE', url, undefined, [200, 204]);
  }

  async #expect(
    method: string,
    url: string,
    body: string | undefined,
    statuses: readonly number[],
    contentType = 'application/xml; charset=utf-8',
  ): Promise<void> {
    const response = await fetch(url, {
      method,
      headers: { authorization: this.#authorization, 'content-type': contentType },
      body: body ?? null,
    });
    const text = await response.text();
    if (!statuses.includes(response.status)) {
      throw new Error(`${method} ${url}: ${response.status} ${text}`);
    }
  }
}

function vtimezone(tzid: string): string {
  return [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//calpush tests//EN',
    'BEGIN:VTIMEZONE',
    `TZID:${tzid}`,
    'BEGIN:STANDARD',
    'DTSTART:19700101T000000',
    'TZOFFSETFROM:+0100',
    'TZOFFSETTO:+0100',
    'END:STANDARD',
    'END:VTIMEZONE',
    'END:VCALENDAR',
    '',
  ].join('\r\n');
}
