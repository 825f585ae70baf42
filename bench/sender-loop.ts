/**
 * calpush's sending path alone: the Cronofy renderer, the signing and the HTTP sender the
 * dispatcher uses, with no store and no dispatcher, in a loop like the raw one (`baseline.ts`)
 * against the same receiver. Run as its own process by `ceiling.ts`.
 *
 * argv[2] is JSON: { url, count, concurrency }. Prints { startedAt, endedAt, cpuUs }.
 */
import { createHttpSender, RequestHandle } from '../src/delivery/http-sender.ts';
import { cronofyDialect } from '../src/faces/cronofy/dialect.ts';
import { requestFor } from '../src/delivery/notification-request.ts';
import type { Delivery } from '../src/domain/delivery.ts';
import { DeliverySecrets } from '../src/delivery/delivery-secrets.ts';
import { createSecretBox } from '../src/core/secret-box.ts';
import { randomBytes } from 'node:crypto';
import { wallNow } from './clock.ts';

interface Args {
  readonly url: string;
  readonly count: number;
  readonly concurrency: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
// Sealed as the store keeps it, and opened (once, then from memory) as the dispatcher does.
const box = createSecretBox(randomBytes(32));
const sealedSecret = box.seal('sec_baseline_secret_of_the_usual_length_000');
const secrets = new DeliverySecrets(box);
const sender = createHttpSender({
  dev: true,
  timeoutMs: 5000,
  connectionsPerOrigin: args.concurrency,
});

// The dialect module alone: loading the service would load every part of it into this process.
const dialects = { cronofy: cronofyDialect };

function delivery(i: number): Delivery {
  return {
    notificationId: i,
    kind: 'change',
    changesSince: Date.now(),
    attempts: 0,
    channel: {
      id: `chn_loop${i}`,
      dialect: 'cronofy',
      publicId: `chn_loop${i}`,
      clientId: 'cli_loop',
      callbackUrl: `${args.url}-${i}`,
      origin: new URL(args.url).origin,
      interest: { dialect: 'cronofy', calendarIds: null, onlyManaged: false },
      sealedToken: null,
      expiresAt: null,
      failingSince: null,
    },
    sealedSecrets: [sealedSecret],
    leaseUntil: 0,
    heldUntil: 0,
  };
}

async function send(i: number): Promise<void> {
  const d = delivery(i);
  const { headers, body } = requestFor(dialects, secrets, d);
  const result = await sender.send(d.channel.callbackUrl, headers, body, new RequestHandle());
  if (result.status !== 200) throw new Error(`send ${i}: ${result.status ?? result.error}`);
}

const cpu0 = process.cpuUsage();
const startedAt = wallNow();
let next = 0;
const worker = async () => {
  while (next < args.count) await send(next++);
};
await Promise.all(Array.from({ length: args.concurrency }, worker));
const endedAt = wallNow();
const cpu = process.cpuUsage(cpu0);
await sender.close();
process.stdout.write(JSON.stringify({ startedAt, endedAt, cpuUs: cpu.user + cpu.system }) + '\n');
