/** Object operations over raw HTTP with real signatures: statuses, headers, XML element names. */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../local/emulator';
import { errorOf, oss, parseXml } from './helpers';
import { quietEmulator } from './setup';

let emu: Emulator;
beforeAll(async () => {
  emu = await quietEmulator({ buckets: ['livecycle-demo', 'other-bucket'] });
});
afterAll(() => emu.stop());

const md5b64 = (s: string | Buffer) => createHash('md5').update(s).digest('base64');

describe('common response conventions', () => {
  it('carries x-oss-request-id, Date from the emulator clock and Server: AliyunOSS', async () => {
    const res = await oss(emu, { method: 'GET', key: 'missing' });
    expect(res.headers['x-oss-request-id']).toMatch(/^[0-9A-F]{24}$/);
    expect(res.headers['server']).toBe('AliyunOSS');
    expect(res.headers['date']).toBe(new Date(emu.clock.now()).toUTCString());
    expect(res.headers['content-type']).toBe('application/xml');
  });

  it('renders errors as <Error> with Code, Message, RequestId, HostId and extras', async () => {
    const res = await oss(emu, { method: 'GET', key: 'no/such.txt' });
    expect(res.status).toBe(404);
    expect(res.text.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
    const err = errorOf(res);
    expect(Object.keys(err).slice(0, 4)).toEqual(['Code', 'Message', 'RequestId', 'HostId']);
    expect(err).toMatchObject({
      Code: 'NoSuchKey',
      RequestId: res.headers['x-oss-request-id'],
      Key: 'no/such.txt',
      EC: '0026-00000001',
    });
    expect(res.headers['x-oss-ec']).toBe('0026-00000001');
  });

  it('answers 404 NoSuchBucket for an unknown bucket, and InvalidBucketName for an impossible one', async () => {
    const res = await oss(emu, { method: 'GET', bucket: 'nope-bucket', key: 'k' });
    expect(res.status).toBe(404);
    expect(errorOf(res)).toMatchObject({ Code: 'NoSuchBucket', BucketName: 'nope-bucket', EC: '0015-00000101' });
    const bad = await oss(emu, { method: 'GET', bucket: 'Bad_Bucket', key: 'k' });
    expect(bad.status).toBe(400);
    expect(errorOf(bad).Code).toBe('InvalidBucketName');
  });

  it('addresses buckets virtual-hosted style by the first Host label', async () => {
    await oss(emu, { method: 'PUT', bucket: 'other-bucket', key: 'vh.txt', body: 'virtual' });
    const res = await oss(emu, {
      method: 'GET',
      bucket: 'other-bucket',
      key: 'vh.txt',
      host: `other-bucket.${emu.endpoint}`,
    });
    expect(res.status).toBe(200);
    expect(res.text).toBe('virtual');
    const aliyun = await oss(emu, {
      method: 'GET',
      bucket: 'ghost-bucket',
      key: 'vh.txt',
      host: 'ghost-bucket.oss-cn-hangzhou.aliyuncs.com',
    });
    expect(errorOf(aliyun).Code).toBe('NoSuchBucket');
  });
});

describe('PutObject / GetObject / HeadObject / DeleteObject', () => {
  it('stores an object and answers a quoted upper-hex MD5 ETag', async () => {
    const body = 'segment bytes';
    const put = await oss(emu, {
      method: 'PUT',
      key: 'live/ch1/000.ts',
      body,
      headers: { 'x-oss-meta-author': 'alice' },
    });
    expect(put.status).toBe(200);
    const etag = `"${createHash('md5').update(body).digest('hex').toUpperCase()}"`;
    expect(put.headers.etag).toBe(etag);
    const get = await oss(emu, { method: 'GET', key: 'live/ch1/000.ts' });
    expect(get.status).toBe(200);
    expect(get.text).toBe(body);
    expect(get.headers).toMatchObject({
      etag,
      'content-type': 'video/MP2T',
      'x-oss-meta-author': 'alice',
      'x-oss-object-type': 'Normal',
      'content-length': String(body.length),
    });
    expect(get.headers['last-modified']).toBe(new Date(emu.clock.now()).toUTCString());
    const head = await oss(emu, { method: 'HEAD', key: 'live/ch1/000.ts' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(head.headers['content-length']).toBe(String(body.length));
  });

  it('keeps keys with spaces, plus signs, unicode and encoded slashes intact', async () => {
    for (const key of ['a b+c/d.txt', 'ünï/çødé 😀.txt', "x!'()*~.txt"]) {
      expect((await oss(emu, { method: 'PUT', key, body: key })).status).toBe(200);
      expect((await oss(emu, { method: 'GET', key })).text).toBe(key);
    }
  });

  it('x-oss-forbid-overwrite: true → 409 FileAlreadyExists, object unchanged', async () => {
    await oss(emu, { method: 'PUT', key: 'once.json', body: 'first' });
    const res = await oss(emu, {
      method: 'PUT',
      key: 'once.json',
      body: 'second',
      headers: { 'x-oss-forbid-overwrite': 'true' },
    });
    expect(res.status).toBe(409);
    expect(errorOf(res).Code).toBe('FileAlreadyExists');
    expect((await oss(emu, { method: 'GET', key: 'once.json' })).text).toBe('first');
    const fresh = await oss(emu, {
      method: 'PUT',
      key: 'fresh.json',
      body: 'x',
      headers: { 'x-oss-forbid-overwrite': 'true' },
    });
    expect(fresh.status).toBe(200);
  });

  it('verifies Content-MD5 → 400 InvalidDigest', async () => {
    const ok = await oss(emu, {
      method: 'PUT',
      key: 'md5.txt',
      body: 'abc',
      headers: { 'content-md5': md5b64('abc') },
    });
    expect(ok.status).toBe(200);
    const bad = await oss(emu, {
      method: 'PUT',
      key: 'md5.txt',
      body: 'abd',
      headers: { 'content-md5': md5b64('abc') },
    });
    expect(bad.status).toBe(400);
    expect(errorOf(bad).Code).toBe('InvalidDigest');
    expect((await oss(emu, { method: 'GET', key: 'md5.txt' })).text).toBe('abc');
  });

  it('serves one Range with 206 and Content-Range; an invalid range gives the whole object', async () => {
    await oss(emu, { method: 'PUT', key: 'range.bin', body: '0123456789' });
    const cases: [string, number, string, string | undefined][] = [
      ['bytes=2-5', 206, '2345', 'bytes 2-5/10'],
      ['bytes=7-', 206, '789', 'bytes 7-9/10'],
      ['bytes=-3', 206, '789', 'bytes 7-9/10'],
      ['bytes=8-100', 206, '89', 'bytes 8-9/10'],
      ['bytes=10-20', 200, '0123456789', undefined],
      ['bytes=5-2', 200, '0123456789', undefined],
      ['bytes=0-1,3-4', 200, '0123456789', undefined],
      ['items=0-1', 200, '0123456789', undefined],
    ];
    for (const [range, status, text, contentRange] of cases) {
      const res = await oss(emu, { method: 'GET', key: 'range.bin', headers: { range } });
      expect([range, res.status, res.text, res.headers['content-range']]).toEqual([range, status, text, contentRange]);
    }
  });

  it('answers conditional GETs with 304 and 412', async () => {
    const put = await oss(emu, { method: 'PUT', key: 'cond.txt', body: 'c' });
    expect(
      (await oss(emu, { method: 'GET', key: 'cond.txt', headers: { 'if-none-match': put.headers.etag as string } }))
        .status,
    ).toBe(304);
    const failed = await oss(emu, {
      method: 'GET',
      key: 'cond.txt',
      headers: { 'if-match': '"00000000000000000000000000000000"' },
    });
    expect(failed.status).toBe(412);
    expect(errorOf(failed).Code).toBe('PreconditionFailed');
  });

  it('HEAD of a missing key: 404, no body, x-oss-ec and base64 XML in x-oss-err', async () => {
    const res = await oss(emu, { method: 'HEAD', key: 'missing.ts' });
    expect(res.status).toBe(404);
    expect(res.body.length).toBe(0);
    expect(res.headers['x-oss-ec']).toBe('0026-00000001');
    expect(errorOf(res)).toMatchObject({ Code: 'NoSuchKey', Key: 'missing.ts' });
  });

  it('DeleteObject answers 204 whether or not the key existed', async () => {
    await oss(emu, { method: 'PUT', key: 'del.txt', body: 'd' });
    expect((await oss(emu, { method: 'DELETE', key: 'del.txt' })).status).toBe(204);
    expect((await oss(emu, { method: 'GET', key: 'del.txt' })).status).toBe(404);
    expect((await oss(emu, { method: 'DELETE', key: 'del.txt' })).status).toBe(204);
  });

  it('refuses invalid object names', async () => {
    const long = await oss(emu, { method: 'PUT', key: 'k'.repeat(1024), body: 'x' });
    expect(long.status).toBe(400);
    expect(errorOf(long).Code).toBe('InvalidObjectName');
    const backslash = await oss(emu, { method: 'PUT', key: '\\x', body: 'x' });
    expect(errorOf(backslash).Code).toBe('InvalidObjectName');
  });
});

describe('ListObjectsV2', () => {
  const bucket = 'other-bucket';
  beforeAll(async () => {
    for (const key of [
      'list/a.ts',
      'list/b/1.ts',
      'list/b/2.ts',
      'list/c.ts',
      'list/d/1.ts',
      'list/é.ts',
      'list/z.ts',
      'list/\u{1F600}.ts',
      'list/\uFF21.ts',
    ]) {
      await oss(emu, { method: 'PUT', bucket, key, body: key });
    }
  });

  const list = async (query: Record<string, string>) => {
    const res = await oss(emu, { method: 'GET', bucket, query: { 'list-type': '2', ...query } });
    expect(res.status).toBe(200);
    return parseXml(res.text).ListBucketResult;
  };

  it('lists in UTF-8 byte order with the documented elements', async () => {
    const r = await list({ prefix: 'list/' });
    expect(r.Contents.map((c: any) => c.Key)).toEqual([
      'list/a.ts',
      'list/b/1.ts',
      'list/b/2.ts',
      'list/c.ts',
      'list/d/1.ts',
      'list/z.ts',
      'list/é.ts',
      'list/\uFF21.ts',
      'list/\u{1F600}.ts',
    ]);
    expect(r).toMatchObject({ Name: bucket, Prefix: 'list/', MaxKeys: '100', IsTruncated: 'false', KeyCount: '9' });
    expect(r.Contents[0]).toEqual({
      Key: 'list/a.ts',
      LastModified: new Date(emu.clock.now()).toISOString(),
      ETag: `"${createHash('md5').update('list/a.ts').digest('hex').toUpperCase()}"`,
      Type: 'Normal',
      Size: '9',
      StorageClass: 'Standard',
    });
  });

  it('rolls up CommonPrefixes and pages through them with continuation tokens', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await list({
        prefix: 'list/',
        delimiter: '/',
        'max-keys': '2',
        ...(token ? { 'continuation-token': token } : {}),
      });
      pages++;
      for (const c of r.Contents ?? []) seen.push(c.Key);
      for (const p of r.CommonPrefixes ?? []) seen.push(p.Prefix);
      expect(Number(r.KeyCount)).toBe((r.Contents?.length ?? 0) + (r.CommonPrefixes?.length ?? 0));
      token = r.IsTruncated === 'true' ? r.NextContinuationToken : undefined;
      if (token) expect(r.NextContinuationToken).toBeTruthy();
    } while (token);
    expect(pages).toBe(4);
    expect(seen.sort()).toEqual(
      [
        'list/a.ts',
        'list/b/',
        'list/c.ts',
        'list/d/',
        'list/z.ts',
        'list/é.ts',
        'list/\uFF21.ts',
        'list/\u{1F600}.ts',
      ].sort(),
    );
  });

  it('start-after skips keys and a CommonPrefix it falls inside', async () => {
    const r = await list({ prefix: 'list/', delimiter: '/', 'start-after': 'list/b/1.ts' });
    expect(r.StartAfter).toBe('list/b/1.ts');
    expect(r.CommonPrefixes.map((p: any) => p.Prefix)).toEqual(['list/d/']);
    expect(r.Contents[0].Key).toBe('list/c.ts');
  });

  it('encoding-type=url percent-encodes keys and prefixes', async () => {
    const r = await list({ prefix: 'list/é', 'encoding-type': 'url' });
    expect(r.EncodingType).toBe('url');
    expect(r.Prefix).toBe('list%2F%C3%A9');
    expect(r.Contents[0].Key).toBe('list%2F%C3%A9.ts');
  });

  it('rejects max-keys outside 1–1000 and a forged continuation token with InvalidArgument', async () => {
    const bad: Record<string, string>[] = [
      { 'max-keys': '0' },
      { 'max-keys': '1001' },
      { 'max-keys': 'ten' },
      { 'continuation-token': '!!' },
      { 'encoding-type': 'xml' },
    ];
    for (const query of bad) {
      const res = await oss(emu, { method: 'GET', bucket, query: { 'list-type': '2', ...query } });
      expect(res.status).toBe(400);
      expect(errorOf(res).Code).toBe('InvalidArgument');
    }
  });
});

describe('DeleteMultipleObjects', () => {
  const deleteBody = (keys: string[], quiet: boolean) =>
    `<?xml version="1.0" encoding="UTF-8"?><Delete><Quiet>${quiet}</Quiet>${keys.map((k) => `<Object><Key>${k}</Key></Object>`).join('')}</Delete>`;
  const post = (body: string, headers: Record<string, string> = { 'content-md5': md5b64(body) }) =>
    oss(emu, {
      method: 'POST',
      query: { delete: '' },
      body,
      headers: { 'content-type': 'application/xml', ...headers },
    });

  it('verbose: lists every key as Deleted, existing or not', async () => {
    await oss(emu, { method: 'PUT', key: 'dm/1', body: '1' });
    await oss(emu, { method: 'PUT', key: 'dm/a&b', body: '2' });
    const res = await post(deleteBody(['dm/1', 'dm/a&amp;b', 'dm/never'], false));
    expect(res.status).toBe(200);
    expect(parseXml(res.text).DeleteResult.Deleted.map((d: any) => d.Key)).toEqual(['dm/1', 'dm/a&b', 'dm/never']);
    expect((await oss(emu, { method: 'HEAD', key: 'dm/a&b' })).status).toBe(404);
  });

  it('quiet: empty 200 when all succeeded', async () => {
    await oss(emu, { method: 'PUT', key: 'dm/q', body: 'q' });
    const res = await post(deleteBody(['dm/q'], true));
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(0);
    expect((await oss(emu, { method: 'HEAD', key: 'dm/q' })).status).toBe(404);
  });

  it('requires a matching Content-MD5 → InvalidDigest', async () => {
    const body = deleteBody(['dm/x'], false);
    expect(errorOf(await post(body, {})).Code).toBe('InvalidDigest');
    expect(errorOf(await post(body, { 'content-md5': md5b64('other') })).Code).toBe('InvalidDigest');
  });

  it('MalformedXML for bad XML, no objects, more than 1000 keys or a body over 2 MB', async () => {
    const tooMany = deleteBody(
      Array.from({ length: 1001 }, (_, i) => `k${i}`),
      true,
    );
    const huge = deleteBody(['k'.repeat(1000)], true).replace('<Quiet>', ' '.repeat(2 * 1024 * 1024) + '<Quiet>');
    for (const body of [
      '<Delete><Object><Key>a</Key></Delete>',
      '<Delete><Quiet>true</Quiet></Delete>',
      '<Other/>',
      tooMany,
      huge,
    ]) {
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(errorOf(res).Code).toBe('MalformedXML');
    }
  });
});
