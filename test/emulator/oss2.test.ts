/**
 * V2 (`OSS2 …`) signatures, the default of the @alicloud/oss-client SDK (issue #12): that SDK,
 * pointed at the emulator over real HTTP, must work unchanged; its V2 canonicaliser
 * (@alicloud/oss-util getSignatureV2) pins the emulator's presigned V2 verification; one changed
 * byte anywhere gives 403 SignatureDoesNotMatch.
 */
import { Readable } from 'node:stream';
import OssClient, * as $oss from '@alicloud/oss-client';
import { RuntimeOptions } from '@alicloud/oss-util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../local/emulator';
import { defaultCredentials, errorOf, presignV2, rawRequest } from './helpers';
import { quietEmulator } from './setup';

const BUCKET = 'livecycle-demo';
let emu: Emulator;
beforeAll(async () => {
  // The SDK signs with the real time; run the emulator clock at real time too.
  emu = await quietEmulator({ clock: undefined });
});
afterAll(() => emu.stop());

function client(opts: { secret?: string; sts?: boolean; addtionalHeaders?: readonly string[] } = {}): OssClient {
  const creds = opts.sts
    ? emu.mintSts({ ttlSeconds: 900 })
    : { accessKeyId: emu.accessKeys[0]!.id, accessKeySecret: opts.secret ?? emu.accessKeys[0]!.secret };
  return new OssClient(
    new $oss.Config({
      accessKeyId: creds.accessKeyId,
      accessKeySecret: creds.accessKeySecret,
      ...('securityToken' in creds ? { securityToken: creds.securityToken, type: 'sts' } : {}),
      // hostModel 'ip': path-style requests to the endpoint as given (no DNS for <bucket>.localhost).
      endpoint: new URL(emu.url).host,
      hostModel: 'ip',
      protocol: 'http',
      regionId: emu.region,
      // The SDK compares x-oss-hash-crc64ecma with its own CRC-64 of what it sent and received.
      isEnableCrc: true,
      ...(opts.addtionalHeaders && { addtionalHeaders: [...opts.addtionalHeaders] }),
    }),
  );
}

const runtime = () => new RuntimeOptions({ autoretry: false });

async function put(c: OssClient, key: string, text: string, meta: Record<string, string> = {}) {
  return c.putObject(
    new $oss.PutObjectRequest({
      bucketName: BUCKET,
      objectName: key,
      body: Readable.from([Buffer.from(text)]),
      userMeta: meta,
    }),
    runtime(),
  );
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

describe('@alicloud/oss-client (V2 header signatures, its default)', () => {
  for (const [label, opts] of [
    ['static key', {}],
    ['STS', { sts: true }],
    ['AdditionalHeaders user-agent', { addtionalHeaders: ['user-agent'] }],
  ] as const) {
    it(`${label}: put, head, get`, async () => {
      const c = client(opts);
      const key = `oss2/${label.replace(/\W+/g, '-')}.txt`;
      const putRes = await put(c, key, 'hello oss2', { who: 'oss2' });
      expect(putRes.hashCrc64ecma).toMatch(/^\d+$/);
      const head = await c.headObject(new $oss.HeadObjectRequest({ bucketName: BUCKET, objectName: key }), runtime());
      expect(head.userMeta?.who ?? (head as unknown as Record<string, unknown>)['userMeta']).toBeTruthy();
      const got = await c.getObject(new $oss.GetObjectRequest({ bucketName: BUCKET, objectName: key }), runtime());
      expect(await readAll(got.body as Readable)).toBe('hello oss2');
    });
  }

  it('a wrong secret is refused with SignatureDoesNotMatch', async () => {
    await expect(put(client({ secret: 'not-the-secret-not-the-secret' }), 'oss2/wrong.txt', 'x')).rejects.toMatchObject(
      { code: 'SignatureDoesNotMatch' },
    );
  });
});

describe('V2 presigned URLs', () => {
  beforeAll(async () => {
    await put(client(), 'oss2/presigned.txt', 'presigned oss2');
  });
  const inAMinute = () => Math.floor(Date.now() / 1000) + 60;

  it('a URL signed by the SDK canonicaliser GETs the object (with a sub-resource and a plain parameter)', async () => {
    const res = await rawRequest(
      emu,
      'GET',
      presignV2(BUCKET, 'oss2/presigned.txt', inAMinute(), defaultCredentials(emu), {
        'response-content-type': 'text/plain',
        foo: 'bar',
      }),
      {},
    );
    expect(res.status).toBe(200);
    expect(res.text).toBe('presigned oss2');
    expect(res.headers['content-type']).toBe('text/plain');
  });

  it('one changed byte, a wrong secret or an added parameter → 403 SignatureDoesNotMatch; past x-oss-expires → AccessDenied', async () => {
    const good = presignV2(BUCKET, 'oss2/presigned.txt', inAMinute(), defaultCredentials(emu));
    const tampered = [
      good.replace('oss2/presigned.txt', 'oss2/presigneD.txt'),
      presignV2(BUCKET, 'oss2/presigned.txt', inAMinute(), {
        ...defaultCredentials(emu),
        accessKeySecret: 'other-secret-other-secret',
      }),
      // Every query parameter is signed in V2, not only sub-resources.
      `${good}&foo=bar`,
    ];
    for (const target of tampered) {
      const res = await rawRequest(emu, 'GET', target, {});
      expect(res.status).toBe(403);
      expect(errorOf(res).Code).toBe('SignatureDoesNotMatch');
    }
    const old = await rawRequest(
      emu,
      'GET',
      presignV2(BUCKET, 'oss2/presigned.txt', Math.floor(Date.now() / 1000) - 5, defaultCredentials(emu)),
      {},
    );
    expect(old.status).toBe(403);
    expect(errorOf(old).Code).toBe('AccessDenied');
  });

  it('with STS credentials (security-token signed as a parameter)', async () => {
    const sts = emu.mintSts({ ttlSeconds: 900 });
    const target = presignV2(BUCKET, 'oss2/presigned.txt', inAMinute(), sts);
    expect((await rawRequest(emu, 'GET', target, {})).text).toBe('presigned oss2');
  });
});
