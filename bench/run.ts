/**
 * calpush benchmark suite:
 * `npm run bench -- [--quick] [--out FILE] [--only 1,2,…] [--repeat N] [--cpu-prof DIR]
 * [--database-url postgres://…] [--nodes 1,2,3] [--scale F]`.
 * Starts a real `calpush serve --dev` per scenario and a webhook receiver in another process,
 * pairs every figure with the raw limit measured in the same run, prints one line per figure,
 * a summary table, and writes the figures as JSON to --out. With --repeat, every scenario runs
 * N times in rounds and the summary holds the rounds' medians. With --database-url, scenarios
 * 1 and 2 also run on 1, 2 and 3 nodes over PostgreSQL (or the counts --nodes names), each in a
 * fresh database made on that server and dropped after.
 */
import { cpus, totalmem, tmpdir } from 'node:os';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { BenchContext, Figure } from './context.ts';
import { foldRounds } from './aggregate.ts';
import { ReceiverProcess, scratchDir } from './context.ts';
import { throughput } from './scenarios/throughput.ts';
import { latency } from './scenarios/latency.ts';
import type { LatencyResult } from './scenarios/latency.ts';
import { clusterThroughput } from './scenarios/cluster-throughput.ts';
import type { ClusterThroughput } from './scenarios/cluster-throughput.ts';
import { describeCost } from './cluster.ts';
import { fanout } from './scenarios/fanout.ts';
import { apiWrites, API_CONNECTIONS } from './scenarios/api-writes.ts';
import { footprint } from './scenarios/footprint.ts';
import { coalescing } from './scenarios/coalescing.ts';
import { sourceBytes } from './scenarios/source-bytes.ts';
import { sourcePollRates } from './scenarios/source-polls.ts';
import type { PollRate } from './scenarios/source-polls.ts';
import { READ_CONNECTIONS, recurringReads } from './scenarios/recurring-reads.ts';
import { sourcePush } from './scenarios/source-push.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    only: { type: 'string' },
    'cpu-prof': { type: 'string' },
    repeat: { type: 'string', default: '1' },
    'database-url': { type: 'string' },
    scale: { type: 'string' },
    nodes: { type: 'string', default: '1,2,3' },
  },
});
const databaseUrl = values['database-url'];
if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
  console.error(
    '--database-url takes a postgres:// URL of a server the bench may create databases on',
  );
  process.exit(2);
}
/** Node counts scenarios 1 and 2 run with on PostgreSQL. */
const NODE_COUNTS = [...new Set(values.nodes.split(',').map(Number))].sort((a, b) => a - b);
if (NODE_COUNTS.some((n) => !Number.isInteger(n) || n < 1 || n > 3)) {
  console.error('--nodes takes node counts from 1 to 3, such as 1,3');
  process.exit(2);
}
const nodesLabel = (n: number) => `PostgreSQL, ${n} node${n === 1 ? '' : 's'}`;
const repeat = Number(values.repeat);
if (!Number.isInteger(repeat) || repeat < 1 || repeat > 9) {
  console.error('--repeat takes a whole number of rounds from 1 to 9');
  process.exit(2);
}
const quick = values.quick;
// Smaller than --quick, for the smoke test of the PostgreSQL path: the figures mean nothing.
const scale = values.scale === undefined ? (quick ? 0.1 : 1) : Number(values.scale);
if (!(scale > 0 && scale <= 1)) {
  console.error('--scale takes a fraction of the full size, above 0 and at most 1');
  process.exit(2);
}
const only = values.only ? new Set(values.only.split(',').map(Number)) : null;
const want = (n: number) => only === null || only.has(n);
const cpuProfDir = values['cpu-prof'] ? resolve(values['cpu-prof']) : undefined;
if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });

/** The figures of each round so far; `report` adds to the last one. */
const rounds: Figure[][] = [];
const fmt = (v: number | null, digits = 0) =>
  v === null || Number.isNaN(v)
    ? '-'
    : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
/** Two decimals; a ratio under 0.01 (scenario 8's bytes) with two significant digits. */
const fmtRatio = (r: number | null) =>
  r !== null && r > 0 && r < 0.01
    ? r.toLocaleString('en-US', { maximumSignificantDigits: 2 })
    : fmt(r, 2);
const workDir = mkdtempSync(join(tmpdir(), 'calpush-bench-'));
const receiver = await ReceiverProcess.start();

const ctx: BenchContext = {
  quick,
  scale,
  receiver,
  cpuProfDir,
  workDir,
  scratch: (name) => scratchDir(workDir, name),
  log: (line) => console.log(line),
  report(f) {
    rounds.at(-1)?.push(f);
    const base =
      f.baseline === null ? '' : ` (baseline ${fmt(f.baseline, 1)}, ratio ${fmtRatio(f.ratio)})`;
    const verdict = f.pass === null ? '' : f.pass ? ' PASS' : ' MISS';
    const target = f.target ? ` target ${f.target}` : '';
    console.log(
      `[${f.scenario}] ${f.name}: ${fmt(f.value, 1)} ${f.unit}${base}${target}${verdict}`,
    );
  },
};

function figure(
  scenario: string,
  name: string,
  unit: string,
  value: number,
  baseline: number | null,
  target: string | null,
  pass: boolean | null,
  note?: string,
): Figure {
  return {
    scenario,
    name,
    unit,
    value,
    baseline,
    ratio: baseline ? value / baseline : null,
    target,
    pass,
    ...(note ? { note } : {}),
  };
}

/** The run's size in words: full, quick, or the --scale given. */
const sizeLabel = (quickLabel: string, scaledLabel: string) =>
  values.scale !== undefined ? scaledLabel : quick ? quickLabel : 'full';

const started = performance.now();
console.log(
  `calpush bench (${sizeLabel('quick, 1/10 size', `${scale} of full size`)}) on ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ` +
    `${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
);
/** Scenario 1's Graph half: its notifications per second against the Cronofy half's. */
function reportGraphShare({ cronofy, graph }: { cronofy: number; graph: number }): void {
  const target = '≥ 1.0 × Cronofy half';
  ctx.report(
    figure('1 throughput', 'Graph notifications/s', '/s', graph, cronofy, target, graph >= cronofy),
  );
}

/** Scenario 2's lines beside its figures; returns the note its p99 figure carries. */
function logLatency(r: LatencyResult): string {
  const note = `${r.changes} changes, ${r.uncovered} never notified, ${r.errors} API errors`;
  ctx.log(`  ${note}; committed at ${fmt(r.committedPerSecond)}/s from first to last`);
  const f = (n: number) => n.toFixed(1);
  ctx.log(
    `  from API request sent instead of commit: p50 ${f(r.fromSend.p50)} / p95 ${f(r.fromSend.p95)} / p99 ${f(r.fromSend.p99)} ms; API round trip p50 ${f(r.api.p50)} / p99 ${f(r.api.p99)} ms`,
  );
  return note;
}

/**
 * Scenario 1 on 1, 2 and 3 PostgreSQL nodes; several nodes are judged against one, and one
 * is shown against SQLite's rate in the same run.
 */
async function throughputOnPostgres(adminUrl: string, sqliteRate: number | null): Promise<void> {
  let oneNode: ClusterThroughput | null = null;
  for (const nodes of NODE_COUNTS) {
    const label = nodesLabel(nodes);
    console.log(`1 throughput on ${label}: the same backlog, over a fresh database`);
    const r = await clusterThroughput(ctx, { adminUrl, nodes, tag: `pg${nodes}` });
    if (nodes === 1) {
      oneNode = r;
      ctx.report(
        figure(
          '1 throughput',
          `${label}: notifications/s`,
          '/s',
          r.rate,
          sqliteRate,
          null,
          null,
          "baseline is scenario 1's rate on SQLite",
        ),
      );
      continue;
    }
    const judged = nodes === 3 && oneNode !== null;
    ctx.report(
      figure(
        '1 throughput',
        `${label}: notifications/s`,
        '/s',
        r.rate,
        oneNode?.rate ?? null,
        judged ? '≥ 1.5 × 1 node' : null,
        judged ? r.rate >= 1.5 * oneNode!.rate : null,
        "baseline is one PostgreSQL node's rate",
      ),
    );
    if (oneNode) ctx.log(`  ${whatBounds(oneNode, r, nodes)}`);
  }
}

/**
 * What bounds several nodes against one on this machine: the CPU each notification took in
 * each run (receiver, nodes, database), the rate the cores would allow at that cost, and how
 * much of the machine was idle or someone else's meanwhile.
 */
function whatBounds(one: ClusterThroughput, many: ClusterThroughput, nodes: number): string {
  const n = (v: number) => Math.round(v).toLocaleString('en-US');
  const pct = (v: number) => `${Math.round(100 * v)} %`;
  return (
    `bound: ${cpus().length} cores at ${describeCost(many.cost)} per notification allow at most ` +
    `${n(many.cost.ceiling)}/s on ${nodes} nodes, against ${n(one.cost.ceiling)}/s at one node's ` +
    `${describeCost(one.cost)} (${fmt(many.cost.ceiling / one.cost.ceiling, 2)} ×); ` +
    `meanwhile the machine was ${pct(many.idle)} idle and other processes used ${pct(many.elsewhere)}`
  );
}

/** Scenario 2 on 1, 2 and 3 PostgreSQL nodes, each judged against SQLite's p99. */
async function latencyOnPostgres(adminUrl: string, sqlite: LatencyResult): Promise<void> {
  for (const nodes of NODE_COUNTS) {
    const label = nodesLabel(nodes);
    console.log(`2 latency on ${label}: the same load, the API writes spread over the nodes`);
    const r = await latency(ctx, { adminUrl, nodes });
    const note = `${logLatency(r)}; baseline is SQLite's in this run`;
    ctx.report(figure('2 latency', `${label}: p50`, 'ms', r.p50, sqlite.p50, null, null));
    ctx.report(
      figure(
        '2 latency',
        `${label}: p99`,
        'ms',
        r.p99,
        sqlite.p99,
        '≤ 2 × SQLite',
        r.p99 <= 2 * sqlite.p99 && r.uncovered === 0,
        note,
      ),
    );
  }
}

async function runScenarios(): Promise<void> {
  let scenario1: number | null = null;
  let rawLimit: number | null = null;
  if (want(1) || want(4)) {
    console.log('1 throughput: backlog of one change per channel, recorded through the core');
    const r = await throughput(ctx, { hangShare: 0, tag: 'thr' });
    scenario1 = r.rate;
    rawLimit = r.baseline;
    ctx.report(
      figure(
        '1 throughput',
        'notifications/s',
        '/s',
        r.rate,
        r.baseline,
        '≥ 0.7 × raw',
        r.rate >= 0.7 * r.baseline,
      ),
    );
  }
  // Scenario 4's reference is scenario 1's rate: measured right after it, not after scenarios 2
  // and 3, so the two runs see the same machine state (it drifts by tens of percent in minutes).
  if (want(4)) {
    console.log('4 isolation: scenario 1 with 10 % of channels on an endpoint that never answers');
    const r = await throughput(ctx, {
      hangShare: 0.1,
      tag: 'iso',
      ...(rawLimit ? { baseline: rawLimit } : {}),
    });
    const ref = scenario1 ?? r.baseline;
    ctx.report(
      figure(
        '4 isolation',
        'healthy notifications/s',
        '/s',
        r.rate,
        ref,
        '≥ 0.9 × scenario 1',
        r.rate >= 0.9 * ref,
        `baseline is scenario 1's rate; raw limit ${fmt(r.baseline)}/s, ratio ${fmt(r.rate / r.baseline, 2)}`,
      ),
    );
  }
  if (want(1)) {
    console.log('1 throughput with Graph: half the channels Graph subscriptions on one URL');
    const r = await throughput(ctx, {
      hangShare: 0,
      tag: 'thx',
      graphShare: 0.5,
      baseline: rawLimit ?? 0,
    });
    if (r.byDialect) reportGraphShare(r.byDialect);
  }
  if (want(1) && databaseUrl) await throughputOnPostgres(databaseUrl, scenario1);
  if (want(2)) {
    console.log(
      `2 latency: steady ${Math.round(1000 * ctx.scale).toLocaleString('en-US')} changes/s through the API, one channel per account, one change a second each`,
    );
    const r = await latency(ctx);
    const note = logLatency(r);
    ctx.report(figure('2 latency', 'p50', 'ms', r.p50, r.base?.p50 ?? null, null, null));
    ctx.report(figure('2 latency', 'p95', 'ms', r.p95, r.base?.p95 ?? null, null, null));
    ctx.report(
      figure(
        '2 latency',
        'p99',
        'ms',
        r.p99,
        r.base?.p99 ?? null,
        '≤ 20 ms',
        r.p99 <= 20 && r.uncovered === 0,
        note,
      ),
    );
    if (databaseUrl) await latencyOnPostgres(databaseUrl, r);
  }
  if (want(3)) {
    console.log(
      '3 fan-out: one change through the API to a calendar with many channels (rows inserted)',
    );
    const r = await fanout(ctx);
    ctx.report(
      figure(
        '3 fan-out',
        'last notification after',
        'ms',
        r.ms,
        r.baseMs,
        '≤ 1000 ms',
        r.ms <= 1000,
      ),
    );
    ctx.report(
      figure(
        '3 fan-out',
        'same, warm (second change)',
        'ms',
        r.warmMs,
        r.warmBaseMs,
        null,
        null,
        "a second change once the first fan-out is delivered, against the raw loop's second burst",
      ),
    );
  }
  if (want(5)) {
    console.log(
      `5 API writes: autocannon, ${API_CONNECTIONS} connections, event upserts through the Cronofy face`,
    );
    const r = await apiWrites(ctx);
    const note = `errors ${r.api.errors}, timeouts ${r.api.timeouts}, non-2xx ${r.api.non2xx}`;
    ctx.log(`  ${note}`);
    ctx.report(
      figure(
        '5 API writes',
        'upserts/s',
        '/s',
        r.api.rps,
        r.base.rps,
        '≥ 5,000/s',
        r.api.rps >= 5000,
      ),
    );
    ctx.report(
      figure(
        '5 API writes',
        'p99',
        'ms',
        r.api.p99,
        r.base.p99,
        '≤ 20 ms',
        r.api.p99 <= 20 && r.api.non2xx === 0,
        note,
      ),
    );
    ctx.report(
      figure(
        '5 API writes',
        'reads/s (HTTP ceiling)',
        '/s',
        r.reads.rps,
        r.base.rps,
        null,
        null,
        `authenticated GET /v1/account on the same server: the HTTP stack and authentication alone; non-2xx ${r.reads.non2xx}`,
      ),
    );
  }
  if (want(6)) {
    console.log('6 footprint: idle server over many live channels (rows inserted)');
    const r = await footprint(ctx);
    const mb = r.rss / 2 ** 20;
    ctx.report(
      figure(
        '6 footprint',
        `RSS with ${fmt(r.channels)} channels`,
        'MB',
        mb,
        r.emptyRss / 2 ** 20,
        '≤ 150 MB',
        mb <= 150,
        'baseline is the same server over an empty store',
      ),
    );
    const workedMb = r.rssAfterWork / 2 ** 20;
    ctx.report(
      figure(
        '6 footprint',
        'RSS after 100 deliveries',
        'MB',
        workedMb,
        r.emptyRss / 2 ** 20,
        '≤ 150 MB',
        workedMb <= 150,
        'the same server after it has delivered and gone idle again',
      ),
    );
    ctx.report(
      figure('6 footprint', 'database bytes per channel', 'B', r.bytesPerChannel, null, null, null),
    );
  }
  if (want(7)) {
    console.log('7 coalescing: 100 changes in 1 s to one calendar, one channel answering in 1 s');
    const r = await coalescing(ctx);
    ctx.report(
      figure(
        '7 coalescing',
        'notifications received',
        '',
        r.received,
        r.changes,
        'few, last covers all',
        r.received <= 10 && r.covered,
        `baseline is one notification per change; every change covered: ${r.covered}; last changes_since ${r.lastChangesSince}`,
      ),
    );
  }
  if (want(8)) {
    console.log(
      '8 sources: CalDAV polls against Radicale (bytes); idle polls/s of many sources through the server',
    );
    const { large, small } = await sourceBytes(ctx);
    const n = (k: number) => k.toLocaleString('en-US');
    const events = `${n(large.events)} events`;
    const full =
      'baseline is a full download: one calendar-query REPORT of every event with its data';
    ctx.report(
      figure(
        '8 sources',
        `CalDAV idle poll bytes, ${events}`,
        'B',
        large.idleBytes,
        large.fullBytes,
        '≤ 1/100 of full',
        large.idleBytes <= large.fullBytes / 100,
        full,
      ),
    );
    ctx.report(
      figure(
        '8 sources',
        `CalDAV idle poll bytes, ${events} vs ${n(small.events)}`,
        'B',
        large.idleBytes,
        small.idleBytes,
        '~1.0 (±5 %)',
        Math.abs(large.idleBytes / small.idleBytes - 1) <= 0.05,
        `baseline is the idle poll of a ${n(small.events)}-event calendar`,
      ),
    );
    ctx.report(
      figure(
        '8 sources',
        `CalDAV idle poll time, ${events}`,
        'ms',
        large.idleMs,
        large.fullMs,
        null,
        null,
        `${full}; Radicale answers the same probe without getctag and sync-token in ${large.bareProbeMs.toFixed(0)} ms; ${n(small.events)} events: ${small.idleMs.toFixed(0)} ms`,
      ),
    );
    ctx.report(
      figure(
        '8 sources',
        `CalDAV poll after one change, bytes, ${events}`,
        'B',
        large.changeBytes,
        large.fullBytes,
        null,
        null,
        `${full}; ${large.changeRequests} requests; ${n(small.events)} events: ${small.changeBytes} B`,
      ),
    );
    ctx.report(
      figure(
        '8 sources',
        `CalDAV poll after one change, time, ${events}`,
        'ms',
        large.changeMs,
        large.fullMs,
        null,
        null,
        full,
      ),
    );
    console.log(
      '  idle polls through the server (scheduler, store, provider) against loopback upstreams',
    );
    const polls = await sourcePollRates(ctx);
    for (const p of [polls.ics, polls.caldav] satisfies PollRate[]) {
      const kind = p.kind === 'ics' ? 'ICS' : 'CalDAV';
      const raw = 'baseline is the raw limit: the same requests from a bare loop, same bounds';
      ctx.report(
        figure(
          '8 sources',
          `${kind} idle polls/s, ${n(p.sources)} sources`,
          '/s',
          p.rate,
          p.baselineRate,
          '≥ 167/s',
          p.rate >= 167,
          `${raw}; ${n(p.polledInWindow)} polls over ${p.windowSeconds.toFixed(1)} s`,
        ),
      );
      const cores = (p.cpuUsPerPoll * 167) / 1e6;
      ctx.report(
        figure(
          '8 sources',
          `${kind} server CPU per idle poll`,
          'µs',
          p.cpuUsPerPoll,
          p.baselineCpuUsPerPoll,
          '≤ 3,000 µs',
          p.cpuUsPerPoll <= 3000,
          `${raw}; ${cores.toFixed(2)} cores at 167 polls/s (target ≤ 0.5)`,
        ),
      );
    }
  }
  if (want(9)) {
    console.log(
      `9 recurring reads: a week read as instances through the Google face, autocannon, ${READ_CONNECTIONS} connections`,
    );
    const r = await recurringReads(ctx);
    const label = `${fmt(r.seriesCount)} series`;
    const base = `baseline is the same read of ${fmt(r.events)} single events in the same run`;
    const counts = `${r.series.instances} vs ${r.singles.instances} instances per read`;
    const errors = `non-2xx ${r.series.non2xx + r.singles.non2xx}, errors ${r.series.errors + r.singles.errors}`;
    ctx.report(
      figure(
        '9 recurring reads',
        `week reads/s, ${label}`,
        '/s',
        r.series.rps,
        r.singles.rps,
        '≥ 0.5 × single events',
        r.series.rps >= 0.5 * r.singles.rps && r.series.non2xx + r.singles.non2xx === 0,
        `${base}; ${counts}; ${errors}`,
      ),
    );
    ctx.report(
      figure(
        '9 recurring reads',
        `week read p99, ${label}`,
        'ms',
        r.series.p99,
        r.singles.p99,
        null,
        null,
        base,
      ),
    );
    ctx.report(
      figure(
        '9 recurring reads',
        `server CPU per week read, ${label}`,
        'µs',
        r.series.cpuUs,
        r.singles.cpuUs,
        null,
        null,
        base,
      ),
    );
  }
  if (want(10)) {
    console.log(
      '10 Google push: upstream change to downstream notification, 10 Google accounts as sources, pushed beside polled',
    );
    const r = await sourcePush(ctx);
    const f = (v: number) => fmt(v, 1);
    const note = `${r.changes} changes; never notified: ${r.push.uncovered} pushed, ${r.poll.uncovered} polled`;
    ctx.log(`  ${note}`);
    ctx.log(
      `  polled: p50 ${f(r.poll.p50)} / p99 ${f(r.poll.p99)} / max ${f(r.poll.max)} ms; pushed max ${f(r.push.max)} ms`,
    );
    const base = `baseline is the same path polled every ${r.pollSeconds} s, in the same run`;
    ctx.report(figure('10 Google push', 'p50', 'ms', r.push.p50, r.poll.p50, null, null, base));
    ctx.report(
      figure(
        '10 Google push',
        'p99',
        'ms',
        r.push.p99,
        r.poll.p99,
        '≤ 1,000 ms',
        r.push.p99 <= 1000 && r.push.uncovered === 0,
        `${base}; ${note}`,
      ),
    );
  }
}

try {
  for (let round = 1; round <= repeat; round++) {
    if (repeat > 1) console.log(`\nRound ${round} of ${repeat}`);
    rounds.push([]);
    await runScenarios();
  }
} finally {
  receiver.stop();
  rmSync(workDir, { recursive: true, force: true });
}

const seconds = (performance.now() - started) / 1000;
// Scenarios run 1, 4, 2, 3, …; the summary lists them by number.
const figures = foldRounds(rounds).sort((a, b) => parseInt(a.scenario) - parseInt(b.scenario));
const folded = repeat > 1;
console.log(
  `\nSummary (${sizeLabel('quick', `${scale} size`)} run, ${seconds.toFixed(0)} s` +
    (folded ? `, medians of ${repeat} rounds` : '') +
    ')',
);
const verdict = (f: (typeof figures)[number]) => {
  if (f.pass === null) return '';
  const word = f.pass ? 'pass' : 'MISS';
  return folded ? `${word} ${f.passes ?? 0}/${f.judged}` : word;
};
const rows = [
  [
    'scenario',
    'figure',
    'calpush',
    'baseline',
    'ratio',
    ...(folded ? ['rounds: calpush', 'rounds: ratio'] : []),
    'target',
    'result',
  ],
  ...figures.map((f) => [
    f.scenario,
    f.name,
    `${fmt(f.value, 1)} ${f.unit}`.trim(),
    fmt(f.baseline, 1),
    fmtRatio(f.ratio),
    ...(folded
      ? [
          f.values.map((v) => fmt(v, 1)).join(' / '),
          f.ratios.some((r) => r !== null) ? f.ratios.map((r) => fmtRatio(r)).join(' / ') : '',
        ]
      : []),
    f.target ?? '',
    verdict(f),
  ]),
];
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c]!)).join('  '));
if (values.out) {
  writeFileSync(
    values.out,
    JSON.stringify(
      {
        quick,
        scale,
        seconds,
        machine: {
          cpus: cpus().length,
          model: cpus()[0]?.model,
          memory: totalmem(),
          node: process.version,
        },
        ...(folded ? { repeat } : {}),
        figures,
        ...(folded ? { roundFigures: rounds } : {}),
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`figures written to ${values.out}`);
}
