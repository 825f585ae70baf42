import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Delivery } from '../domain/delivery.ts';
import type { BatchRule } from '../domain/dialect.ts';
import { shareRequests } from './shared-requests.ts';

function delivery(id: number, dialect: string, url: string, batched = 0): Delivery {
  return {
    notificationId: id,
    kind: 'k',
    changesSince: null,
    attempts: 0,
    channel: {
      id: `ch${id}`,
      dialect,
      publicId: `ch${id}`,
      clientId: 'c',
      callbackUrl: url,
      origin: 'o',
      interest: null,
      sealedToken: null,
      expiresAt: null,
      failingSince: null,
    },
    sealedSecrets: [],
    leaseUntil: 1,
    heldUntil: 1,
    batched: Array.from({ length: batched }, (_, i) => ({
      notificationId: 1000 + id * 10 + i,
      kind: 'k',
      changesSince: null,
    })),
  };
}

const rule: BatchRule = {
  size: 4,
  sameRequest: () => true,
  acrossChannels: (d) => d.channel.callbackUrl,
};

test('heads to one address share requests of at most the size; others go as they came', () => {
  const batching = new Map([['shared', rule]]);
  const out = shareRequests(
    [
      delivery(1, 'shared', 'a'),
      delivery(2, 'plain', 'a'),
      delivery(3, 'shared', 'a', 1),
      delivery(4, 'shared', 'b'),
      delivery(5, 'shared', 'a', 1),
    ],
    batching,
  );
  const shape = out.map((d) => [
    d.notificationId,
    (d.alongside ?? []).map((o) => o.notificationId),
  ]);
  assert.deepEqual(shape, [
    [2, []],
    // 1 + (3 and its batched one) = 3; 5 with its batched one would make 5 > 4.
    [1, [3]],
    [4, []],
    [5, []],
  ]);
  assert.deepEqual(
    shareRequests([delivery(1, 'shared', 'a')], new Map()).map((d) => d.alongside),
    [undefined],
  );
});
