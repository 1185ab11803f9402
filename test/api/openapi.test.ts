/**
 * openapi.json is generated from the schemas the api validates with: the committed file must be
 * what `npm run openapi` writes now, and the api serves it to callers without credentials.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPENAPI_FILE, docsWithErrorCodes, renderOpenApi } from '../../scripts/openapi';
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

  it('has an example for every route and event, each valid against its schema', () => {
    type Node = Record<string, any>;
    const doc = JSON.parse(committed) as Node;
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    ajv.addSchema({ $id: 'openapi', components: doc.components });
    const check = (where: string, schema: Node, example: unknown) => {
      const rebased = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi#/components/')) as Node;
      const validate = ajv.compile(rebased);
      expect(validate(example), `${where}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    };
    const media = (node: Node) => node.content['application/json'] as Node;
    for (const [path, ops] of Object.entries(doc.paths as Node))
      for (const [method, op] of Object.entries(ops as Node)) {
        const where = `${method.toUpperCase()} ${path}`;
        const success = Object.entries(op.responses as Node).filter(([status]) => status.startsWith('2'));
        expect(success, where).toHaveLength(1);
        const [, body] = success[0]!;
        expect(media(body).example, `${where}: success example`).toBeDefined();
        check(`${where} success`, media(body).schema, media(body).example);
        if (op.requestBody) check(`${where} body`, media(op.requestBody).schema, media(op.requestBody).example);
        for (const p of op.parameters ?? [])
          if (p.example !== undefined) check(`${where} ${p.name}`, p.schema, p.example);
      }
    for (const [type, hook] of Object.entries(doc.webhooks as Node)) {
      const body = media(hook.post.requestBody);
      check(`webhook ${type}`, body.schema, body.example);
    }
    const error = media(doc.components.responses.Error);
    check('error', error.schema, error.example);
  });

  it("docs/api.md's error-code table is the one `npm run openapi` writes from shared/api/error-codes.ts", () => {
    const docs = readFileSync(join(__dirname, '..', '..', 'docs', 'api.md'), 'utf8');
    expect(docs).toBe(docsWithErrorCodes(docs));
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
