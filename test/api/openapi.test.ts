/**
 * openapi.json is generated from the schemas the api validates with: the committed file must be
 * what `npm run openapi` writes now, and the api serves it to callers without credentials.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPENAPI_FILE, renderOpenApi } from '../../scripts/openapi';
import { apiRouteSpecs } from '../../shared/api/routes';
import { EVENT_TYPES } from '../../shared/ledger/records';
import { ensureBuilt } from '../helpers/build';
import { apiEvent, startStack, type ApiResponse, type Stack } from '../reliability/harness';

describe('openapi.json', () => {
  const committed = readFileSync(OPENAPI_FILE, 'utf8');

  it('is what `npm run openapi` generates from the schemas (run it after changing a route or event)', () => {
    expect(committed).toBe(renderOpenApi());
  });

  it('describes every route, both auth schemes, the error shape and every webhook event', () => {
    const doc = JSON.parse(committed) as {
      paths: Record<string, Record<string, unknown>>;
      webhooks: Record<string, unknown>;
      components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
    };
    for (const spec of apiRouteSpecs())
      expect(doc.paths[spec.pattern]?.[spec.method.toLowerCase()], `${spec.method} ${spec.pattern}`).toBeDefined();
    expect(Object.keys(doc.webhooks).sort()).toEqual([...EVENT_TYPES].sort());
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['bearer', 'signature', 'signatureTimestamp']);
    expect(doc.components.schemas.Error).toBeDefined();
  });
});

describe('GET /openapi.json', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ webhooks: false, env: { LOG_LEVEL: 'silent' } });
  });
  afterAll(async () => stack.stop());

  const call = async (method: string, path: string) =>
    (await stack.invoke('api', apiEvent({ method, path }, { none: true }))) as ApiResponse;

  it('answers the document without credentials', async () => {
    const res = await call('GET', '/openapi.json');
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toEqual(JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')));
  });

  it('opens nothing else: other paths and methods still need credentials', async () => {
    expect((await call('GET', '/channels')).statusCode).toBe(401);
    expect((await call('POST', '/openapi.json')).statusCode).toBe(401);
  });
});

describe('the built api bundle', () => {
  it('serves the document from dist/api/openapi.json, read on the first request, not carried in the bundle', () => {
    ensureBuilt();
    const dist = join(__dirname, '..', '..', 'dist', 'api');
    // A string only the document holds: the bundle would hold it if the document were bundled.
    expect(readFileSync(join(dist, 'index.js'), 'utf8')).not.toContain('Standard Webhooks signed');
    const event = apiEvent({ method: 'GET', path: '/openapi.json' }, { none: true });
    const probe = `require(${JSON.stringify(join(dist, 'index.js'))}).handler(Buffer.from(process.argv[1], 'base64'), { requestId: 'r' }).then((r) => process.stdout.write(JSON.stringify(r)))`;
    const out = execFileSync(process.execPath, ['-e', probe, Buffer.from(event).toString('base64')], {
      env: {
        PATH: process.env.PATH,
        OSS_ENDPOINT: 'http://127.0.0.1:9',
        OSS_REGION: 'cn-hangzhou',
        BUCKETS: 'livecycle-demo',
        API_TOKEN: 'a-token-of-sixteen-chars',
        LOG_LEVEL: 'silent',
      },
      encoding: 'utf8',
    });
    const res = JSON.parse(out) as ApiResponse;
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toEqual(JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')));
  });
});
