import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../../shared/oss/http';

describe('lean request (undici lib/ modules, global dispatcher)', () => {
  const server = createServer((req, res) => {
    let body = '';
    req
      .on('data', (c) => (body += c))
      .on('end', () =>
        res.end(JSON.stringify({ method: req.method, url: req.url, type: req.headers['content-type'], body })),
      );
  });
  let base = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends method, path with query, headers and body as undici.request does', async () => {
    const res = await request(`${base}/hook/a?x=1`, {
      method: 'POST',
      body: '{"a":1}',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toEqual({
      method: 'POST',
      url: '/hook/a?x=1',
      type: 'application/json',
      body: '{"a":1}',
    });
    const get = await request(new URL(`${base}/plain`));
    expect(await get.body.json()).toMatchObject({ method: 'GET', url: '/plain' });
  });

  it('refuses a URL that is not http(s)', () => {
    expect(() => request('ftp://example.com/x')).toThrow(/http/);
  });
});
