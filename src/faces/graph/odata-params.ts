import type { Context } from 'hono';
import type { CoreResources } from '../../core/resources.ts';
import { GraphError } from './errors.ts';

/** A query parameter by its OData name (`$top`), however the client escaped the `$`. */
export function odataParam(c: Context, name: string): string | undefined {
  return new URL(c.req.url).searchParams.get(name) ?? undefined;
}

/**
 * A page size: `$top`, else `Prefer: odata.maxpagesize=N`, else Graph's default; at most
 * `cap` (a larger request reads as the cap, as on Graph).
 */
export function pageSize(c: Context, fallback: number, cap: number): number {
  const top = odataParam(c, '$top');
  if (top !== undefined) {
    if (!/^\d{1,9}$/.test(top) || Number(top) < 1) {
      throw GraphError.invalid(`Invalid value '${top}' for query option '$top'.`);
    }
    return Math.min(Number(top), cap);
  }
  const prefer = /odata\.maxpagesize\s*=\s*(\d{1,9})/i.exec(c.req.header('prefer') ?? '');
  if (prefer?.[1] && Number(prefer[1]) >= 1) return Math.min(Number(prefer[1]), cap);
  return fallback;
}

/** Query options calpush does not serve: a clear 400 rather than an answer that ignores them. */
export function rejectUnsupported(c: Context, names: readonly string[]): void {
  for (const name of names) {
    if (odataParam(c, name) !== undefined) {
      throw GraphError.invalid(`Query option '${name}' is not supported by calpush.`);
    }
  }
}

/** An absolute link to this same path with one query parameter, built from the public URL. */
export function linkTo(res: CoreResources, c: Context, param: string, value: string): string {
  return `${res.publicUrl}${c.req.path}?${param}=${encodeURIComponent(value)}`;
}
