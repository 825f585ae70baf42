import type { Service } from '../../src/service.ts';
import type { ManualClock } from '../../src/domain/clock.ts';

/** One API request through the app, with no socket: its status and its JSON body ({} if none). */
export async function callApi<J>(
  service: Service,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: J }> {
  const response = await service.app.request(path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: (text ? JSON.parse(text) : {}) as J };
}

/**
 * Polls every source due, then delivers everything queued. A channel's notifications go out
 * one quiet interval apart: three rounds cover the most a poll queues for one channel (its
 * changes, and a profile notification).
 */
export async function settleSources(service: Service, clock: ManualClock): Promise<void> {
  await service.sources.runUntilIdle();
  for (let round = 0; round < 3; round++) {
    clock.advance(1000);
    await service.dispatcher.runUntilIdle();
  }
}
