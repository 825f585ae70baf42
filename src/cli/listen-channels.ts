import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import type { ListenDialect } from './listen-check.ts';

/** The server's answer was not what opening or closing a channel expects. */
export class ListenError extends Error {
  override name = 'ListenError';
}

/** A channel the listener opened, and how to close it. */
export interface OpenedChannel {
  readonly id: string;
  close(): Promise<void>;
}

export interface ChannelRequest {
  readonly server: string;
  readonly accessToken: string;
  readonly dialect: ListenDialect;
  readonly callbackUrl: string;
  readonly calendarId: string | undefined;
  /** Google: the token every notification is to echo (X-Goog-Channel-Token). */
  readonly token: string;
}

async function call(
  req: ChannelRequest,
  method: 'POST' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const url = new URL(path, `${req.server.replace(/\/+$/, '')}/`);
  let res;
  try {
    res = await request(url, {
      method,
      headers: {
        authorization: `Bearer ${req.accessToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
  } catch (err) {
    throw new ListenError(`cannot reach ${url.origin}: ${(err as Error).message}`);
  }
  const text = await res.body.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.statusCode, json };
}

function refused(what: string, status: number, json: unknown): ListenError {
  return new ListenError(`${what}: the server answered ${status} ${JSON.stringify(json)}`);
}

/** Cronofy: POST /v1/channels, closed with DELETE /v1/channels/{id}. */
async function openCronofy(req: ChannelRequest): Promise<OpenedChannel> {
  const filters = req.calendarId ? { filters: { calendar_ids: [req.calendarId] } } : {};
  const { status, json } = await call(req, 'POST', 'v1/channels', {
    callback_url: req.callbackUrl,
    ...filters,
  });
  const id = (json as { channel?: { channel_id?: unknown } } | null)?.channel?.channel_id;
  if (status !== 200 || typeof id !== 'string') throw refused('opening the channel', status, json);
  return {
    id,
    async close() {
      const closed = await call(req, 'DELETE', `v1/channels/${encodeURIComponent(id)}`);
      if (closed.status !== 202) throw refused('closing the channel', closed.status, closed.json);
    },
  };
}

/** Google: events.watch on a calendar (primary by default), closed with channels.stop. */
async function openGoogle(req: ChannelRequest): Promise<OpenedChannel> {
  const calendar = encodeURIComponent(req.calendarId ?? 'primary');
  const id = `listen-${randomUUID()}`;
  const { status, json } = await call(
    req,
    'POST',
    `calendar/v3/calendars/${calendar}/events/watch`,
    {
      id,
      type: 'web_hook',
      address: req.callbackUrl,
      token: req.token,
    },
  );
  const resourceId = (json as { resourceId?: unknown } | null)?.resourceId;
  if (status !== 200 || typeof resourceId !== 'string') {
    throw refused('opening the channel', status, json);
  }
  return {
    id,
    async close() {
      const stopped = await call(req, 'POST', 'calendar/v3/channels/stop', { id, resourceId });
      if (stopped.status !== 204)
        throw refused('closing the channel', stopped.status, stopped.json);
    },
  };
}

export function openListenChannel(req: ChannelRequest): Promise<OpenedChannel> {
  return req.dialect === 'google' ? openGoogle(req) : openCronofy(req);
}
