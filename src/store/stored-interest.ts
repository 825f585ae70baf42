/**
 * Distinct interests kept parsed (one per watched resource at most, a few hundred bytes
 * each); beyond it the cache starts over.
 */
export const MAX_INTERESTS = 10_000;
const parsed = new Map<string, unknown>();

/**
 * A channel's interest (its dialect's settings) from its stored JSON, for the dialect to
 * read. Channels share a handful of distinct texts (every channel of a calendar, every
 * unfiltered channel of a dialect), while each change parses the interest of every channel
 * of its account and each claim that of every channel it takes: 10,000 parses for one
 * fan-out. Parsed once per text, and frozen, since every caller now holds the same object.
 */
export function parseStoredInterest(json: string): unknown {
  let interest = parsed.get(json);
  if (!interest) {
    interest = deepFreeze(JSON.parse(json) as unknown);
    if (parsed.size >= MAX_INTERESTS) parsed.clear();
    parsed.set(json, interest);
  }
  return interest;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
