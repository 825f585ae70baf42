import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Harness, TestAccount } from './support/harness.ts';
import { createTestAccount, startHarness } from './support/harness.ts';
import { Receiver } from './support/receiver.ts';

const bin = fileURLToPath(new URL('../bin/calpush.js', import.meta.url));

/** A `calpush listen` child process; tests wait on its printed lines (a spy, no sleeps). */
class ListenProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  readonly #child: ChildProcess;
  readonly #waiters = new Set<() => void>();
  #stderr = '';

  constructor(args: readonly string[]) {
    this.#child = spawn(process.execPath, [bin, 'listen', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let partial = '';
    this.#child.stdout?.on('data', (d: Buffer) => {
      const text = partial + d.toString();
      const complete = text.split('\n');
      partial = complete.pop() ?? '';
      this.lines.push(...complete);
      for (const w of this.#waiters) w();
    });
    this.#child.stderr?.on('data', (d: Buffer) => (this.#stderr += d.toString()));
    this.exited = new Promise((resolve) => this.#child.once('exit', (code) => resolve(code)));
    void this.exited.then(() => {
      for (const w of this.#waiters) w();
    });
  }

  /** The first printed line matching `pattern`, once it is printed. */
  line(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpExecArray> {
    const find = () => this.lines.map((l) => pattern.exec(l)).find((m) => m !== null);
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = find();
        if (match) {
          clearTimeout(timer);
          this.#waiters.delete(check);
          resolve(match);
        } else if (this.#child.exitCode !== null) {
          clearTimeout(timer);
          this.#waiters.delete(check);
          reject(new Error(`listen exited: ${this.#stderr}\n${this.lines.join('\n')}`));
        }
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`no line ${pattern} in:\n${this.lines.join('\n')}\n${this.#stderr}`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  signal(name: NodeJS.Signals): void {
    this.#child.kill(name);
  }

  stop(): void {
    if (this.#child.exitCode === null) this.#child.kill('SIGKILL');
  }
}

const sign = (body: string, secret: string) =>
  createHmac('sha256', secret).update(body).digest('base64');

describe('calpush listen (CLI process against a real server)', () => {
  let h: Harness;
  let account: TestAccount;
  let forward: Receiver;

  before(async () => {
    h = await startHarness({ listen: true, start: true });
    account = await createTestAccount(h.service);
    forward = await Receiver.start();
  });
  after(async () => {
    await forward.close();
    await h.close();
  });

  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${h.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${account.accessToken}`,
        'content-type': 'application/json',
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const channelState = async (publicId: string) =>
    (
      await h.service.store.db
        .selectFrom('channels')
        .select('state')
        .where('public_id', '=', publicId)
        .executeTakeFirstOrThrow()
    ).state;

  test('cronofy: prints, verifies and forwards; flags a forgery; Ctrl-C closes the channel', async () => {
    forward.requests.length = 0;
    forward.reply = { status: 200 };
    const listener = new ListenProcess([
      '--server',
      h.url,
      '--token',
      account.accessToken,
      '--secret',
      account.clientSecret,
      '--forward-to',
      `${forward.url}/hook`,
      '--dev',
    ]);
    try {
      const local = (await listener.line(/receiving on (http:\/\/127\.0\.0\.1:\d+\/)/))[1]!;
      const channelId = (await listener.line(/cronofy channel (\S+) open on/))[1]!;
      await listener.line(/ verification .* verified {2}→ 200$/);

      const upsert = await api('POST', `/v1/calendars/${account.calendarId}/events`, {
        event_id: 'listen-1',
        summary: 'Seen by listen',
        start: '2026-12-01T09:00:00Z',
        end: '2026-12-01T10:00:00Z',
      });
      assert.equal(upsert.status, 202);
      const printed = await listener.line(
        /^\S+ {2}change +(ntf_\d+) +(\S+) {2}age ≤\d+\.\ds {2}verified {2}→ 200$/,
      );
      assert.equal(printed[2], channelId);

      // What arrived at the forward target is what calpush sent: its signature still holds.
      await forward.waitFor((r) => r.some((q) => q.body.includes('"change"')));
      const got = forward.requests.find((q) => q.body.includes('"change"'))!;
      assert.equal(got.path, '/hook');
      assert.equal(got.headers['cronofy-hmac-sha256'], sign(got.body, account.clientSecret));
      assert.equal(got.headers['calpush-notification-id'], printed[1]);
      assert.match(String(got.headers['content-type']), /^application\/json/);
      const body = JSON.parse(got.body) as { channel: { channel_id: string } };
      assert.equal(body.channel.channel_id, channelId);

      // A forged notification straight to the listener: flagged, and answered with the
      // forward's status.
      forward.reply = { status: 418 };
      const forged = await fetch(local, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'cronofy-hmac-sha256': sign(got.body, 'not the secret'),
          'calpush-notification-id': 'ntf_forged',
        },
        body: got.body,
      });
      assert.equal(forged.status, 418);
      await listener.line(/ntf_forged .*SIGNATURE MISMATCH {2}→ 418$/);

      listener.signal('SIGINT');
      assert.equal(await listener.exited, 0);
      await listener.line(new RegExp(`channel ${channelId} closed`));
      assert.equal(await channelState(channelId), 'closed');
      const listed = (await (await api('GET', '/v1/channels')).json()) as {
        channels: { channel_id: string }[];
      };
      assert.ok(!listed.channels.some((c) => c.channel_id === channelId));
    } finally {
      listener.stop();
    }
  });

  test('google: checks the channel token, answers 200 without a forward, SIGTERM stops it', async () => {
    const listener = new ListenProcess([
      '--server',
      h.url,
      '--token',
      account.accessToken,
      '--dialect',
      'google',
      '--calendar',
      account.calendarId,
      '--dev',
    ]);
    try {
      const local = (await listener.line(/receiving on (http:\/\/127\.0\.0\.1:\d+\/)/))[1]!;
      const channelId = (await listener.line(/google channel (\S+) open on/))[1]!;
      await listener.line(new RegExp(` sync +ntf_\\d+ +${channelId} {2}age - {2}verified$`));
      const insert = await api('POST', `/calendar/v3/calendars/${account.calendarId}/events`, {
        summary: 'Seen by listen',
        start: { dateTime: '2026-12-09T09:00:00Z' },
        end: { dateTime: '2026-12-09T10:00:00Z' },
      });
      assert.equal(insert.status, 200);
      await listener.line(new RegExp(` exists +ntf_\\d+ +${channelId} {2}age - {2}verified$`));

      const forged = await fetch(local, {
        method: 'POST',
        headers: {
          'x-goog-channel-id': channelId,
          'x-goog-resource-state': 'exists',
          'x-goog-channel-token': 'guessed',
        },
      });
      assert.equal(forged.status, 200);
      await listener.line(/ exists .*SIGNATURE MISMATCH$/);

      listener.signal('SIGTERM');
      assert.equal(await listener.exited, 0);
      assert.equal(await channelState(channelId), 'closed');
    } finally {
      listener.stop();
    }
  });

  test('a forward that fails is answered 502', async () => {
    const gone = await Receiver.start();
    const url = gone.url;
    await gone.close();
    const listener = new ListenProcess([
      '--server',
      h.url,
      '--token',
      account.accessToken,
      '--forward-to',
      url,
      '--dev',
    ]);
    try {
      const local = (await listener.line(/receiving on (http:\/\/127\.0\.0\.1:\d+\/)/))[1]!;
      await listener.line(/ verification .*forward failed/);
      const res = await fetch(local, { method: 'POST', body: '{}' });
      assert.equal(res.status, 502);
      listener.signal('SIGINT');
      assert.equal(await listener.exited, 0);
    } finally {
      listener.stop();
    }
  });

  test('without --dev or --public-url it refuses with a clear usage error', async () => {
    const listener = new ListenProcess(['--server', h.url, '--token', account.accessToken]);
    assert.equal(await listener.exited, 2);
  });
});
