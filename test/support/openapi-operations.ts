import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/** A JSON Schema as docs/openapi.yaml writes one (the subset the fuzzer reads). */
export interface Schema {
  readonly $ref?: string;
  readonly type?: string | readonly string[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly format?: string;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly items?: Schema;
  readonly oneOf?: readonly Schema[];
  readonly anyOf?: readonly Schema[];
  readonly allOf?: readonly Schema[];
  readonly additionalProperties?: Schema | boolean;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly maxLength?: number;
}

interface Parameter {
  readonly $ref?: string;
  readonly name: string;
  readonly in: 'path' | 'query' | 'header';
  readonly schema?: Schema;
}

export type Face = 'cronofy' | 'google' | 'graph' | 'oauth' | 'admin' | 'root';

/** One documented route: what the fuzzer calls, and what it may send with it. */
export interface Operation {
  readonly method: string;
  /** The path as documented, `{name}` for each parameter. */
  readonly path: string;
  readonly face: Face;
  readonly pathParams: readonly string[];
  readonly query: readonly { readonly name: string; readonly schema: Schema }[];
  readonly body?: Schema | undefined;
}

interface Spec {
  paths: Record<string, Record<string, unknown>>;
  components: Record<string, Record<string, unknown>>;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

export const spec = parse(
  readFileSync(new URL('../../docs/openapi.yaml', import.meta.url), 'utf8'),
) as Spec;

/** What a `#/components/...` reference names. */
export function resolve<T>(node: T & { $ref?: string }): T {
  let current: T & { $ref?: string } = node;
  while (current.$ref) {
    const [, section, name] = /^#\/components\/(\w+)\/(\w+)$/.exec(current.$ref) ?? [];
    current = spec.components[section ?? '']?.[name ?? ''] as T & { $ref?: string };
  }
  return current;
}

export function faceOf(path: string): Face {
  if (path === '/v1' || path.startsWith('/v1/')) return 'cronofy';
  if (path === '/calendar/v3' || path.startsWith('/calendar/v3/')) return 'google';
  if (path === '/oauth' || path.startsWith('/oauth/')) return 'oauth';
  if (path === '/v1.0' || path.startsWith('/v1.0/')) return 'graph';
  if (path === '/admin/v1' || path.startsWith('/admin/v1/')) return 'admin';
  return 'root';
}

/** Every route docs/openapi.yaml documents, with its parameters and body schema. */
export function documentedOperations(): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    const shared = ((item.parameters as Parameter[] | undefined) ?? []).map((p) => resolve(p));
    for (const method of METHODS) {
      const op = item[method] as
        | { parameters?: Parameter[]; requestBody?: { $ref?: string; content?: unknown } }
        | undefined;
      if (!op) continue;
      const params = [...shared, ...(op.parameters ?? []).map((p) => resolve(p))];
      const requestBody = op.requestBody ? resolve(op.requestBody) : undefined;
      const content = requestBody?.content as
        Record<string, { schema?: Schema } | undefined> | undefined;
      out.push({
        method: method.toUpperCase(),
        path,
        face: faceOf(path),
        pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
        query: params
          .filter((p) => p.in === 'query')
          .map((p) => ({ name: p.name, schema: p.schema ?? {} })),
        body: content?.['application/json']?.schema,
      });
    }
  }
  return out;
}
