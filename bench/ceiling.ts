/**
 * Where scenario 1's ceiling lies (`node bench/ceiling.ts [n] [--rounds N]`). Three loops send
 * n signed Cronofy POSTs, 128 at a time, each in a process of its own, in alternating rounds:
 *
 * - raw: the baseline loop (`baseline.ts`), the raw limit scenario 1 compares with;
 * - sender: calpush's renderer, signing and HTTP sender alone, no store (`sender-loop.ts`);
 * - engine: the whole delivery engine in-process, store and dispatcher included
 *   (`engine.ts --http`, its own receiver).
 *
 * For each it prints the rate, the sending process's CPU per notification and, for the first
 * two, the receiver's: on two cores a loop is bound by its one thread or by both cores, and
 * these figures say which, and how much the store and dispatcher may cost before a rate
 * falls under 0.7 of the raw one.
 */
import { parseArgs } from 'node:util';
import { ReceiverProcess, runProcess, runScript } from './context.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: 'string', default: '3' } },
});
const n = Number(positionals[0] ?? 50_000);
const rounds = Number(values.rounds);
const CONCURRENCY = 128;

interface Result {
  readonly rate: number;
  readonly cpuUs: number;
  readonly receiverUs?: number;
}

async function loop(receiver: ReceiverProcess, script: string, tag: string): Promise<Result> {
  receiver.reset();
  const before = receiver.cpuSeconds();
  const out = await runScript(script, {
    url: `${receiver.okUrl}/ok/${tag}`,
    count: n,
    concurrency: CONCURRENCY,
  });
  const s = await receiver.expect(tag, n, 60_000);
  const { cpuUs } = JSON.parse(out) as { cpuUs: number };
  return {
    rate: (s.count * 1000) / (s.last - s.first),
    cpuUs: cpuUs / n,
    receiverUs: ((receiver.cpuSeconds() - before) * 1e6) / n,
  };
}

async function engine(): Promise<Result> {
  const out = await runProcess('./engine.ts', [String(n), '--http']);
  const m = /([\d.]+) µs CPU each.*?(\d+)\/s/.exec(out);
  if (!m) throw new Error(`engine.ts printed no figures: ${out}`);
  return { rate: Number(m[2]), cpuUs: Number(m[1]) };
}

const line = (name: string, r: Result, raw: Result) =>
  `  ${name.padEnd(7)} ${Math.round(r.rate).toLocaleString('en-US').padStart(7)}/s ` +
  `(${(r.rate / raw.rate).toFixed(2)} of raw), ${r.cpuUs.toFixed(1)} µs CPU per notification` +
  (r.receiverUs === undefined ? '' : `, receiver ${r.receiverUs.toFixed(1)} µs`);

const receiver = await ReceiverProcess.start();
try {
  for (let round = 1; round <= rounds; round++) {
    const raw = await loop(receiver, './baseline.ts', `raw${round}`);
    const sender = await loop(receiver, './sender-loop.ts', `snd${round}`);
    const eng = await engine();
    console.log(`round ${round}, ${n} notifications each`);
    console.log(line('raw', raw, raw));
    console.log(line('sender', sender, raw));
    console.log(line('engine', eng, raw));
  }
} finally {
  receiver.stop();
}
