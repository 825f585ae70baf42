import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonTextDeeperThan, nulPath, valueDeeperThan } from './json-bounds.ts';

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

test('text depth counts arrays and objects, not brackets inside strings', () => {
  assert.equal(jsonTextDeeperThan('{"a":[1,{"b":2}]}', 3), false);
  assert.equal(jsonTextDeeperThan('{"a":[1,{"b":2}]}', 2), true);
  assert.equal(jsonTextDeeperThan('"[[[[[[[["', 1), false);
  // An escaped quote does not end the string, so the brackets after it are still inside it.
  assert.equal(jsonTextDeeperThan('["\\"[[[[["]', 1), false);
  assert.equal(jsonTextDeeperThan('["\\\\",[[]]]', 2), true);
  assert.equal(jsonTextDeeperThan('42', 0), false);
});

test('a hostile nesting is found without parsing it', () => {
  assert.equal(jsonTextDeeperThan(nested(100_000), 32), true);
  assert.equal(jsonTextDeeperThan(nested(32), 32), false);
});

test('value depth walks without recursing, so any depth can be measured', () => {
  assert.equal(valueDeeperThan({ a: [1, { b: 2 }] }, 3), false);
  assert.equal(valueDeeperThan({ a: [1, { b: 2 }] }, 2), true);
  assert.equal(valueDeeperThan('text', 0), false);
  assert.equal(valueDeeperThan(JSON.parse(nested(20_000)), 16), true);
});

test('a NUL character is found in any string or key, with its path', () => {
  assert.equal(nulPath({ a: ['x', { b: 'fine' }] }), undefined);
  assert.equal(nulPath({ a: ['x', { b: 'no\u0000' }] }), 'a.1.b');
  assert.equal(nulPath({ 'k\u0000': 1 }), 'k\u0000');
  assert.equal(nulPath('\u0000'), '');
  assert.equal(nulPath(42), undefined);
});
