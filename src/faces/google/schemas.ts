import { z } from 'zod';
import type { ZodType } from 'zod';
import type { JsonBody } from '../../http/read-json.ts';
import { GoogleError, fromZod } from './errors.ts';

export function parseBody<T>(schema: ZodType<T>, body: JsonBody): T {
  if (!body.ok) throw new GoogleError(400, 'parseError', 'Parse Error');
  const parsed = schema.safeParse(body.value);
  if (!parsed.success) throw fromZod(parsed.error);
  return parsed.data;
}

const text = (max: number) => z.string().max(max);

export const eventTimeSchema = z
  .object({
    date: z.string().max(32).nullish(),
    dateTime: z.string().max(64).nullish(),
    timeZone: z.string().max(64).nullish(),
  })
  .refine((t) => Boolean(t.date) !== Boolean(t.dateTime), 'exactly one of date or dateTime');

/** Google fields calpush keeps as given and echoes back, without interpreting them. */
export const keptEventFields = [
  'colorId',
  'transparency',
  'visibility',
  'attendees',
  'reminders',
  'extendedProperties',
  'source',
] as const;

export const eventBodySchema = z.looseObject({
  id: z
    .string()
    // An occurrence's id adds its start to its series' (`_20261019T070000Z`).
    .regex(
      /^[a-v0-9]{5,1024}(?:_\d{8}(?:T\d{6}Z)?)?$/,
      'ids use base32hex characters (a-v, 0-9), 5 to 1024 of them',
    )
    .optional(),
  status: z.enum(['confirmed', 'tentative', 'cancelled']).optional(),
  summary: text(1024).nullish(),
  description: text(64 * 1024).nullish(),
  location: text(1024).nullish(),
  start: eventTimeSchema.optional(),
  end: eventTimeSchema.optional(),
  recurrence: z.array(text(1024)).max(100).nullish(),
  iCalUID: text(1024).optional(),
});
export type EventBody = z.infer<typeof eventBodySchema>;

export const calendarBodySchema = z.looseObject({
  summary: text(1024).optional(),
  description: text(64 * 1024).nullish(),
  location: text(1024).nullish(),
  timeZone: text(64).optional(),
});

export const aclBodySchema = z.looseObject({
  role: z.enum(['none', 'freeBusyReader', 'reader', 'writer', 'owner']),
  scope: z.object({
    type: z.enum(['default', 'user', 'group', 'domain']),
    value: text(320).optional(),
  }),
});

export const watchBodySchema = z.looseObject({
  id: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9\-_+/=]+$/, 'channel ids use A-Z, a-z, 0-9, -, _, +, / and ='),
  type: z.enum(['web_hook', 'webhook']),
  address: z.string().min(1).max(2048),
  token: z
    .string()
    .max(256)
    // The token travels in a header: no control characters.
    .regex(/^[\x20-\x7e]*$/, 'printable ASCII only')
    .nullish(),
  expiration: z.union([z.string().regex(/^\d{1,16}$/), z.number().int().nonnegative()]).nullish(),
  params: z
    .looseObject({
      ttl: z
        .string()
        .regex(/^\d{1,12}$/)
        .optional(),
    })
    .nullish(),
});
export type WatchBody = z.infer<typeof watchBodySchema>;

export const stopBodySchema = z.looseObject({
  id: z.string().min(1).max(64),
  resourceId: z.string().min(1).max(256).optional(),
});
