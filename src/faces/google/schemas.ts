import { z } from 'zod';
import type { ZodType } from 'zod';
import type { JsonBody } from '../../http/read-json.ts';
import { GoogleError, fromZod } from './errors.ts';

export function parseBody<T>(schema: ZodType<T>, body: JsonBody): T {
  if (!body.ok) {
    switch (body.reason) {
      case 'type':
        // Google's reason for a request body of a type it does not take.
        throw new GoogleError(415, 'badContent', body.problem);
      case 'depth':
        throw new GoogleError(400, 'parseError', body.problem);
      case 'syntax':
        throw new GoogleError(400, 'parseError', 'Parse Error');
      case 'nul':
        throw new GoogleError(400, 'invalid', `Invalid value for ${body.field}: ${body.problem}`);
    }
  }
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

/**
 * Google fields calpush keeps and echoes back without acting on them, each checked to
 * Google's own shape and bounded (the body limit bounds them all together). Keys Google does
 * not define inside them are dropped. Stored values are checked again when read: one stored
 * before these checks that fails them is left out of the event (and logged).
 */
const attendeeSchema = z.object({
  id: text(1024).nullish(),
  email: text(320).nullish(),
  displayName: text(1024).nullish(),
  organizer: z.boolean().nullish(),
  self: z.boolean().nullish(),
  resource: z.boolean().nullish(),
  optional: z.boolean().nullish(),
  responseStatus: z.enum(['needsAction', 'declined', 'tentative', 'accepted']).nullish(),
  comment: text(1024).nullish(),
  additionalGuests: z.number().int().min(0).max(1000).nullish(),
});

/** Google's limits: keys up to 44 characters, values up to 1024, 300 properties per map. */
const propertyMap = z
  // A null value deletes the property in a patch (Google's way), and is never stored.
  .record(z.string().min(1).max(44), text(1024).nullable())
  .refine((map) => Object.keys(map).length <= 300, 'at most 300 properties');

export const keptFieldSchemas = {
  colorId: text(64),
  transparency: z.enum(['opaque', 'transparent']),
  visibility: z.enum(['default', 'public', 'private', 'confidential']),
  attendees: z.array(attendeeSchema).max(1000),
  reminders: z.object({
    useDefault: z.boolean().nullish(),
    overrides: z
      .array(
        z.object({
          method: z.enum(['email', 'popup']),
          // Google allows up to four weeks ahead.
          minutes: z.number().int().min(0).max(40_320),
        }),
      )
      .max(5)
      .nullish(),
  }),
  extendedProperties: z.object({ private: propertyMap.nullish(), shared: propertyMap.nullish() }),
  source: z.object({
    title: text(1024).nullish(),
    url: text(2048)
      .regex(/^https?:\/\/[^\s\x00-\x1f\x7f]+$/i, 'an http or https URL')
      .nullish(),
  }),
} as const;

export type KeptEventField = keyof typeof keptFieldSchemas;
export const keptEventFields = Object.keys(keptFieldSchemas) as KeptEventField[];

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
  colorId: keptFieldSchemas.colorId.nullish(),
  transparency: keptFieldSchemas.transparency.nullish(),
  visibility: keptFieldSchemas.visibility.nullish(),
  attendees: keptFieldSchemas.attendees.nullish(),
  reminders: keptFieldSchemas.reminders.nullish(),
  extendedProperties: keptFieldSchemas.extendedProperties.nullish(),
  source: keptFieldSchemas.source.nullish(),
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
