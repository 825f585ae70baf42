import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { createCronofyFace } from '../src/faces/cronofy/app.ts';
import { createGoogleFace } from '../src/faces/google/app.ts';
import { createCronofyOAuth } from '../src/faces/cronofy/oauth-app.ts';
import { createGraphFace } from '../src/faces/graph/app.ts';
import { createAdminApi } from '../src/faces/admin/app.ts';
import { createLogger } from '../src/log.ts';
import type { CoreResources } from '../src/core/resources.ts';

interface OpenApi {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
  components: Record<string, Record<string, unknown>>;
}

const spec = parse(
  readFileSync(new URL('../docs/openapi.yaml', import.meta.url), 'utf8'),
) as OpenApi;
const methods = ['get', 'post', 'put', 'patch', 'delete'];

/** Routes the faces really serve, as OpenAPI paths with parameter names blanked. Building the apps touches no store. */
function servedRoutes(): string[] {
  const logger = createLogger('silent');
  const res = {} as CoreResources;
  const faces = [
    ['/v1', createCronofyFace(res, { logger })],
    ['/oauth', createCronofyOAuth(res, { logger })],
    ['/calendar/v3', createGoogleFace(res, { logger })],
    [
      '/v1.0',
      createGraphFace(res, {
        logger,
        handshake: { request: () => Promise.reject(new Error('not used to list routes')) },
      }),
    ],
    ['/admin/v1', createAdminApi(res, { logger, adminToken: undefined, attempts: () => () => {} })],
  ] as const;
  const out = new Set<string>();
  for (const [prefix, app] of faces) {
    for (const r of app.routes) {
      if (r.method === 'ALL') continue;
      out.add(`${r.method.toLowerCase()} ${prefix}${r.path.replace(/:\w+/g, '{}')}`);
    }
  }
  return [...out].sort();
}

test('the OpenAPI description documents every route the faces serve, and nothing else', () => {
  assert.equal(spec.openapi, '3.1.0');
  const documented = new Set<string>();
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const m of methods)
      if (m in item) documented.add(`${m} ${path.replace(/\{\w+\}/g, '{}')}`);
  }
  const served = servedRoutes();
  const undocumented = served.filter((r) => !documented.has(r));
  assert.deepEqual(undocumented, [], 'served but not documented');
  const operational = ['get /healthz', 'get /readyz', 'get /metrics'];
  const phantom = [...documented].filter((r) => !served.includes(r) && !operational.includes(r));
  assert.deepEqual(phantom, [], 'documented but not served');
});

test('every $ref in the OpenAPI description resolves', () => {
  const refs: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === '$ref' && typeof v === 'string') refs.push(v);
        else walk(v);
      }
    }
  };
  walk(spec);
  for (const ref of refs) {
    const [, section, name] = /^#\/components\/(\w+)\/(\w+)$/.exec(ref) ?? [];
    assert.ok(section && name && spec.components[section]?.[name], `unresolved ${ref}`);
  }
});
