import type { Context } from 'hono';

export type JsonBody = { ok: true; value: unknown } | { ok: false; problem: string };

/**
 * Reads a JSON body; an empty body reads as `{}` because SDKs send GET and DELETE with a JSON
 * content type and nothing (or `{}`) in it.
 */
export async function readJson(c: Context): Promise<JsonBody> {
  const text = await c.req.text();
  if (text.trim() === '') return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, problem: 'body is not valid JSON' };
  }
}

export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
