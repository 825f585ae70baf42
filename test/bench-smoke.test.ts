import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { adminUrl } from './support/postgres.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'calpush-bench-smoke-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Figure {
  scenario: string;
  name: string;
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

// The PostgreSQL path (`--database-url`) at a hundredth of scenarios 1 and 2: every node count
// reports its figures and the CPU it used, and every database the run made is dropped.
test('the benchmark runs scenarios 1 and 2 on 1, 2 and 3 PostgreSQL nodes', async () => {
  const out = join(dir, 'postgres.json');
  const script = fileURLToPath(new URL('../bench/run.ts', import.meta.url));
  const args = ['--only', '1,2', '--scale', '0.01', '--database-url', adminUrl, '--out', out];
  const { stdout } = await run(process.execPath, [script, ...args], {
    timeout: 240_000,
    maxBuffer: 8 * 1024 * 1024,
  });
  const { figures } = JSON.parse(readFileSync(out, 'utf8')) as { figures: Figure[] };
  for (const nodes of ['1 node', '2 nodes', '3 nodes']) {
    const named = (scenario: string, name: string) =>
      figures.find((f) => f.scenario === scenario && f.name === `PostgreSQL, ${nodes}: ${name}`);
    for (const f of [
      named('1 throughput', 'notifications/s'),
      named('2 latency', 'p50'),
      named('2 latency', 'p99'),
    ]) {
      assert.ok(f && Number.isFinite(f.value) && f.value > 0, `${nodes}: ${JSON.stringify(f)}`);
    }
  }
  assert.match(stdout, /CPU per notification: receiver \d+ µs, nodes \d+ µs, postgres \d+ µs/);
  const made = [...new Set(stdout.match(/calpush_bench_[0-9a-f]+/g) ?? [])];
  assert.ok(made.length >= 3, stdout);
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query('select datname from pg_database where datname = any($1)', [
      made,
    ]);
    assert.deepEqual(rows, []);
  } finally {
    await admin.end();
  }
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
