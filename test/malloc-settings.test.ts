import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChildServer } from './support/child-server.ts';

const dir = mkdtempSync(join(tmpdir(), 'calpush-malloc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const linuxOnly = { skip: process.platform !== 'linux' && 'glibc settings apply on Linux only' };
const unset = {
  MALLOC_ARENA_MAX: undefined,
  MALLOC_TRIM_THRESHOLD_: undefined,
  GLIBC_TUNABLES: undefined,
  CALPUSH_ALLOCATOR_SET: undefined,
};

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
  const server = await ChildServer.start(join(dir, 'a'), unset);
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

/** Starts serve with `env` and gives the allocator settings it ended up running with. */
async function settingsUnder(name: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const server = await ChildServer.start(join(dir, name), { ...unset, ...env });
  try {
    const seen = environmentOf(server);
    return ['MALLOC_ARENA_MAX', 'MALLOC_TRIM_THRESHOLD_', 'GLIBC_TUNABLES']
      .filter((k) => seen.has(k))
      .map((k) => `${k}=${seen.get(k)}`);
  } finally {
    await server.kill('SIGTERM');
  }
}

test("an operator's own allocator settings are left as they are", linuxOnly, async () => {
  assert.deepEqual(await settingsUnder('b', { MALLOC_ARENA_MAX: '4' }), ['MALLOC_ARENA_MAX=4']);
  assert.deepEqual(await settingsUnder('c', { MALLOC_TRIM_THRESHOLD_: '65536' }), [
    'MALLOC_TRIM_THRESHOLD_=65536',
  ]);
  assert.deepEqual(await settingsUnder('d', { GLIBC_TUNABLES: 'glibc.malloc.arena_max=3' }), [
    'GLIBC_TUNABLES=glibc.malloc.arena_max=3',
  ]);
});

test('a restarted server never restarts again', linuxOnly, async () => {
  // As after a restart whose settings the loader dropped (secure mode): no loop.
  assert.deepEqual(await settingsUnder('e', { CALPUSH_ALLOCATOR_SET: '1' }), []);
});

test('a server started with an IPC channel keeps it: no restart', linuxOnly, async () => {
  const server = await ChildServer.start(join(dir, 'f'), unset, { ipc: true });
  try {
    assert.equal(environmentOf(server).has('MALLOC_ARENA_MAX'), false);
    assert.equal(server.process.connected, true);
  } finally {
    await server.kill('SIGTERM');
  }
});
