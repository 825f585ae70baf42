/**
 * Figures of repeated rounds, folded into one per figure. On a shared machine the same
 * scenario moves by tens of percent between runs minutes apart, and its baseline with it; a
 * verdict from one pair of runs is a coin toss near the target. Rounds repeat every scenario
 * in turn, so each round's calpush and baseline runs sit side by side in time, and the
 * folded figure is the median of the rounds.
 */
import type { Figure } from './context.ts';

export interface FoldedFigure extends Figure {
  /** Each round's value, in round order. */
  readonly values: readonly number[];
  /** Each round's ratio (null where it had none), in round order. */
  readonly ratios: readonly (number | null)[];
  /** Rounds whose figure met its target (null when it has none), of `judged`. */
  readonly passes: number | null;
  /** Rounds that gave the figure a verdict. */
  readonly judged: number;
}

/** The median of the finite values; NaN when there is none. */
export function median(values: readonly number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const present = <T>(values: readonly (T | null)[]): T[] => values.filter((v): v is T => v !== null);

const keyOf = (f: Figure) => `${f.scenario}\u0000${f.name}`;

/**
 * One figure per scenario and name, in the order of their first appearance. The value and
 * the baseline are the rounds' medians; the ratio is the median of the rounds' own ratios
 * (each round's calpush run against its own baseline), not the ratio of the medians. Rounds
 * that lack a baseline, ratio or verdict are left out of that median or count. A figure
 * passes when more than half of the rounds that judged it passed: for an odd number of
 * rounds and a plain threshold on the value or the ratio, that is the median's verdict.
 */
export function foldRounds(rounds: readonly (readonly Figure[])[]): FoldedFigure[] {
  const byKey = new Map<string, Figure[]>();
  for (const round of rounds) {
    for (const f of round) {
      const key = keyOf(f);
      const seen = byKey.get(key);
      if (seen) seen.push(f);
      else byKey.set(key, [f]);
    }
  }
  return [...byKey.values()].map((runs) => {
    const first = runs[0]!;
    const baselines = present(runs.map((f) => f.baseline));
    const ratios = present(runs.map((f) => f.ratio));
    const verdicts = present(runs.map((f) => f.pass));
    const passes = verdicts.length > 0 ? verdicts.filter(Boolean).length : null;
    const notes = [...new Set(present(runs.map((f) => f.note ?? null)))];
    return {
      ...first,
      value: median(runs.map((f) => f.value)),
      baseline: baselines.length > 0 ? median(baselines) : null,
      ratio: ratios.length > 0 ? median(ratios) : null,
      pass: passes === null ? null : passes * 2 > verdicts.length,
      values: runs.map((f) => f.value),
      ratios: runs.map((f) => f.ratio),
      passes,
      judged: verdicts.length,
      ...(notes.length > 0 ? { note: notes.join(' | ') } : {}),
    };
  });
}
