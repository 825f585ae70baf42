import { z } from 'zod';
import type { EventFields } from '../../core/events.ts';
import type { EventTime } from '../../domain/event-time.ts';
import { GraphError } from './errors.ts';
import { ianaZone } from './time-zones.ts';
import { patternedRecurrenceSchema, rruleOf } from './recurrence-pattern.ts';

const text = (max: number) => z.string().max(max);

const dateTimeTimeZone = z.looseObject({
  dateTime: text(64),
  timeZone: text(64).nullish(),
});

/** Graph fields calpush keeps as given and reads back, without interpreting them. */
const keptFields = ['showAs', 'importance', 'sensitivity', 'categories', 'attendees'] as const;

export const eventBodySchema = z.looseObject({
  subject: text(1024).nullish(),
  body: z
    .looseObject({
      contentType: z.enum(['text', 'html']).nullish(),
      content: text(64 * 1024).nullish(),
    })
    .nullish(),
  start: dateTimeTimeZone.optional(),
  end: dateTimeTimeZone.optional(),
  isAllDay: z.boolean().nullish(),
  location: z.looseObject({ displayName: text(1024).nullish() }).nullish(),
  recurrence: patternedRecurrenceSchema.nullish(),
  showAs: z.enum(['free', 'tentative', 'busy', 'oof', 'workingElsewhere', 'unknown']).nullish(),
  importance: z.enum(['low', 'normal', 'high']).nullish(),
  sensitivity: z.enum(['normal', 'personal', 'private', 'confidential']).nullish(),
  categories: z.array(text(255)).max(50).nullish(),
  attendees: z.array(z.looseObject({})).max(500).nullish(),
});
export type GraphEventBody = z.infer<typeof eventBodySchema>;

function timeOf(t: z.infer<typeof dateTimeTimeZone>, allDay: boolean, field: string): EventTime {
  // Graph writes seven fractional digits; the core keeps times to the second.
  const dateTime = t.dateTime.replace(/\.\d+/, '');
  if (allDay) return { date: dateTime.slice(0, 10) };
  const zone = ianaZone(t.timeZone ?? 'UTC');
  if (zone === undefined) {
    throw new GraphError(
      400,
      'TimeZoneNotSupportedException',
      `A valid TimeZone value must be specified. The following TimeZone value is not supported: '${t.timeZone ?? ''}'.`,
    );
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(dateTime)) {
    throw GraphError.invalid(`Invalid value for '${field}.dateTime'.`);
  }
  return { dateTime, timeZone: zone };
}

/** A field as patched: absent keeps the current value, null clears it. */
function pick<T>(given: T | null | undefined, current: T | null | undefined): T | null {
  return given === undefined ? (current ?? null) : given;
}

/**
 * Event content from a Graph body. With `base` it is a PATCH over the current content;
 * without, a new event (start and end required).
 */
export function eventFieldsFrom(body: GraphEventBody, base: EventFields | null): EventFields {
  const wasAllDay = base ? 'date' in base.start : false;
  const allDay = body.isAllDay ?? wasAllDay;
  const start = body.start ? timeOf(body.start, allDay, 'start') : base?.start;
  const end = body.end ? timeOf(body.end, allDay, 'end') : base?.end;
  if (!start || !end) throw GraphError.invalid("Missing required property 'start' or 'end'.");
  const extra: Record<string, unknown> = { ...(base?.extra ?? {}) };
  const given = body as Record<string, unknown>;
  for (const name of keptFields) {
    if (!(name in given)) continue;
    if (given[name] === null) delete extra[name];
    else extra[name] = given[name];
  }
  if (body.body?.contentType) extra.bodyContentType = body.body.contentType;
  const recurrence =
    body.recurrence === undefined
      ? base?.recurrence
      : body.recurrence === null
        ? null
        : [rruleOf(body.recurrence, 'date' in start)];
  return {
    summary: pick(body.subject, base?.summary),
    description:
      body.body === undefined ? (base?.description ?? null) : (body.body?.content ?? null),
    location:
      body.location === undefined ? (base?.location ?? null) : body.location?.displayName || null,
    start,
    end,
    status: body.showAs ? (body.showAs === 'tentative' ? 'tentative' : 'confirmed') : base?.status,
    recurrence,
    extra: Object.keys(extra).length > 0 ? extra : null,
  };
}
