import { z } from 'zod';
import { GraphError } from './errors.ts';

/**
 * Graph's patternedRecurrence and iCalendar's RRULE say the same things in different words.
 * Writes turn the pattern into an RRULE line for the core, which expands series; reads turn
 * a stored RRULE back into a pattern when one can say it (else `recurrence` reads null).
 */

const days = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const dayCodes = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];
const indexes = ['first', 'second', 'third', 'fourth', 'last'] as const;
const setPos: Record<(typeof indexes)[number], number> = {
  first: 1,
  second: 2,
  third: 3,
  fourth: 4,
  last: -1,
};

const day = z.enum(days as [string, ...string[]]);

export const patternedRecurrenceSchema = z.looseObject({
  pattern: z.looseObject({
    type: z.enum([
      'daily',
      'weekly',
      'absoluteMonthly',
      'relativeMonthly',
      'absoluteYearly',
      'relativeYearly',
    ]),
    interval: z.number().int().min(1).max(99).default(1),
    daysOfWeek: z.array(day).max(7).nullish(),
    dayOfMonth: z.number().int().min(0).max(31).nullish(),
    month: z.number().int().min(0).max(12).nullish(),
    firstDayOfWeek: day.nullish(),
    index: z.enum(indexes).nullish(),
  }),
  range: z.looseObject({
    type: z.enum(['endDate', 'noEnd', 'numbered']),
    startDate: z.string().max(32).nullish(),
    endDate: z.string().max(32).nullish(),
    numberOfOccurrences: z.number().int().min(0).max(999).nullish(),
    recurrenceTimeZone: z.string().max(64).nullish(),
  }),
});
export type PatternedRecurrence = z.infer<typeof patternedRecurrenceSchema>;

const codeOf = (d: string) => dayCodes[days.indexOf(d)] ?? 'MO';

/** The RRULE line a pattern means, for a series starting as `allDay` says. */
export function rruleOf(recurrence: PatternedRecurrence, allDay: boolean): string {
  const { pattern, range } = recurrence;
  const parts: string[] = [];
  const byDay = () => {
    if (!pattern.daysOfWeek || pattern.daysOfWeek.length === 0) {
      throw GraphError.invalid(`A ${pattern.type} recurrence needs daysOfWeek.`);
    }
    return `BYDAY=${pattern.daysOfWeek.map(codeOf).join(',')}`;
  };
  const byMonthDay = () => {
    if (!pattern.dayOfMonth) {
      throw GraphError.invalid(`A ${pattern.type} recurrence needs dayOfMonth.`);
    }
    return `BYMONTHDAY=${pattern.dayOfMonth}`;
  };
  const byMonth = () => {
    if (!pattern.month) throw GraphError.invalid(`A ${pattern.type} recurrence needs month.`);
    return `BYMONTH=${pattern.month}`;
  };
  const bySetPos = () => `BYSETPOS=${setPos[pattern.index ?? 'first']}`;
  switch (pattern.type) {
    case 'daily':
      parts.push('FREQ=DAILY');
      break;
    case 'weekly':
      parts.push('FREQ=WEEKLY', byDay());
      if (pattern.firstDayOfWeek) parts.push(`WKST=${codeOf(pattern.firstDayOfWeek)}`);
      break;
    case 'absoluteMonthly':
      parts.push('FREQ=MONTHLY', byMonthDay());
      break;
    case 'relativeMonthly':
      parts.push('FREQ=MONTHLY', byDay(), bySetPos());
      break;
    case 'absoluteYearly':
      parts.push('FREQ=YEARLY', byMonth(), byMonthDay());
      break;
    case 'relativeYearly':
      parts.push('FREQ=YEARLY', byMonth(), byDay(), bySetPos());
      break;
  }
  if (pattern.interval !== 1) parts.push(`INTERVAL=${pattern.interval}`);
  if (range.type === 'numbered') {
    if (!range.numberOfOccurrences) {
      throw GraphError.invalid('A numbered recurrence range needs numberOfOccurrences.');
    }
    parts.push(`COUNT=${range.numberOfOccurrences}`);
  } else if (range.type === 'endDate') {
    if (!range.endDate || !/^\d{4}-\d{2}-\d{2}$/.test(range.endDate)) {
      throw GraphError.invalid('An endDate recurrence range needs endDate (YYYY-MM-DD).');
    }
    const date = range.endDate.replaceAll('-', '');
    // The range's last day is included, to its end (in UTC: a zone-less bound).
    parts.push(allDay ? `UNTIL=${date}` : `UNTIL=${date}T235959Z`);
  }
  return `RRULE:${parts.join(';')}`;
}

/** A stored RRULE as Graph's pattern, or null when the rule is not one Graph can say. */
export function patternOf(
  lines: readonly string[],
  startDate: string,
  timeZone: string,
): PatternedRecurrence | null {
  const rule = lines.find((l) => l.toUpperCase().startsWith('RRULE:'));
  if (!rule) return null;
  const props = new Map(
    rule
      .slice(6)
      .split(';')
      .map((p) => p.split('=') as [string, string]),
  );
  const interval = Number(props.get('INTERVAL') ?? 1);
  const byDay = props.get('BYDAY')?.split(',') ?? [];
  const plainDays = byDay.map((d) => days[dayCodes.indexOf(d)]);
  const setPosValue = Number(props.get('BYSETPOS') ?? 0);
  const index = indexes.find((i) => setPos[i] === setPosValue);
  const dayOfMonth = props.has('BYMONTHDAY') ? Number(props.get('BYMONTHDAY')) : null;
  const month = props.has('BYMONTH') ? Number(props.get('BYMONTH')) : null;
  const wkst = props.get('WKST');
  const known = plainDays.every((d) => d !== undefined);
  if (!known) return null;
  let pattern: PatternedRecurrence['pattern'];
  const base = {
    interval,
    daysOfWeek: [] as string[],
    dayOfMonth: 0,
    month: 0,
    index: 'first' as const,
  };
  switch (props.get('FREQ')) {
    case 'DAILY':
      pattern = { ...base, type: 'daily' };
      break;
    case 'WEEKLY':
      pattern = {
        ...base,
        type: 'weekly',
        daysOfWeek: plainDays,
        firstDayOfWeek: wkst ? (days[dayCodes.indexOf(wkst)] ?? 'sunday') : 'sunday',
      };
      break;
    case 'MONTHLY':
      pattern =
        byDay.length > 0 && index
          ? { ...base, type: 'relativeMonthly', daysOfWeek: plainDays, index }
          : {
              ...base,
              type: 'absoluteMonthly',
              dayOfMonth: dayOfMonth ?? Number(startDate.slice(8)),
            };
      break;
    case 'YEARLY':
      pattern =
        byDay.length > 0 && index
          ? {
              ...base,
              type: 'relativeYearly',
              daysOfWeek: plainDays,
              index,
              month: month ?? Number(startDate.slice(5, 7)),
            }
          : {
              ...base,
              type: 'absoluteYearly',
              month: month ?? Number(startDate.slice(5, 7)),
              dayOfMonth: dayOfMonth ?? Number(startDate.slice(8)),
            };
      break;
    default:
      return null;
  }
  const until = props.get('UNTIL');
  const count = props.get('COUNT');
  const range = {
    startDate,
    endDate: until
      ? `${until.slice(0, 4)}-${until.slice(4, 6)}-${until.slice(6, 8)}`
      : '0001-01-01',
    numberOfOccurrences: count ? Number(count) : 0,
    recurrenceTimeZone: timeZone,
    type: until ? ('endDate' as const) : count ? ('numbered' as const) : ('noEnd' as const),
  };
  return { pattern, range };
}
