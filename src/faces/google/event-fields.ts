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

type PropertyMaps = NonNullable<EventBody['extendedProperties']>;

function propertyMap(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/**
 * Extended properties over the current ones, key by key, as Google patches them: a given key
 * replaces its value, a null value deletes the key, a null map deletes the map. (On insert and
 * update there are no current ones.) Undefined when nothing is left.
 */
function mergedProperties(current: unknown, given: PropertyMaps) {
  const out: Record<string, Record<string, unknown>> = {};
  for (const kind of ['private', 'shared'] as const) {
    const was = propertyMap(propertyMap(current)[kind]);
    const change = given[kind];
    if (change === null) continue;
    const merged: Record<string, unknown> = { ...was, ...change };
    for (const [key, value] of Object.entries(merged)) if (value === null) delete merged[key];
    const count = Object.keys(merged).length;
    if (count > 300) {
      throw new GoogleError(
        400,
        'invalid',
        `Invalid value for extendedProperties.${kind}: at most 300 properties`,
      );
    }
    if (count > 0) out[kind] = merged;
  }
  return Object.keys(out).length > 0 ? out : undefined;
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
  for (const name of keptEventFields) {
    if (!(name in body)) continue;
    const given = body[name];
    if (given === null || given === undefined) delete extra[name];
    else if (name === 'extendedProperties') {
      const merged = mergedProperties(extra[name], body.extendedProperties ?? {});
      if (merged) extra[name] = merged;
      else delete extra[name];
    } else extra[name] = given;
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
