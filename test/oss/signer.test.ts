import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import vectors from './fixtures/signing-vectors.json';
import {
  AuthorizationFormatError,
  encodeKeyPath,
  encodeQuery,
  ossPercentEncode,
  parseV4Authorization,
  presignV1,
  presignV4,
  rtmpSignature,
  rtmpStringToSign,
  signaturesEqual,
  signRequestV1,
  signRequestV4,
  signRtmpUrl,
  v1Signature,
  v1StringToSign,
  v4CanonicalRequest,
  v4Signature,
  v4SigningKey,
  v4StringToSign,
  type SignableRequest,
} from '../../shared/oss/signer';

/** `a&b=c` → { a: '', b: 'c' } (decoded), as a server would see it. */
function parseQuery(query: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of query.split('&').filter(Boolean)) {
    const eq = part.indexOf('=');
    const k = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
    out[k] = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
  }
  return out;
}

function urlParts(url: string): { base: string; query: Record<string, string> } {
  const q = url.indexOf('?');
  return { base: url.slice(0, q), query: parseQuery(url.slice(q + 1)) };
}

const creds = (v: { access_key_id: string; access_key_secret: string; security_token?: string }) => ({
  accessKeyId: v.access_key_id,
  accessKeySecret: v.access_key_secret,
  securityToken: v.security_token,
});

describe('V1 header signature (published vectors)', () => {
  for (const v of vectors.v1_header) {
    it(v.source, () => {
      const req: SignableRequest = {
        method: v.method,
        bucket: v.bucket,
        key: v.key ?? '',
        query: parseQuery(v.query),
        headers: v.headers as Record<string, string>,
      };
      // Sign at the vector's own date so signRequestV1 produces the same Date header.
      const nowMs = Date.parse(v.headers['x-oss-date']);
      const signed = signRequestV1(req, creds(v), nowMs);
      expect(v1StringToSign({ ...req, headers: signed })).toBe(v.expected_string_to_sign);
      expect(signed['authorization']).toBe(v.expected_authorization);
      expect(signed['date']).toBe(v.headers['x-oss-date']);
    });
  }
});

describe('V1 presigned URL (published vectors)', () => {
  for (const v of vectors.v1_presigned_url) {
    it(v.source, () => {
      const { base, query } = urlParts(v.request_url);
      const key = decodeURIComponent(base.slice(base.lastIndexOf('/') + 1));
      const req: SignableRequest = { method: v.method, bucket: v.bucket, key, query };
      const withToken = v.security_token ? { ...query, 'security-token': v.security_token } : query;
      expect(v1StringToSign({ ...req, query: withToken }, String(v.expires))).toBe(v.string_to_sign_derived);
      const signedQuery = presignV1(req, creds(v), v.expires);
      expect(signedQuery['Signature']).toBe(v.expected_signature);
      const url = `http://${v.bucket}.oss-cn-hangzhou.aliyuncs.com/${encodeKeyPath(key)}?${encodeQuery(signedQuery)}`;
      expect(url).toBe(v.expected_url);
    });
  }
});

const V4_BASE_URL = 'http://bucket.oss-cn-hangzhou.aliyuncs.com/';

describe('V4 header signature (published vectors)', () => {
  for (const v of vectors.v4_header) {
    it(v.source, () => {
      const req: SignableRequest = {
        method: v.method,
        bucket: v.bucket,
        key: v.key,
        query: v.query_params,
        headers: v.headers as Record<string, string>,
      };
      const signed = signRequestV4(req, creds(v), {
        region: v.region,
        product: v.product,
        nowMs: v.sign_time_unix * 1000,
        additionalHeaders: 'additional_headers' in v ? v.additional_headers : undefined,
      });
      expect(signed['authorization']).toBe(v.expected_authorization);
      if ('x_oss_date' in v) expect(signed['x-oss-date']).toBe(v.x_oss_date);
      if ('derived_canonical_request' in v) {
        const canonical = v4CanonicalRequest({ ...req, headers: signed });
        expect(canonical).toBe(v.derived_canonical_request);
        expect(v4StringToSign(canonical, signed['x-oss-date']!, v.region)).toBe(v.derived_string_to_sign);
      }
    });
  }

  it('drops default-signed and absent names from AdditionalHeaders (vector note)', () => {
    const v = vectors.v4_header[2]!;
    const req: SignableRequest = {
      method: v.method,
      bucket: v.bucket,
      key: v.key,
      query: v.query_params,
      headers: v.headers as Record<string, string>,
    };
    const signed = signRequestV4(req, creds(v), {
      region: v.region,
      nowMs: v.sign_time_unix * 1000,
      additionalHeaders: ['x-oss-no-exist', 'ZAbc', 'x-oss-head1', 'abc'],
    });
    expect(signed['authorization']).toBe(v.expected_authorization);
  });
});

describe('V4 presigned URL (published vectors)', () => {
  for (const v of vectors.v4_presigned_url) {
    it(v.source, () => {
      const req: SignableRequest = {
        method: v.method,
        bucket: v.bucket,
        key: v.key,
        query: v.query_params,
        headers: v.headers as Record<string, string>,
      };
      const query = presignV4(req, creds(v), {
        region: v.region,
        nowMs: v.sign_time_unix * 1000,
        expiresInSeconds: Number(v.x_oss_expires),
        additionalHeaders: 'additional_headers' in v ? v.additional_headers : undefined,
      });
      expect(query['x-oss-signature']).toBe(v.expected_x_oss_signature);
      expect(query['x-oss-date']).toBe(v.x_oss_date);
      if ('x_oss_additional_headers' in v) expect(query['x-oss-additional-headers']).toBe(v.x_oss_additional_headers);
      if ('derived_canonical_request' in v) {
        const { ['x-oss-signature']: _sig, ...signedPart } = query;
        expect(v4CanonicalRequest({ ...req, query: signedPart })).toBe(v.derived_canonical_request);
      }
      // Same parameters as the Go SDK's URL (its order and its %2F in the path differ; both are accepted).
      expect(urlParts(`${V4_BASE_URL}x?${encodeQuery(query)}`).query).toEqual(urlParts(v.expected_url_go_v1).query);
    });
  }
});

describe('RTMP ingest URL', () => {
  for (const v of vectors.rtmp_signed_url) {
    it(v.source, () => {
      const input = {
        bucket: v.bucket,
        channel: v.channel,
        expires: v.expires,
        params: { playlistName: v.playlistName },
      };
      expect(rtmpStringToSign(input)).toBe(v.string_to_sign_derived);
      expect(rtmpSignature(v.access_key_secret, v.string_to_sign_derived)).toBe(v.expected_signature);
      const url = signRtmpUrl(`rtmp://${v.bucket}.oss-cn-hangzhou.aliyuncs.com`, input, creds(v));
      expect(url).toBe(`rtmp://${v.bucket}.oss-cn-hangzhou.aliyuncs.com${v.expected_url_path_and_query}`);
    });
  }

  for (const v of vectors.researcher_computed.rtmp) {
    const includesToken = 'security-token' in v.params;
    it(`researcher: ${JSON.stringify(v.params)}`, () => {
      const input = {
        bucket: v.bucket,
        channel: v.channel,
        expires: v.expires,
        params: v.params as Record<string, string>,
      };
      expect(rtmpStringToSign(input, { includeSecurityToken: includesToken })).toBe(v.string_to_sign);
      expect(rtmpSignature('sk', v.string_to_sign)).toBe(v.signature);
    });
  }

  it('leaves security-token out of the signed string by default but puts it in the URL', () => {
    const url = signRtmpUrl(
      'rtmp://test-bucket.oss-cn-hangzhou.aliyuncs.com',
      {
        bucket: 'test-bucket',
        channel: 'test-channel',
        expires: 1706289617,
        params: { playlistName: 'playlist.m3u8' },
      },
      { accessKeyId: 'ak', accessKeySecret: 'sk', securityToken: 'token' },
    );
    const { base, query } = urlParts(url);
    expect(base).toBe('rtmp://test-bucket.oss-cn-hangzhou.aliyuncs.com/live/test-channel');
    expect(query).toEqual({
      Expires: '1706289617',
      OSSAccessKeyId: 'ak',
      Signature: 'g7zpVcH5qEboQxnlHAwmHMwvR+0=',
      'security-token': 'token',
      playlistName: 'playlist.m3u8',
    });
    // A verifier recomputes from the received parameters, auth parameters included.
    expect(
      rtmpSignature(
        'sk',
        rtmpStringToSign({ bucket: 'test-bucket', channel: 'test-channel', expires: 1706289617, params: query }),
      ),
    ).toBe(query.Signature);
  });
});

/** The researcher's LiveChannel requests, as structured requests. */
const LIVE_OPS: Record<string, Omit<SignableRequest, 'headers'>> = {
  GetLiveChannelStat: { method: 'GET', bucket: 'test-bucket', key: 'test-channel', query: { live: '', comp: 'stat' } },
  PutLiveChannelStatus: {
    method: 'PUT',
    bucket: 'test-bucket',
    key: 'test-channel',
    query: { live: '', status: 'disabled' },
  },
  ListLiveChannel: {
    method: 'GET',
    bucket: 'test-bucket',
    key: '',
    query: { live: '', 'max-keys': '1', prefix: 'abc' },
  },
  PostVodPlaylist: {
    method: 'POST',
    bucket: 'test-bucket',
    key: 'test-channel/vod.m3u8',
    query: { vod: '', endTime: '1472020226', startTime: '1472020031' },
  },
  GetVodPlaylist: {
    method: 'GET',
    bucket: 'test-bucket',
    key: 'test-channel',
    query: { vod: '', endTime: '1472020226', startTime: '1472020031' },
  },
};

function liveOp(label: string): Omit<SignableRequest, 'headers'> {
  const name = label.split(' ')[0]!;
  const op = LIVE_OPS[name];
  if (!op) throw new Error(`no request for ${label}`);
  return op;
}

describe('researcher-computed LiveChannel signatures', () => {
  for (const v of vectors.researcher_computed.v1) {
    it(`V1 ${v.op}`, () => {
      const token = v.op.includes('STS') ? 'token' : undefined;
      const signed = signRequestV1(
        liveOp(v.op),
        { accessKeyId: v.ak, accessKeySecret: v.sk, securityToken: token },
        Date.parse('Thu, 25 Aug 2016 06:22:01 GMT'),
      );
      expect(v1StringToSign({ ...liveOp(v.op), headers: signed })).toBe(v.string_to_sign);
      expect(signed['authorization']).toBe(v.authorization);
      expect(v1Signature(v.sk, v.string_to_sign)).toBe(v.authorization.split(':')[1]);
    });
  }

  for (const v of vectors.researcher_computed.v4) {
    it(`V4 ${v.op}`, () => {
      const nowMs = Date.parse('2016-08-25T06:22:01Z');
      const signed = signRequestV4(
        liveOp(v.op),
        { accessKeyId: v.ak, accessKeySecret: v.sk },
        { region: v.region, nowMs },
      );
      expect(signed['x-oss-date']).toBe(v.x_oss_date);
      const canonical = v4CanonicalRequest({ ...liveOp(v.op), headers: signed });
      expect(canonical).toBe(v.canonical_request);
      if ('string_to_sign' in v) expect(v4StringToSign(canonical, v.x_oss_date, v.region)).toBe(v.string_to_sign);
      expect(signed['authorization']).toBe(v.authorization);
    });
  }
});

describe('parseV4Authorization', () => {
  const sig = 'e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe';
  it('parses the compact SDK form', () => {
    expect(
      parseV4Authorization(
        `OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,AdditionalHeaders=abc;zabc,Signature=${sig}`,
      ),
    ).toEqual({
      accessKeyId: 'ak',
      date8: '20231216',
      region: 'cn-hangzhou',
      product: 'oss',
      additionalHeaders: ['abc', 'zabc'],
      signature: sig,
    });
  });

  it('parses the Python form (spaces, AdditionalHeaders last) and no AdditionalHeaders', () => {
    const parsed = parseV4Authorization(
      `OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request, Signature=${sig}, AdditionalHeaders=abc`,
    );
    expect(parsed.additionalHeaders).toEqual(['abc']);
    expect(parsed.signature).toBe(sig);
    expect(
      parseV4Authorization(
        `  OSS4-HMAC-SHA256   Signature=${sig} ,Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request `,
      ).additionalHeaders,
    ).toEqual([]);
  });

  it.each([
    ['OSS ak:abc'],
    [`OSS4-HMAC-SHA256 Signature=${sig}`],
    ['OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,Signature=xyz'],
    [`OSS4-HMAC-SHA256 Credential=ak/2023121/cn-hangzhou/oss/aliyun_v4_request,Signature=${sig}`],
    [`OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/other,Signature=${sig}`],
    [`OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,Signature=${sig},Signature=${sig}`],
    [`OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,junk,Signature=${sig}`],
  ])('rejects %s', (header) => {
    expect(() => parseV4Authorization(header)).toThrow(AuthorizationFormatError);
  });

  it('lets a verifier recompute a signature from what it received', () => {
    const req: SignableRequest = {
      method: 'GET',
      bucket: 'b',
      key: "odd key (1)!*'.ts",
      query: { 'list-type': '2', prefix: 'a/b c' },
      headers: { Host: 'b.example' },
    };
    const headers = signRequestV4(
      req,
      { accessKeyId: 'id', accessKeySecret: 'secret', securityToken: 'tok' },
      { region: 'cn-hangzhou', nowMs: 1_700_000_000_000, additionalHeaders: ['host'] },
    );
    const auth = parseV4Authorization(headers['authorization']!);
    expect(auth.additionalHeaders).toEqual(['host']);
    const sts = v4StringToSign(
      v4CanonicalRequest({ ...req, headers }, auth.additionalHeaders),
      headers['x-oss-date']!,
      auth.region,
      auth.product,
    );
    expect(signaturesEqual(v4Signature('secret', sts, auth.region, auth.product), auth.signature)).toBe(true);
    expect(signaturesEqual(v4Signature('other', sts, auth.region, auth.product), auth.signature)).toBe(false);
    expect(headers['x-oss-security-token']).toBe('tok');
  });
});

describe('percent-encoding', () => {
  it("encodes !'()* and keeps only unreserved characters", () => {
    expect(ossPercentEncode("a!'()*~-._ b+/")).toBe('a%21%27%28%29%2A~-._%20b%2B%2F');
    expect(encodeKeyPath('dir/ä b+.ts')).toBe('dir/%C3%A4%20b%2B.ts');
  });

  it('sorts by encoded key and writes bare flags', () => {
    expect(encodeQuery({ vod: '', startTime: '1', endTime: '2' })).toBe('endTime=2&startTime=1&vod');
    expect(
      encodeQuery(
        new Map([
          ['prefix', 'a/b'],
          ['list-type', '2'],
        ]),
      ),
    ).toBe('list-type=2&prefix=a%2Fb');
  });
});

describe('fast paths keep the slow paths’ results', () => {
  it('orders names by UTF-8 bytes where UTF-16 order differs (U+FF01 before U+1F600)', () => {
    const input = { bucket: 'b', channel: 'c', expires: 1, params: { '\u{1F600}': '2', '\uFF01': '1', a: '0' } };
    expect(rtmpStringToSign(input)).toBe('1\na:0\n\uFF01:1\n\u{1F600}:2\n/b/c');
  });

  it('derives a fresh signing key when the secret, day, region or product changes', () => {
    const req: SignableRequest = { method: 'GET', bucket: 'b', key: 'k' };
    const sign = (secret: string, nowMs: number, region = 'cn-hangzhou', product?: string) => {
      const headers = signRequestV4(req, { accessKeyId: 'id', accessKeySecret: secret }, { region, nowMs, product });
      const sts = v4StringToSign(v4CanonicalRequest({ ...req, headers }), headers['x-oss-date']!, region, product);
      // Recomputed through the exported derivation, never the cache.
      const expected = createHmac('sha256', v4SigningKey(secret, headers['x-oss-date']!.slice(0, 8), region, product))
        .update(sts)
        .digest('hex');
      expect(parseV4Authorization(headers['authorization']!).signature).toBe(expected);
      return expected;
    };
    const day = Date.UTC(2024, 4, 1, 23, 59, 59);
    const base = sign('s1', day);
    expect(sign('s1', day)).toBe(base);
    expect(
      new Set([
        base,
        sign('s2', day),
        sign('s1', day + 1000),
        sign('s1', day, 'cn-beijing'),
        sign('s1', day, 'cn-hangzhou', 'oss-cloudbox'),
      ]).size,
    ).toBe(5);
  });

  it('formats dates per second, whatever the milliseconds', () => {
    const a = signRequestV4(
      { method: 'GET' },
      { accessKeyId: 'id', accessKeySecret: 's' },
      { region: 'cn-hangzhou', nowMs: Date.UTC(2024, 0, 2, 3, 4, 5, 1) },
    );
    const b = signRequestV4(
      { method: 'GET' },
      { accessKeyId: 'id', accessKeySecret: 's' },
      { region: 'cn-hangzhou', nowMs: Date.UTC(2024, 0, 2, 3, 4, 5, 999) },
    );
    const c = signRequestV4(
      { method: 'GET' },
      { accessKeyId: 'id', accessKeySecret: 's' },
      { region: 'cn-hangzhou', nowMs: Date.UTC(2024, 0, 2, 3, 4, 6) },
    );
    expect([a['x-oss-date'], a['date']]).toEqual(['20240102T030405Z', 'Tue, 02 Jan 2024 03:04:05 GMT']);
    expect(b).toEqual(a);
    expect([c['x-oss-date'], c['date']]).toEqual(['20240102T030406Z', 'Tue, 02 Jan 2024 03:04:06 GMT']);
  });
});
