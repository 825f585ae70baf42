import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SECRET_KEY_FILE, createSecretBox, loadSecretKey } from './secret-box.ts';

test('a sealed secret opens under its key only, and any change to it is refused', () => {
  const box = createSecretBox(randomBytes(32));
  const sealed = box.seal('hunter2');
  assert.ok(!sealed.includes('hunter2'));
  assert.notEqual(box.seal('hunter2'), sealed);
  assert.equal(box.open(sealed), 'hunter2');
  assert.throws(() => createSecretBox(randomBytes(32)).open(sealed), /sealed under key/);
  const parts = sealed.split('.');
  const body = Buffer.from(parts[3] ?? '', 'base64url');
  body[0] = (body[0] ?? 0) ^ 1;
  parts[3] = body.toString('base64url');
  assert.throws(() => box.open(parts.join('.')), /altered/);
  assert.throws(() => box.open('plain text'), /not a sealed secret/);
});

test('without a configured key, one is made once in the data directory, readable by its owner only', () => {
  const dir = mkdtempSync(join(tmpdir(), 'calpush-key-'));
  try {
    const first = loadSecretKey(undefined, join(dir, 'data'));
    assert.equal(statSync(join(dir, 'data', SECRET_KEY_FILE)).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'data')).mode & 0o777, 0o700);
    assert.deepEqual(loadSecretKey(undefined, join(dir, 'data')), first);
    const configured = randomBytes(32);
    assert.deepEqual(loadSecretKey(configured.toString('base64'), dir), configured);
    assert.throws(() => loadSecretKey('c2hvcnQ=', dir), /32 random bytes/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
