/**
 * The emulator's own verifier (local/emulator/signature.ts, which imports nothing from the
 * client's signer) against every published signing vector (reference §11, §14,
 * signing-vectors.json), and V2 against requests signed by @alicloud/oss-util's V2 signer.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Authenticator } from '../../local/emulator/auth';
import { getSignatureV2 } from '@alicloud/oss-util/dist/signature';
import { verifyRtmpUrl } from '../../local/emulator/live/rtmp-url';
import { hmacSha1Base64, rtmpStringToSign } from '../../local/emulator/signature';
import { OssErrorResponse, type EmuContext, type EmuRequest } from '../../local/emulator/types';

const vectors = JSON.parse(readFileSync('/work/shared/reference/signing-vectors.json', 'utf8'));

/** Accepts key `ak` with secret `sk` whatever the token: the vectors use the literal token 'token'. */
const vectorKeys = {
  secret(accessKeyId: string): string {
    if (accessKeyId !== 'ak') throw new OssErrorResponse(403, 'InvalidAccessKeyId', 'unknown');
    return 'sk';
  },
};

function authenticator(nowMs: number, region = 'cn-hangzhou') {
  return new Authenticator(vectorKeys, { now: () => nowMs }, region);
}

function queryOf(text: string): Map<string, string> {
  const q = new Map<string, string>();
  for (const part of text.split('&').filter(Boolean)) {
    const eq = part.indexOf('=');
    q.set(eq < 0 ? part : part.slice(0, eq), eq < 0 ? '' : part.slice(eq + 1));
  }
  return q;
}

function request(
  v: { method: string; bucket: string; key: string | null; headers: Record<string, string> },
  query: Map<string, string>,
  extra: Record<string, string> = {},
): EmuRequest {
  const headers: Record<string, string> = {};
  for (const [k, val] of Object.entries({ ...v.headers, ...extra })) headers[k.toLowerCase()] = val;
  return {
    method: v.method,
    bucket: v.bucket,
    key: v.key ?? '',
    query,
    headers,
    body: Buffer.alloc(0),
    requestId: 'R',
    host: 'h',
    remoteAddr: '',
  };
}

function expectMismatch(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    expect((err as OssErrorResponse).code).toBe('SignatureDoesNotMatch');
    return;
  }
  throw new Error('expected SignatureDoesNotMatch');
}

describe('V1 header vectors', () => {
  for (const v of vectors.v1_header) {
    it(v.source, () => {
      const date = v.headers['x-oss-date'];
      const auth = authenticator(Date.parse(date));
      const req = request(v, queryOf(v.query), {
        Authorization: v.expected_authorization,
        Date: v.headers.Date ?? date,
      });
      expect(auth.authenticate(req)?.accessKeyId).toBe('ak');
      const tampered = request(v, queryOf(v.query), {
        Authorization: v.expected_authorization,
        Date: v.headers.Date ?? date,
        'x-oss-meta-extra': '1',
      });
      expectMismatch(() => auth.authenticate(tampered));
    });
  }
  for (const v of vectors.researcher_computed.v1) {
    it(`researcher: ${v.op}`, () => {
      const [method, , , date, ...rest] = v.string_to_sign.split('\n');
      const resource: string = rest[rest.length - 1];
      const m = /^\/([^/]+)\/([^?]*)(?:\?(.*))?$/.exec(resource)!;
      const headers: Record<string, string> = { Date: date, Authorization: v.authorization };
      for (const h of rest.slice(0, -1)) headers[h.slice(0, h.indexOf(':'))] = h.slice(h.indexOf(':') + 1);
      const req = request({ method, bucket: m[1]!, key: m[2]!, headers }, queryOf(m[3] ?? ''));
      expect(authenticator(Date.parse(date)).authenticate(req)?.accessKeyId).toBe('ak');
    });
  }
});

describe('V1 presigned URL vectors', () => {
  for (const v of vectors.v1_presigned_url) {
    it(v.source, () => {
      const url = new URL(v.expected_url);
      const query = new Map([...url.searchParams.entries()]);
      const req = request({ method: v.method, bucket: v.bucket, key: v.key, headers: {} }, query);
      expect(authenticator(v.expires * 1000 - 1000).authenticate(req)?.accessKeyId).toBe('ak');
      expect(() => authenticator(v.expires * 1000 + 1000).authenticate(req)).toThrow('Request has expired.');
      query.set(
        'Signature',
        v.expected_signature.replace(/^./, (c: string) => (c === 'A' ? 'B' : 'A')),
      );
      expectMismatch(() => authenticator(v.expires * 1000 - 1000).authenticate(req));
    });
  }
});

describe('V4 header vectors', () => {
  for (const v of vectors.v4_header) {
    it(v.source, () => {
      const now = v.sign_time_unix * 1000;
      const xOssDate = new Date(now).toISOString().replace(/[-:]/g, '').replace('.000', '');
      const req = request(v, new Map(Object.entries(v.query_params)), {
        'x-oss-date': xOssDate,
        Authorization: v.expected_authorization,
      });
      if (v.product !== 'oss') {
        // Cloud Box scopes are not this emulator's: refused before the signature is checked.
        expect(() => authenticator(now, v.region).authenticate(req)).toThrow(/product must be oss/);
        return;
      }
      expect(authenticator(now, v.region).authenticate(req)?.accessKeyId).toBe('ak');
      const tampered = request(v, new Map(Object.entries({ ...v.query_params, param1: 'other' })), {
        'x-oss-date': xOssDate,
        Authorization: v.expected_authorization,
      });
      expectMismatch(() => authenticator(now, v.region).authenticate(tampered));
    });
  }
  for (const v of vectors.researcher_computed.v4) {
    it(`researcher: ${v.op}`, () => {
      const [method, uri, query] = v.canonical_request.split('\n');
      const m = /^\/([^/]+)\/(.*)$/.exec(uri)!;
      const req = request(
        {
          method,
          bucket: m[1]!,
          key: decodeURIComponent(m[2]!),
          headers: {
            'x-oss-content-sha256': 'UNSIGNED-PAYLOAD',
            'x-oss-date': v.x_oss_date,
            Authorization: v.authorization,
          },
        },
        queryOf(query),
      );
      const now = Date.UTC(2016, 7, 25, 6, 22, 1);
      expect(authenticator(now).authenticate(req)?.accessKeyId).toBe('ak');
    });
  }
});

describe('V4 presigned URL vectors', () => {
  for (const v of vectors.v4_presigned_url) {
    it(v.source, () => {
      const query = new Map<string, string>(Object.entries(v.query_params));
      query.set('x-oss-signature-version', 'OSS4-HMAC-SHA256');
      query.set('x-oss-date', v.x_oss_date);
      query.set('x-oss-expires', v.x_oss_expires);
      query.set('x-oss-credential', `ak/${v.x_oss_date.slice(0, 8)}/${v.region}/oss/aliyun_v4_request`);
      if (v.security_token) query.set('x-oss-security-token', v.security_token);
      if (v.additional_headers?.length) query.set('x-oss-additional-headers', 'abc;zabc');
      query.set('x-oss-signature', v.expected_x_oss_signature);
      const req = request(v, query);
      const signed = v.sign_time_unix * 1000;
      expect(authenticator(signed + 1000).authenticate(req)?.accessKeyId).toBe('ak');
      expect(() => authenticator(signed + (Number(v.x_oss_expires) + 1) * 1000).authenticate(req)).toThrow(
        'Request has expired.',
      );
      query.set(
        'x-oss-signature',
        v.expected_x_oss_signature.replace(/^./, (c: string) => (c === 'a' ? 'b' : 'a')),
      );
      expectMismatch(() => authenticator(signed + 1000).authenticate(req));
    });
  }
});

describe('RTMP ingest URL vectors', () => {
  /** secretFor: key `ak` has secret `sk` (whatever token); the emulator clock just before `expires`. */
  const ctxAt = (expires: number) =>
    ({
      secretFor: (ak: string) => (ak === 'ak' ? 'sk' : undefined),
      clock: { now: () => expires * 1000 - 1000 },
    }) as unknown as EmuContext;

  for (const v of vectors.rtmp_signed_url) {
    it(v.source, () => {
      const params = new Map([['playlistName', v.playlistName]]);
      expect(rtmpStringToSign(String(v.expires), params, v.bucket, v.channel, false)).toBe(v.string_to_sign_derived);
      const url = `rtmp://${v.bucket}.oss-cn-hangzhou.aliyuncs.com${v.expected_url_path_and_query}`;
      expect(verifyRtmpUrl(url, v.bucket, v.channel, ctxAt(v.expires)).get('playlistName')).toBe(v.playlistName);
      const changed = url.replace('Signature=Y1', 'Signature=Y2');
      expect(() => verifyRtmpUrl(changed, v.bucket, v.channel, ctxAt(v.expires))).toThrow(
        expect.objectContaining({ code: 'SignatureDoesNotMatch' }),
      );
    });
  }
  for (const v of vectors.researcher_computed.rtmp) {
    it(`researcher: ${JSON.stringify(v.params)}`, () => {
      const params = new Map<string, string>(Object.entries(v.params));
      const withToken = params.has('security-token');
      expect(rtmpStringToSign(String(v.expires), params, v.bucket, v.channel, withToken)).toBe(v.string_to_sign);
      expect(hmacSha1Base64('sk', v.string_to_sign)).toBe(v.signature);
      // The verifier accepts the token inside or outside the string (reference §16 item 4).
      const query = new URLSearchParams({
        ...v.params,
        OSSAccessKeyId: 'ak',
        Expires: String(v.expires),
        Signature: v.signature,
      }).toString();
      const url = `rtmp://${v.bucket}.oss-cn-hangzhou.aliyuncs.com/live/${v.channel}?${query}`;
      expect(verifyRtmpUrl(url, v.bucket, v.channel, ctxAt(v.expires))).toBeInstanceOf(Map);
    });
  }
});

describe('V2 (OSS2) header signatures computed by @alicloud/oss-util', () => {
  const date = 'Wed, 28 Dec 2022 10:27:41 GMT';
  const cases: {
    label: string;
    method: string;
    key: string;
    query: Record<string, string>;
    headers: Record<string, string>;
    additional: string[];
  }[] = [
    {
      label: 'PUT object with Content-MD5, Content-Type and x-oss-meta',
      method: 'PUT',
      key: 'nelson',
      query: {},
      headers: {
        'content-md5': 'eB5eJF1ptWaXm4bijSPyxw==',
        'content-type': 'text/html',
        'x-oss-meta-author': 'alice',
        'x-oss-meta-magic': 'abracadabra',
      },
      additional: [],
    },
    {
      label: 'GET object with a sub-resource and a plain parameter (both signed in V2)',
      method: 'GET',
      key: 'dir/a.ts',
      query: { 'response-content-type': 'text/plain', foo: 'bar' },
      headers: {},
      additional: [],
    },
    {
      label: 'bucket-level GET with flags',
      method: 'GET',
      key: '',
      query: { live: '', 'max-keys': '10', prefix: 'ab' },
      headers: {},
      additional: [],
    },
    {
      label: 'AdditionalHeaders host;user-agent and an STS token',
      method: 'GET',
      key: 'k',
      query: {},
      headers: {
        host: 'examplebucket.oss-cn-hangzhou.aliyuncs.com',
        'user-agent': 'sdk',
        'x-oss-security-token': 'token',
      },
      additional: ['host', 'user-agent'],
    },
  ];
  for (const c of cases) {
    it(c.label, () => {
      const headers: Record<string, string> = { date, ...c.headers };
      const sdkQuery = Object.fromEntries(Object.entries(c.query).map(([k, v]) => [k, v === '' ? undefined : v]));
      const sdkRequest = { method: c.method, pathname: `/${c.key}`, query: sdkQuery, headers } as unknown as Parameters<
        typeof getSignatureV2
      >[0];
      const { signature } = getSignatureV2(sdkRequest, 'examplebucket', 'sk', c.additional);
      const additional = c.additional.length ? `AdditionalHeaders:${c.additional.join(';')},` : '';
      const authorization = `OSS2 AccessKeyId:ak,${additional}Signature:${signature}`;
      const req = request(
        {
          method: c.method,
          bucket: 'examplebucket',
          key: c.key,
          headers: { ...headers, Authorization: authorization },
        },
        new Map(Object.entries(c.query)),
      );
      expect(authenticator(Date.parse(date)).authenticate(req)).toMatchObject({
        accessKeyId: 'ak',
        securityToken: c.headers['x-oss-security-token'],
      });
      // Java's format (", " separators) parses too.
      req.headers['authorization'] = authorization.replace(/,/g, ', ');
      expect(authenticator(Date.parse(date)).authenticate(req)?.accessKeyId).toBe('ak');
      const tampered = request(
        {
          method: c.method,
          bucket: 'examplebucket',
          key: c.key,
          headers: { ...headers, Authorization: authorization },
        },
        new Map([...Object.entries(c.query), ['extra', '1']]),
      );
      expectMismatch(() => authenticator(Date.parse(date)).authenticate(tampered));
    });
  }
});
