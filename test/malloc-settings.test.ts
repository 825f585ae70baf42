import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChildServer } from './support/child-server.ts';

const dir = mkdtempSync(join(tmpdir(), 'calpush-malloc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const linuxOnly = { skip: process.platform !== 'linux' && 'glibc settings apply on Linux only' };
const unset = { MALLOC_ARENA_MAX: undefined, MALLOC_TRIM_THRESHOLD_: undefined };

/** The environment the server process runs with now, from /proc. */
function environmentOf(server: ChildServer): Map<string, string> {
  const raw = readFileSync(`/proc/${server.process.pid}/environ`, 'utf8');
  return new Map(
    raw
      .split('\0')
      .filter(Boolean)
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  );
}

test('serve restarts itself in place with two trimmed malloc arenas', linuxOnly, async () => {
  const server = await ChildServer.start(join(dir, 'a'), { ...unset, GLIBC_TUNABLES: undefined });
  try {
    // The pid spawned is the one serving: the settings came by exec, not by a child process.
    const env = environmentOf(server);
    assert.equal(env.get('MALLOC_ARENA_MAX'), '2');
    assert.equal(env.get('MALLOC_TRIM_THRESHOLD_'), '0');
    const res = await fetch(`${server.url}/healthz`);
    assert.equal(res.status, 200);
  } finally {
    await server.kill('SIGTERM');
  }
});

test("an operator's own allocator settings are left as they are", linuxOnly, async () => {
  const server = await ChildServer.start(join(dir, 'b'), { ...unset, MALLOC_ARENA_MAX: '4' });
  try {
    const env = environmentOf(server);
    assert.equal(env.get('MALLOC_ARENA_MAX'), '4');
    assert.equal(env.has('MALLOC_TRIM_THRESHOLD_'), false);
  } finally {
    await server.kill('SIGTERM');
  }
});
