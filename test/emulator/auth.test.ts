/** Authentication failures over HTTP: bad signatures, skew, expired presigned URLs, STS, anonymous. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator, StsCredentials } from '../../local/emulator';
import { signRequestV4 } from '../../shared/oss/signer';
import { adminCall, defaultCredentials, errorOf, oss, rawRequest } from './helpers';
import { quietEmulator } from './setup';

let emu: Emulator;
beforeAll(async () => {
  emu = await quietEmulator({ buckets: ['livecycle-demo', 'public-bucket'], publicReadBuckets: ['public-bucket'] });
  await oss(emu, { method: 'PUT', key: 'obj.txt', body: 'private' });
  await oss(emu, { method: 'PUT', bucket: 'public-bucket', key: 'obj.txt', body: 'public' });
});
afterAll(() => emu.stop());

const wrongSecret = { accessKeyId: 'livecycle-local-id', accessKeySecret: 'not-the-secret' };

describe('header signatures', () => {
  for (const auth of ['v1', 'v4'] as const) {
    it(`${auth}: accepts a good signature, refuses a wrong secret with SignatureDoesNotMatch`, async () => {
      expect((await oss(emu, { method: 'GET', key: 'obj.txt', auth })).text).toBe('private');
      const res = await oss(emu, { method: 'GET', key: 'obj.txt', auth, credentials: wrongSecret });
      expect(res.status).toBe(403);
      const err = errorOf(res);
      expect(err).toMatchObject({ Code: 'SignatureDoesNotMatch', OSSAccessKeyId: 'livecycle-local-id' });
      expect(err.StringToSign).toBeTruthy();
      expect(res.text).not.toContain('livecycle-local-secret');
    });

    it(`${auth}: unknown access key → InvalidAccessKeyId`, async () => {
      const res = await oss(emu, {
        method: 'GET',
        key: 'obj.txt',
        auth,
        credentials: { accessKeyId: 'nobody', accessKeySecret: 'x' },
      });
      expect(res.status).toBe(403);
      expect(errorOf(res).Code).toBe('InvalidAccessKeyId');
    });

    it(`${auth}: more than 15 minutes of skew → RequestTimeTooSkewed`, async () => {
      for (const offset of [-16 * 60_000, 16 * 60_000]) {
        const res = await oss(emu, { method: 'GET', key: 'obj.txt', auth, nowMs: emu.clock.now() + offset });
        expect(res.status).toBe(403);
        expect(errorOf(res).Code).toBe('RequestTimeTooSkewed');
      }
      expect(
        (await oss(emu, { method: 'GET', key: 'obj.txt', auth, nowMs: emu.clock.now() - 14 * 60_000 })).status,
      ).toBe(200);
    });
  }

  it('V1 signs Content-MD5, and the body is checked against it', async () => {
    const md5 = 'kAFQmDzST7DWlj99KOF/cg=='; // MD5 of 'abc'
    expect(
      (await oss(emu, { method: 'PUT', key: 'x.txt', auth: 'v1', body: 'abc', headers: { 'content-md5': md5 } }))
        .status,
    ).toBe(200);
    const altered = await oss(emu, {
      method: 'PUT',
      key: 'x.txt',
      auth: 'v1',
      body: 'abd',
      headers: { 'content-md5': md5 },
    });
    expect(errorOf(altered).Code).toBe('InvalidDigest');
  });

  it('V4 refuses a signature scoped to another region and a malformed Authorization', async () => {
    const headers = signRequestV4(
      { method: 'GET', bucket: 'livecycle-demo', key: 'obj.txt' },
      defaultCredentials(emu),
      { region: 'cn-shanghai', nowMs: emu.clock.now() },
    );
    const otherRegion = await rawRequest(emu, 'GET', '/livecycle-demo/obj.txt', headers);
    expect(otherRegion.status).toBe(400);
    expect(errorOf(otherRegion).Message).toMatch(/region cn-shanghai/);
    const garbled = await rawRequest(emu, 'GET', '/livecycle-demo/obj.txt', {
      authorization: 'OSS4-HMAC-SHA256 Credential=nonsense',
      'x-oss-date': '20240501T120000Z',
    });
    expect(garbled.status).toBe(400);
    expect(errorOf(garbled).Code).toBe('InvalidArgument');
  });
});

describe('presigned URLs', () => {
  for (const auth of ['presign-v1', 'presign-v4'] as const) {
    it(`${auth}: valid until it expires on the emulator clock, then AccessDenied`, async () => {
      const signedAt = emu.clock.now();
      expect(
        (await oss(emu, { method: 'GET', key: 'obj.txt', auth, nowMs: signedAt, expiresInSeconds: 60 })).text,
      ).toBe('private');
      await emu.clock.advance(61_000);
      const res = await oss(emu, { method: 'GET', key: 'obj.txt', auth, nowMs: signedAt, expiresInSeconds: 60 });
      expect(res.status).toBe(403);
      expect(errorOf(res)).toMatchObject({ Code: 'AccessDenied', Message: 'Request has expired.' });
    });

    it(`${auth}: a tampered signature → SignatureDoesNotMatch`, async () => {
      const res = await oss(emu, { method: 'GET', key: 'obj.txt', auth, credentials: wrongSecret });
      expect(errorOf(res).Code).toBe('SignatureDoesNotMatch');
    });
  }
});

describe('STS', () => {
  it('minted credentials work with V4, V1 and presigned URLs until they expire', async () => {
    const sts = emu.mintSts({ ttlSeconds: 900 });
    expect(sts.accessKeyId.startsWith('STS.')).toBe(true);
    for (const auth of ['v4', 'v1', 'presign-v1', 'presign-v4'] as const) {
      expect((await oss(emu, { method: 'GET', key: 'obj.txt', auth, credentials: sts })).status).toBe(200);
    }
    await emu.clock.advance(901_000);
    const res = await oss(emu, { method: 'GET', key: 'obj.txt', credentials: sts });
    expect(res.status).toBe(403);
    expect(errorOf(res).Code).toBe('SecurityTokenExpired');
  });

  it('a forged or mismatched token → InvalidSecurityToken; STS key without token → InvalidAccessKeyId', async () => {
    const a = emu.mintSts({ ttlSeconds: 900 });
    const b = emu.mintSts({ ttlSeconds: 900 });
    const [claims = ''] = a.securityToken.split('.').slice(1);
    const forgedClaims = Buffer.from(`${a.accessKeyId}:${emu.clock.now() + 10 ** 9}`).toString('base64url');
    const cases = [
      { ...a, securityToken: a.securityToken.replace(claims, forgedClaims) },
      { ...a, securityToken: b.securityToken },
      { ...a, securityToken: 'token' },
    ];
    for (const credentials of cases)
      expect(errorOf(await oss(emu, { method: 'GET', key: 'obj.txt', credentials })).Code).toBe('InvalidSecurityToken');
    // Verified tokens are remembered: b's, once accepted, still does not sign for a's key.
    await oss(emu, { method: 'GET', key: 'obj.txt', credentials: b });
    expect(
      errorOf(await oss(emu, { method: 'GET', key: 'obj.txt', credentials: { ...a, securityToken: b.securityToken } }))
        .Code,
    ).toBe('InvalidSecurityToken');
    const noToken = await oss(emu, {
      method: 'GET',
      key: 'obj.txt',
      credentials: { accessKeyId: a.accessKeyId, accessKeySecret: a.accessKeySecret },
    });
    expect(errorOf(noToken).Code).toBe('InvalidAccessKeyId');
  });

  it('mints through the admin API too', async () => {
    const creds = (await adminCall(emu, 'POST', '/sts', { ttlSeconds: 60 })).json as StsCredentials;
    expect((await oss(emu, { method: 'GET', key: 'obj.txt', credentials: creds })).status).toBe(200);
  });
});

describe('anonymous requests', () => {
  it('are denied on a private bucket and for writes on a public-read bucket', async () => {
    const res = await oss(emu, { method: 'GET', key: 'obj.txt', auth: 'none' });
    expect(res.status).toBe(403);
    expect(errorOf(res).Code).toBe('AccessDenied');
    const write = await oss(emu, { method: 'PUT', bucket: 'public-bucket', key: 'w.txt', auth: 'none', body: 'x' });
    expect(errorOf(write).Code).toBe('AccessDenied');
  });

  it('may read a public-read bucket', async () => {
    expect((await oss(emu, { method: 'GET', bucket: 'public-bucket', key: 'obj.txt', auth: 'none' })).text).toBe(
      'public',
    );
  });
});
