/**
 * A Google calendar's cursor: the sync token its last listing ended with. Anything
 * unreadable counts as none, which costs a full listing (diffed, so no change is told
 * twice), never a wrong answer.
 */
export interface CalendarCursor {
  readonly v: 1;
  readonly syncToken: string;
}

export function readCalendarCursor(value: unknown): CalendarCursor | null {
  if (typeof value !== 'object' || value === null) return null;
  const c = value as Record<string, unknown>;
  if (c['v'] !== 1 || typeof c['syncToken'] !== 'string' || c['syncToken'] === '') return null;
  return { v: 1, syncToken: c['syncToken'] };
}
