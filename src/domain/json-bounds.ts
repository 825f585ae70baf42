/**
 * Bounds on JSON that calpush reads from clients or keeps for them. `JSON.stringify` recurses:
 * a value nested a few thousand levels deep throws a RangeError when it is written or read
 * back, so nesting is checked before anything serialises it.
 */

/**
 * Whether JSON text opens more than `max` arrays or objects inside each other. Scans the text
 * (skipping strings) and stops at the first level over, so a hostile body costs one pass at
 * most and is never parsed.
 */
export function jsonTextDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c)
        i++; // a backslash escapes the next character, a quote too
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) {
      inString = true;
    } else if (ch === 0x5b || ch === 0x7b) {
      if (++depth > max) return true;
    } else if (ch === 0x5d || ch === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** Whether a value nests arrays or objects more than `max` levels deep; walks without recursing. */
export function valueDeeperThan(value: unknown, max: number): boolean {
  const pending: [unknown, number][] = [[value, 0]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [node, depth] = next;
    if (node === null || typeof node !== 'object') continue;
    if (depth + 1 > max) return true;
    for (const child of Object.values(node)) pending.push([child, depth + 1]);
  }
  return false;
}

/**
 * Where a parsed JSON value holds a NUL character (U+0000), in a string or a key: its path
 * (`attendees.0.email`, `''` for the value itself), or undefined. PostgreSQL cannot store NUL
 * in text, so calpush takes it from no client, whatever the engine.
 */
export function nulPath(value: unknown): string | undefined {
  const pending: [unknown, string][] = [[value, '']];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [node, path] = next;
    if (typeof node === 'string') {
      if (node.includes('\u0000')) return path;
    } else if (node !== null && typeof node === 'object') {
      for (const [key, child] of Object.entries(node)) {
        const at = path === '' ? key : `${path}.${key}`;
        if (key.includes('\u0000')) return at;
        pending.push([child, at]);
      }
    }
  }
  return undefined;
}
