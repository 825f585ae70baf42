/**
 * The raw limit: a minimal loop that sends the same signed POSTs as calpush (Cronofy body,
 * HMAC over the exact bytes, fresh per request) with a pooled undici client and no
 * persistence, against the same receiver. Run as its own process, like the server.
 *
 * argv[2] is JSON: { url, count, concurrency, rounds? } for a burst (with rounds, the same
 * burst again after each one ends, the last one's start reported: a warmed-up loop), or
 * { url, rate, seconds } for a steady rate (each request carries `x-sent-at` so the receiver
 * measures one-way latency). Prints { startedAt, endedAt, cpuUs }.
 */
import { Agent, request } from 'undici';
import { hmacHeader } from '../src/faces/cronofy/signing.ts';
import { formatUtc } from '../src/domain/time.ts';
import { sleep, wallNow } from './clock.ts';

interface BurstArgs {
  readonly url: string;
  readonly count: number;
  readonly concurrency: number;
  readonly rounds?: number;
}
interface RateArgs {
  readonly url: string;
  readonly rate: number;
  readonly seconds: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as BurstArgs | RateArgs;
const secret = 'sec_baseline_secret_of_the_usual_length_000';
const agent = new Agent({
  connections: 'concurrency' in args ? args.concurrency : 128,
  pipelining: 1,
  keepAliveTimeout: 30_000,
});

async function post(i: number, stamp: boolean): Promise<void> {
  const callbackUrl = `${args.url}-${i}`;
  const body = JSON.stringify({
    notification: { type: 'change', changes_since: formatUtc(Date.now()) },
    channel: { channel_id: `chn_baseline${i}`, callback_url: callbackUrl, filters: {} },
  });
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'cronofy-hmac-sha256': hmacHeader(body, [secret]),
    'calpush-notification-id': `ntf_${i}`,
    'user-agent': 'calpush',
  };
  if (stamp) headers['x-sent-at'] = String(wallNow());
  const res = await request(callbackUrl, { method: 'POST', headers, body, dispatcher: agent });
  await res.body.dump();
}

let startedAt = wallNow();
let cpuAtStart = process.cpuUsage();
if ('count' in args) {
  for (let round = 0; round < (args.rounds ?? 1); round++) {
    startedAt = wallNow();
    cpuAtStart = process.cpuUsage();
    let next = round * args.count;
    const end = next + args.count;
    const worker = async () => {
      while (next < end) await post(next++, false);
    };
    await Promise.all(Array.from({ length: args.concurrency }, worker));
  }
} else {
  const total = Math.round(args.rate * args.seconds);
  const start = wallNow();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / args.rate;
    const wait = due - wallNow();
    if (wait > 1) await sleep(wait);
    pending.push(post(i, true));
  }
  await Promise.all(pending);
}
const endedAt = wallNow();
const cpu = process.cpuUsage(cpuAtStart);
await agent.close();
// CPU over the span reported (the last round's): what `ceiling.ts` compares per request.
process.stdout.write(JSON.stringify({ startedAt, endedAt, cpuUs: cpu.user + cpu.system }) + '\n');
