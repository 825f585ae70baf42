import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSecretBox, keyId } from './secret-box.ts';

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

test('a ring of keys seals under the first and opens under any', () => {
  const [oldKey, newKey] = [randomBytes(32), randomBytes(32)];
  const old = createSecretBox(oldKey);
  const ring = createSecretBox([newKey, oldKey]);
  const sealedOld = old.seal('a');
  const sealedNew = ring.seal('b');
  assert.equal(ring.keyId, keyId(newKey));
  assert.deepEqual(ring.keyIds, [keyId(newKey), keyId(oldKey)]);
  assert.equal(ring.keyIdOf(sealedNew), keyId(newKey));
  assert.equal(ring.keyIdOf(sealedOld), keyId(oldKey));
  assert.equal(ring.keyIdOf('sec_plain'), undefined);
  assert.equal(ring.open(sealedOld), 'a');
  assert.equal(ring.open(sealedNew), 'b');
  assert.throws(() => old.open(sealedNew), /sealed under key/);
  assert.throws(() => createSecretBox([]), /no secret key/);
  assert.throws(() => createSecretBox([newKey, randomBytes(16)]), /32 bytes/);
});
