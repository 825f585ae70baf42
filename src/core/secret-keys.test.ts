import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  NEXT_KEY_FILE,
  SECRET_KEY_FILE,
  loadSecretKeys,
  promoteNextKey,
  stageNextKey,
} from './secret-keys.ts';

function inTempDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'calpush-key-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const modeOf = (path: string) => statSync(path).mode & 0o777;

test('without a configured key, one is made once in the data directory, readable by its owner only', () => {
  inTempDir((dir) => {
    const data = join(dir, 'data');
    const first = loadSecretKeys(undefined, data);
    assert.equal(first.source, 'file');
    assert.equal(first.keys.length, 1);
    assert.equal(modeOf(join(data, SECRET_KEY_FILE)), 0o600);
    assert.equal(modeOf(data), 0o700);
    assert.deepEqual(loadSecretKeys(undefined, data).keys, first.keys);
  });
});

test('the key file is made 0600 whatever the umask, and a looser one is narrowed at start', () => {
  inTempDir((dir) => {
    const previous = process.umask(0o000);
    try {
      const data = join(dir, 'open');
      loadSecretKeys(undefined, data);
      assert.equal(modeOf(join(data, SECRET_KEY_FILE)), 0o600);
      assert.equal(modeOf(data), 0o700);
    } finally {
      process.umask(previous);
    }
    const loose = join(dir, 'loose');
    mkdirSync(loose, { mode: 0o755 });
    chmodSync(loose, 0o755);
    writeFileSync(join(loose, SECRET_KEY_FILE), `${randomBytes(32).toString('base64')}\n`);
    chmodSync(join(loose, SECRET_KEY_FILE), 0o644);
    loadSecretKeys(undefined, loose);
    assert.equal(modeOf(loose), 0o700);
    assert.equal(modeOf(join(loose, SECRET_KEY_FILE)), 0o600);
  });
});

test('configured keys: the first seals, the others are accepted; a malformed one is refused', () => {
  inTempDir((dir) => {
    const [a, b] = [randomBytes(32), randomBytes(32)];
    const keys = loadSecretKeys(`${a.toString('base64')}, ${b.toString('base64')}`, dir);
    assert.equal(keys.source, 'config');
    assert.deepEqual(keys.keys, [a, b]);
    assert.deepEqual(loadSecretKeys(a.toString('base64'), dir).keys, [a]);
    assert.throws(() => loadSecretKeys('c2hvcnQ=', dir), /32 random bytes/);
    assert.ok(!existsSync(join(dir, SECRET_KEY_FILE)));
  });
});

test('a staged next key is accepted beside the key until it is promoted', () => {
  inTempDir((dir) => {
    const [current] = loadSecretKeys(undefined, dir).keys;
    const next = stageNextKey(dir);
    assert.equal(modeOf(join(dir, NEXT_KEY_FILE)), 0o600);
    // Staged again (an interrupted rotation taken up): the same key, not a new one.
    assert.deepEqual(stageNextKey(dir), next);
    const during = loadSecretKeys(undefined, dir);
    assert.deepEqual(during.keys, [current, next]);
    assert.equal(during.rotationPending, true);
    promoteNextKey(dir);
    const after = loadSecretKeys(undefined, dir);
    assert.deepEqual(after.keys, [next]);
    assert.equal(after.rotationPending, false);
    assert.ok(!existsSync(join(dir, NEXT_KEY_FILE)));
  });
});
