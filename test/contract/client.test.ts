/**
 * A client generated from openapi.json with standard tools (openapi-typescript wrote
 * api-types.ts in `npm run openapi`; openapi-fetch is the runtime) drives a channel's life
 * through the real api function: create → get → disable → enable → delete. `npm run lint`
 * type-checks these calls against the generated types, so a path or field the document does not
 * have fails there too.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import createClient from 'openapi-fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TOKEN, apiEvent, startStack, type ApiResponse, type Stack } from '../reliability/harness';
import type { paths } from './api-types';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ webhooks: false, env: { LOG_LEVEL: 'silent' } });
});
afterAll(async () => stack.stop());

/** fetch for the generated client: each Request becomes an FC HTTP event for the api function. */
async function viaApiFunction(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const text = await request.text();
  const event = apiEvent(
    {
      method: request.method,
      path: decodeURIComponent(url.pathname),
      query: Object.fromEntries(url.searchParams),
      body: text ? JSON.parse(text) : undefined,
    },
    { token: API_TOKEN },
  );
  const res = (await stack.invoke('api', event)) as ApiResponse;
  return new Response(res.body, { status: res.statusCode, headers: res.headers });
}

describe('a client generated from openapi.json', () => {
  it('is generated from the committed document (npm run openapi)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'livecycle-openapi-'));
    try {
      execFileSync(
        process.execPath,
        [
          join(__dirname, '..', '..', 'node_modules', 'openapi-typescript', 'bin', 'cli.js'),
          join(__dirname, '..', '..', 'openapi.json'),
          '-o',
          join(dir, 'api-types.ts'),
        ],
        { stdio: 'ignore' },
      );
      expect(readFileSync(join(__dirname, 'api-types.ts'), 'utf8')).toBe(
        readFileSync(join(dir, 'api-types.ts'), 'utf8'),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('drives create → get → disable → enable → delete', async () => {
    const client = createClient<paths>({ baseUrl: 'https://livecycle.test', fetch: viaApiFunction });
    const name = 'generated-client-cam';
    const params = { path: { name } };

    const created = await client.POST('/channels', { body: { name, fragDuration: 2, fragCount: 3 } });
    expect(created.response.status).toBe(201);
    expect(created.data).toMatchObject({ name });

    expect((await client.GET('/channels/{name}', { params })).data).toMatchObject({ name });
    expect((await client.POST('/channels/{name}/disable', { params, body: { force: false } })).response.status).toBe(
      200,
    );
    expect((await client.POST('/channels/{name}/enable', { params })).response.status).toBe(200);
    expect(
      (await client.DELETE('/channels/{name}', { params: { ...params, query: { force: 'false' } } })).response.status,
    ).toBe(200);

    const gone = await client.GET('/channels/{name}', { params });
    expect(gone.response.status).toBe(404);
    expect(gone.error).toMatchObject({ error: { code: 'channel_not_found' } });
  });
});
