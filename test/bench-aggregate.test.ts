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
  assert.deepEqual(f.ratios, [0.7, 0.6, 8_000 / 10_500]);
  assert.deepEqual(f.values, [7_000, 12_000, 8_000]);
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
  assert.deepEqual(one?.ratios, [0.6]);
});

test('figures keep their first order; those without a baseline fold their values alone', () => {
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
  assert.deepEqual(bytes?.values, [380, 390, 385]);
  assert.deepEqual(bytes?.ratios, [null, null, null]);
});

test('figures of the same name in different scenarios stay apart', () => {
  const p99 = (scenario: string, value: number): Figure => ({
    scenario,
    name: 'p99',
    unit: 'ms',
    value,
    baseline: 1,
    ratio: value,
    target: '≤ 20 ms',
    pass: value <= 20,
  });
  const folded = foldRounds([[p99('2 latency', 10), p99('5 API writes', 30)]]);
  assert.deepEqual(
    folded.map((f) => [f.scenario, f.value, f.pass]),
    [
      ['2 latency', 10, true],
      ['5 API writes', 30, false],
    ],
  );
});

test('a round that could not measure a figure is left out of its median and count', () => {
  const unmeasured: Figure = { ...rate(0, 10_000), value: Number.NaN, ratio: null, pass: null };
  const [f] = foldRounds([[rate(8_000, 10_000)], [unmeasured], [rate(6_000, 10_000)]]);
  assert.equal(f?.value, 7_000);
  assert.equal(f?.ratio, 0.7);
  assert.equal(f?.passes, 1);
  assert.equal(f?.judged, 2);
  assert.equal(f?.pass, false);
  assert.deepEqual(f?.ratios, [0.8, null, 0.6]);
  // NaN anywhere in the list: the median is the same.
  assert.equal(median([Number.NaN, 3, 1]), 2);
  assert.equal(median([3, 1, Number.NaN]), 2);
});

test("every round's distinct note is kept", () => {
  const noted = (note: string): Figure => ({ ...rate(7_000, 10_000), note });
  const [f] = foldRounds([[noted('0 errors')], [noted('2 errors')], [noted('0 errors')]]);
  assert.equal(f?.note, '0 errors | 2 errors');
});
