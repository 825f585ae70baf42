import type { EventFields } from '../../core/events.ts';
import type { EventTime } from '../../domain/event-time.ts';
import type { EventBody } from './schemas.ts';
import { GoogleError } from './errors.ts';
import { keptEventFields } from './schemas.ts';

type BodyTime = NonNullable<EventBody['start']>;

function timeOf(t: BodyTime): EventTime {
  if (t.date) return { date: t.date };
  return { dateTime: t.dateTime ?? '', ...(t.timeZone ? { timeZone: t.timeZone } : {}) };
}

/** A field as patched: absent keeps the current value, null clears it. */
function pick<T>(given: T | null | undefined, current: T | null | undefined): T | null {
  return given === undefined ? (current ?? null) : given;
}

/**
 * Event content from a Google body. With `base` it is a patch over the current content
 * (events.patch); without, the body replaces everything (events.insert, events.update).
 */
export function eventFieldsFrom(body: EventBody, base: EventFields | null): EventFields {
  const start = body.start ? timeOf(body.start) : base?.start;
  if (!start) throw new GoogleError(400, 'required', 'Missing start time.');
  const end = body.end ? timeOf(body.end) : base?.end;
  if (!end) throw new GoogleError(400, 'required', 'Missing end time.');
  const extra: Record<string, unknown> = { ...(base?.extra ?? {}) };
  const given = body as Record<string, unknown>;
  for (const name of keptEventFields) {
    if (!(name in given)) continue;
    if (given[name] === null) delete extra[name];
    else extra[name] = given[name];
  }
  return {
    summary: pick(body.summary, base?.summary),
    description: pick(body.description, base?.description),
    location: pick(body.location, base?.location),
    start,
    end,
    status: body.status ?? base?.status,
    recurrence: pick(body.recurrence, base?.recurrence),
    extra: Object.keys(extra).length > 0 ? extra : null,
  };
}
