import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'calpush-bench-smoke-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Figure {
  scenario: string;
  value: number;
  baseline: number | null;
}

// Keeps the benchmark runnable: every scenario at a tenth of its size must finish and report
// a figure with its same-run baseline. It asserts no speed: targets are the benchmark's job.
test('the benchmark runs every scenario in --quick mode and writes its figures', async () => {
  const out = join(dir, 'figures.json');
  const script = fileURLToPath(new URL('../bench/run.ts', import.meta.url));
  await run(process.execPath, [script, '--quick', '--out', out], {
    timeout: 300_000,
    maxBuffer: 8 * 1024 * 1024,
  });
  const { quick, figures } = JSON.parse(readFileSync(out, 'utf8')) as {
    quick: boolean;
    figures: Figure[];
  };
  assert.equal(quick, true);
  const scenarios = new Set(figures.map((f) => f.scenario.split(' ')[0]));
  assert.deepEqual([...scenarios].sort(), ['1', '10', '2', '3', '4', '5', '6', '7', '8', '9']);
  for (const f of figures) assert.ok(Number.isFinite(f.value), `${f.scenario}: ${f.value}`);
});

// The same for the ceiling tool's three loops (raw, calpush's sender alone, the engine).
test('the ceiling tool runs its three loops and reports a rate for each', async () => {
  const script = fileURLToPath(new URL('../bench/ceiling.ts', import.meta.url));
  const { stdout } = await run(process.execPath, [script, '2000', '--rounds', '1'], {
    timeout: 120_000,
  });
  for (const loop of ['raw', 'sender', 'engine']) {
    const line = stdout.split('\n').find((l) => l.trim().startsWith(`${loop} `));
    assert.match(line ?? '', /[\d,]+\/s \([\d.]+ of raw\), [\d.]+ µs CPU per notification/);
  }
});
