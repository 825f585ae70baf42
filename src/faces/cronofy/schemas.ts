import { z } from 'zod';
import type { ZodType } from 'zod';
import { CronofyError, fromZod } from './errors.ts';
import type { JsonBody } from '../../http/read-json.ts';

export function parseBody<T>(schema: ZodType<T>, body: JsonBody): T {
  if (!body.ok && body.reason === 'type') {
    throw CronofyError.field(415, 'request', 'errors.unsupported_media_type', body.problem);
  }
  if (!body.ok && body.reason === 'nul') {
    throw CronofyError.field(422, body.field || 'request', 'errors.invalid', body.problem);
  }
  if (!body.ok) throw CronofyError.field(422, 'request', 'errors.invalid_json', body.problem);
  const parsed = schema.safeParse(body.value);
  if (!parsed.success) throw fromZod(parsed.error);
  return parsed.data;
}

const id = z.string().min(1).max(255);

export const createChannelSchema = z.object({
  callback_url: z.string().min(1).max(2048),
  filters: z
    .object({
      calendar_ids: z.array(id).min(1, 'must not be empty').max(128).optional(),
      only_managed: z.boolean().optional(),
    })
    .optional(),
});

/** A Cronofy time: "2024-09-14", "2024-09-14T09:00:00Z", or {time, tzid}. */
const cronofyTime = z.union([
  z.string().min(1).max(64),
  z.object({ time: z.string().min(1).max(64), tzid: z.string().min(1).max(64).optional() }),
]);

export const upsertEventSchema = z.object({
  event_id: id,
  summary: z.string().max(1024),
  description: z
    .string()
    .max(64 * 1024)
    .optional(),
  start: cronofyTime,
  end: cronofyTime,
  tzid: z.string().min(1).max(64).optional(),
  location: z.object({ description: z.string().max(1024).optional() }).optional(),
  transparency: z.enum(['opaque', 'transparent']).optional(),
  color: z.string().max(32).optional(),
});
export type UpsertEventBody = z.infer<typeof upsertEventSchema>;

export const deleteEventSchema = z.object({ event_id: id });

export const createCalendarSchema = z.object({
  profile_id: id,
  name: z.string().min(1).max(255),
  color: z.string().max(32).optional(),
});

/** A source's poll interval as a client asks for it; the core checks the floor. */
const pollInterval = z
  .number()
  .int()
  .positive()
  .max(7 * 24 * 60 * 60);

export const createSourceSchema = z.object({
  provider: z.string().min(1).max(32),
  /** Not for a provider of one service (google), which has its own. */
  url: z.string().min(1).max(2048).optional(),
  /** An OAuth refresh token: a google source's credential. */
  refresh_token: z.string().min(1).max(4096).optional(),
  username: z.string().max(256).optional(),
  password: z.string().max(1024).optional(),
  name: z.string().min(1).max(255).optional(),
  poll_interval_seconds: pollInterval.optional(),
});

export const connectLinkSchema = z.object({
  redirect_uri: z.string().min(1).max(2048),
  state: z.string().min(1).max(1024),
});

export const patchSourceSchema = z.object({
  refresh_token: z.string().min(1).max(4096).optional(),
  username: z.string().max(256).optional(),
  password: z.string().max(1024).optional(),
  name: z.string().min(1).max(255).optional(),
  poll_interval_seconds: pollInterval.optional(),
});
