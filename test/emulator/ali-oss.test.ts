/** A third-party SDK (ali-oss) pointed at the emulator must not notice it is not OSS. */
import OSS from 'ali-oss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../local/emulator';
import { errorOf, rawRequest } from './helpers';
import { quietEmulator } from './setup';

let emu: Emulator;
beforeAll(async () => {
  // ali-oss signs with the real time; run the emulator clock at real time too.
  emu = await quietEmulator({ clock: undefined });
});
afterAll(() => emu.stop());

function client(opts: { authorizationV4?: boolean; sts?: boolean } = {}) {
  const creds = opts.sts
    ? emu.mintSts({ ttlSeconds: 900 })
    : { accessKeyId: emu.accessKeys[0]!.id, accessKeySecret: emu.accessKeys[0]!.secret };
  return new OSS({
    // An IP endpoint makes ali-oss use path-style addressing.
    endpoint: emu.url,
    region: `oss-${emu.region}`,
    bucket: 'livecycle-demo',
    accessKeyId: creds.accessKeyId,
    accessKeySecret: creds.accessKeySecret,
    ...('securityToken' in creds ? { stsToken: creds.securityToken } : {}),
    authorizationV4: opts.authorizationV4 ?? false,
    secure: false,
    timeout: 10_000,
  });
}

for (const [label, opts] of [
  ['V1', {}],
  ['V4', { authorizationV4: true }],
  ['STS V1', { sts: true }],
  ['STS V4', { sts: true, authorizationV4: true }],
] as const) {
  describe(`ali-oss (${label})`, () => {
    const prefix = `ali/${label.replace(' ', '-')}/`;

    it('put, head, get with range, list, deleteMulti', async () => {
      const c = client(opts);
      const put = await c.put(`${prefix}a b.txt`, Buffer.from('hello ali-oss'), {
        headers: { 'x-oss-meta-who': 'sdk' },
      });
      expect(put.res.status).toBe(200);
      await c.put(`${prefix}dir/1.ts`, Buffer.from('1'));
      await c.put(`${prefix}dir/2.ts`, Buffer.from('2'));

      const head = await c.head(`${prefix}a b.txt`);
      expect(head.status).toBe(200);
      expect((head.meta as Record<string, string>).who).toBe('sdk');

      const got = await c.get(`${prefix}a b.txt`);
      expect(got.content.toString()).toBe('hello ali-oss');
      const part = await c.get(`${prefix}a b.txt`, { headers: { Range: 'bytes=0-4' } });
      expect(part.res.status).toBe(206);
      expect(part.content.toString()).toBe('hello');

      const v2 = await c.listV2({ prefix, delimiter: '/', 'max-keys': '10' }, {});
      expect(v2.objects.map((o: { name: string }) => o.name)).toEqual([`${prefix}a b.txt`]);
      expect(v2.prefixes).toEqual([`${prefix}dir/`]);
      const v1 = await c.list({ prefix, 'max-keys': 2 }, {});
      expect(v1.objects.map((o: { name: string }) => o.name)).toEqual([`${prefix}a b.txt`, `${prefix}dir/1.ts`]);
      expect(v1.isTruncated).toBe(true);

      const del = await c.deleteMulti([`${prefix}a b.txt`, `${prefix}dir/1.ts`, `${prefix}never`], { quiet: false });
      expect(del.deleted.map((d: { Key: string }) => d.Key).sort()).toEqual([
        `${prefix}a b.txt`,
        `${prefix}dir/1.ts`,
        `${prefix}never`,
      ]);
      const after = await c.listV2({ prefix }, {});
      expect(after.objects.map((o: { name: string }) => o.name)).toEqual([`${prefix}dir/2.ts`]);
    });

    it('surfaces OSS errors by code', async () => {
      await expect(client(opts).get(`${prefix}missing`)).rejects.toMatchObject({ code: 'NoSuchKey', status: 404 });
    });
  });
}

it('ali-oss presigned URLs (virtual-hosted, as ali-oss builds them for a named endpoint) work', async () => {
  await client().put('ali/signed.txt', Buffer.from('signed'));
  // ali-oss refuses to presign for an IP endpoint; give it a host name and deliver the request
  // to the emulator with that Host header (the first label is the bucket).
  const named = (secret: string) =>
    new OSS({
      endpoint: `http://localhost:${new URL(emu.url).port}`,
      bucket: 'livecycle-demo',
      accessKeyId: emu.accessKeys[0]!.id,
      accessKeySecret: secret,
      secure: false,
    });
  const fetchSigned = (url: string) => {
    const u = new URL(url);
    return rawRequest(emu, 'GET', u.pathname + u.search, { host: u.host });
  };
  const url = named(emu.accessKeys[0]!.secret).signatureUrl('ali/signed.txt', { expires: 60 });
  expect(new URL(url).host).toBe(`livecycle-demo.localhost:${new URL(emu.url).port}`);
  expect((await fetchSigned(url)).text).toBe('signed');
  expect((await fetchSigned(named('wrong').signatureUrl('ali/signed.txt', { expires: 60 }))).status).toBe(403);
});

describe('ali-oss presigned URLs, V1 and V4, static and STS keys (issue #17: the emulator verifies on its own)', () => {
  const port = () => new URL(emu.url).port;
  const named = (creds: { accessKeyId: string; accessKeySecret: string; securityToken?: string }) =>
    new OSS({
      endpoint: `http://localhost:${port()}`,
      region: `oss-${emu.region}`,
      bucket: 'livecycle-demo',
      accessKeyId: creds.accessKeyId,
      accessKeySecret: creds.accessKeySecret,
      ...(creds.securityToken && { stsToken: creds.securityToken }),
      secure: false,
    });
  const fetchSigned = (url: string) => {
    const u = new URL(url);
    return rawRequest(emu, 'GET', u.pathname + u.search, { host: u.host });
  };
  const staticKey = () => ({ accessKeyId: emu.accessKeys[0]!.id, accessKeySecret: emu.accessKeys[0]!.secret });
  const sign = {
    V1: (c: ReturnType<typeof named>) =>
      Promise.resolve(c.signatureUrl('ali/presigned-both.txt', { expires: 60 }) as string),
    V4: (c: ReturnType<typeof named>) => c.signatureUrlV4('GET', 60, {}, 'ali/presigned-both.txt') as Promise<string>,
  };

  beforeAll(async () => {
    await client().put('ali/presigned-both.txt', Buffer.from('both'));
  });

  for (const version of ['V1', 'V4'] as const) {
    for (const kind of ['static', 'STS'] as const) {
      it(`${version} ${kind}: accepted; one changed signature byte or a wrong secret → SignatureDoesNotMatch`, async () => {
        const creds = kind === 'STS' ? emu.mintSts({ ttlSeconds: 900 }) : staticKey();
        const url = await sign[version](named(creds));
        expect((await fetchSigned(url)).text).toBe('both');

        const u = new URL(url);
        const param = version === 'V1' ? 'Signature' : 'x-oss-signature';
        const signature = u.searchParams.get(param)!;
        u.searchParams.set(param, (signature[0] === 'a' ? 'b' : 'a') + signature.slice(1));
        const changed = await fetchSigned(u.toString());
        expect([changed.status, errorOf(changed).Code]).toEqual([403, 'SignatureDoesNotMatch']);

        const wrong = await fetchSigned(
          await sign[version](named({ ...creds, accessKeySecret: `${creds.accessKeySecret}x` })),
        );
        expect([wrong.status, errorOf(wrong).Code]).toEqual([403, 'SignatureDoesNotMatch']);
      });
    }
  }
});
