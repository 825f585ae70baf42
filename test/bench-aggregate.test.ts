import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldRounds, median } from '../bench/aggregate.ts';
import type { Figure } from '../bench/context.ts';

function rate(value: number, baseline: number): Figure {
  return {
    scenario: '1 throughput',
    name: 'notifications/s',
    unit: '/s',
    value,
    baseline,
    ratio: value / baseline,
    target: '≥ 0.7 × raw',
    pass: value >= 0.7 * baseline,
  };
}

const rss = (value: number): Figure => ({
  scenario: '6 footprint',
  name: 'database bytes per channel',
  unit: 'B',
  value,
  baseline: null,
  ratio: null,
  target: null,
  pass: null,
});

test('median of odd and even counts', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

test('a folded ratio is the median of each round against its own baseline', () => {
  // Round 2 ran on a machine twice as fast: its ratio is the lowest, its values the highest.
  const [f] = foldRounds([[rate(7_000, 10_000)], [rate(12_000, 20_000)], [rate(8_000, 10_500)]]);
  assert.ok(f);
  assert.equal(f.value, 8_000);
  assert.equal(f.baseline, 10_500);
  assert.equal(f.ratio, 0.7);
  assert.deepEqual(f.rounds, [0.7, 0.6, 8_000 / 10_500]);
  // Not value/baseline of the medians (0.76): the rounds' own pairs decide.
  assert.equal(f.passes, 2);
  assert.equal(f.pass, true);
});

test('a figure passes only when more than half of its rounds passed', () => {
  const [tie] = foldRounds([[rate(8_000, 10_000)], [rate(6_000, 10_000)]]);
  assert.equal(tie?.passes, 1);
  assert.equal(tie?.pass, false);
  const [one] = foldRounds([[rate(6_000, 10_000)]]);
  assert.equal(one?.pass, false);
  assert.deepEqual(one?.rounds, [0.6]);
});

test('figures keep their first order; those without a baseline fold their values', () => {
  const folded = foldRounds([
    [rate(7_000, 10_000), rss(380)],
    [rss(390), rate(7_500, 10_000)],
    [rss(385)],
  ]);
  assert.deepEqual(
    folded.map((f) => f.scenario),
    ['1 throughput', '6 footprint'],
  );
  const bytes = folded[1];
  assert.equal(bytes?.value, 385);
  assert.equal(bytes?.baseline, null);
  assert.equal(bytes?.ratio, null);
  assert.equal(bytes?.pass, null);
  assert.deepEqual(bytes?.rounds, [380, 390, 385]);
});
