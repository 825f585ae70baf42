import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Completion } from '../domain/delivery.ts';
import { createLogger } from '../log.ts';
import { OutcomeWriter } from './outcome-writer.ts';

/** Stand-ins: the writer only holds them and passes them on. */
const outcome = (i: number, heldUntil = 60_000) =>
  ({ kind: 'delivered', attempt: { at: i }, delivery: { heldUntil } }) as unknown as Completion;

/** A writer whose writes are kept; `next()` settles when it has finished one of its own. */
function writer(write = (_batch: readonly Completion[]) => Promise.resolve(), now = () => 0) {
  const batches: (readonly Completion[])[] = [];
  const recorded: (readonly Completion[])[] = [];
  let done = () => {};
  const w = new OutcomeWriter({
    logger: createLogger('silent'),
    write: (batch) => {
      batches.push(batch);
      return write(batch);
    },
    recorded: (batch) => recorded.push(batch),
    written: () => done(),
    now,
  });
  const next = () => new Promise<void>((resolve) => (done = resolve));
  return { w, batches, recorded, next };
}

test('with nothing more on the wire, an outcome is written on a later turn', async () => {
  const { w, batches, recorded, next } = writer();
  const written = next();
  w.add(outcome(1), false);
  assert.equal(batches.length, 0);
  assert.equal(w.pending, 1);
  await written;
  assert.deepEqual(batches, [[outcome(1)]]);
  assert.deepEqual(recorded, batches);
  assert.equal(w.pending, 0);
});

test('outcomes share a write while more are on the wire; the last one ends the wait', async () => {
  const { w, batches, next } = writer();
  const written = next();
  w.add(outcome(1), true);
  w.add(outcome(2), true);
  w.add(outcome(3), false);
  await written;
  assert.deepEqual(batches, [[outcome(1), outcome(2), outcome(3)]]);
});

test('a full batch is written without waiting for more', async () => {
  const { w, batches, next } = writer();
  const written = next();
  for (let i = 0; i < 300; i++) w.add(outcome(i), true);
  await written;
  assert.equal(batches.length, 1);
  assert.equal(batches[0]!.length, 300);
});

test('a failed write is not recorded; it is tried again with the next while its lease holds', async () => {
  let fail = true;
  const { w, batches, recorded } = writer(() =>
    fail ? Promise.reject(new Error('connection terminated')) : Promise.resolve(),
  );
  w.add(outcome(1), false);
  await w.flush();
  assert.equal(w.pending, 1);
  fail = false;
  w.add(outcome(2), false);
  await w.stop();
  assert.deepEqual(batches, [[outcome(1)], [outcome(1), outcome(2)]]);
  assert.deepEqual(recorded, [[outcome(1), outcome(2)]]);
});

test('an outcome whose lease ran out while its write failed is dropped, not written late', async () => {
  let now = 0;
  let fail = true;
  const { w, batches } = writer(
    () => (fail ? Promise.reject(new Error('connection terminated')) : Promise.resolve()),
    () => now,
  );
  w.add(outcome(1, 1_000), false);
  now = 2_000;
  await w.flush();
  assert.equal(w.pending, 0);
  fail = false;
  w.add(outcome(2, 60_000), false);
  await w.stop();
  assert.deepEqual(batches, [[outcome(1, 1_000)], [outcome(2, 60_000)]]);
});
