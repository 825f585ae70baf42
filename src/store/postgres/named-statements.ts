import { createHash } from 'node:crypto';
import { isPlannedPerCall } from '../statement-marks.ts';

/**
 * Named (prepared) statements on PostgreSQL. The SQL builder sends every statement unnamed, so
 * the server parses, analyses and plans each one again on every call: for the small
 * statements of the write and delivery paths that is most of what the server spends on them.
 * A statement sent with a name is parsed once per connection, and after a few calls the
 * server may keep one plan for it. The name is derived from the text, so every connection
 * uses the same name for the same statement, and one name never stands for two texts.
 */

/** Statements one connection keeps named; beyond these, new texts go unnamed as before. */
export const MAX_NAMED_PER_CONNECTION = 256;
/**
 * Longer lists of parameters come from batch writes, whose text changes with the batch's
 * length and which are not called often enough for a name to pay.
 */
export const MAX_NAMED_PARAMETERS = 64;
/** Names remembered by text, across connections; the map starts over beyond it. */
const MAX_REMEMBERED = 4096;

const namesByText = new Map<string, string>();

export function statementName(text: string): string {
  let name = namesByText.get(text);
  if (name === undefined) {
    if (namesByText.size >= MAX_REMEMBERED) namesByText.clear();
    name = `calpush_${createHash('sha256').update(text).digest('base64url').slice(0, 32)}`;
    namesByText.set(text, name);
  }
  return name;
}

export interface NamedQuery {
  readonly name: string;
  readonly text: string;
  readonly values: readonly unknown[];
}

/**
 * What a connection that has named `named` so far sends for `text` with `values`: the
 * statement under its name, or undefined to send it unnamed. Statements without parameters
 * (transaction control, the builder's own) stay unnamed: most are sent rarely, and `begin`
 * and `commit` go by the simple protocol, which has no parse to save. So do statements marked
 * `PLANNED_PER_CALL`.
 */
export function namedQuery(
  named: Set<string>,
  text: string,
  values: readonly unknown[],
): NamedQuery | undefined {
  if (values.length === 0 || values.length > MAX_NAMED_PARAMETERS) return undefined;
  if (isPlannedPerCall(text)) return undefined;
  const name = statementName(text);
  if (!named.has(name)) {
    if (named.size >= MAX_NAMED_PER_CONNECTION) return undefined;
    named.add(name);
  }
  return { name, text, values };
}

/**
 * The server's refusal to run a named statement whose result columns changed since it was
 * parsed (another node's migration added a column to a table it reads with `select *`). The
 * statement stays broken on that connection, so the connection is closed and replaced.
 */
export function isStalePlan(err: unknown): boolean {
  return (
    err instanceof Error &&
    (err as { code?: unknown }).code === '0A000' &&
    /cached plan must not change result type/.test(err.message)
  );
}
