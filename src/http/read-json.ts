import type { Context } from 'hono';
import { jsonTextDeeperThan, nulPath } from '../domain/json-bounds.ts';

export type JsonBody =
  | { ok: true; value: unknown }
  | { ok: false; reason: 'type' | 'depth' | 'syntax'; problem: string }
  /** A string or key with a NUL character, at `field`. */
  | { ok: false; reason: 'nul'; problem: string; field: string };

/**
 * How deep a request body may nest. The deepest body either face defines nests 4 levels
 * (Google's reminder overrides); a body nested thousands deep would break whatever later
 * serialises it, so it is refused before it is parsed.
 */
export const MAX_BODY_DEPTH = 32;

/** `application/json` or a `+json` type, with any parameters (charset). */
const jsonType = /^application\/(?:[\w.+-]*\+)?json\s*(?:;|$)/i;

/**
 * Reads a JSON body; an empty body reads as `{}` because SDKs send GET and DELETE with a JSON
 * content type and nothing (or `{}`) in it. A body declared as something other than JSON is
 * refused (a face answers 415), not parsed as JSON anyway; one without a Content-Type is read
 * as JSON, as before.
 */
export async function readJson(c: Context): Promise<JsonBody> {
  // Read whole first: an answer sent while the body is still arriving closes the connection.
  const text = await c.req.text();
  if (text.trim() === '') return { ok: true, value: {} };
  const type = c.req.header('content-type');
  if (type !== undefined && !jsonType.test(type.trim())) {
    return { ok: false, reason: 'type', problem: 'Content-Type must be application/json' };
  }
  if (jsonTextDeeperThan(text, MAX_BODY_DEPTH)) {
    return {
      ok: false,
      reason: 'depth',
      problem: `body nests more than ${MAX_BODY_DEPTH} levels deep`,
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    return { ok: false, reason: 'syntax', problem: 'body is not valid JSON' };
  }
  // No store keeps NUL in text the same way (PostgreSQL refuses it): no client may send it.
  const field = nulPath(value);
  if (field !== undefined) {
    return { ok: false, reason: 'nul', problem: 'must not contain NUL characters', field };
  }
  return { ok: true, value };
}

export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
