/**
 * Reliability: authentication. The api through the real `functions/api` handler (missing,
 * malformed, wrong, expired, replayed signatures; wrong tokens; no fallback; no side effect),
 * constant-time comparison checked by observing `crypto.timingSafeEqual` (not by timing), and
 * the emulator's checks the emulator suites do not already cover: signatures moved to another
 * key / method / bucket, presigned URLs under expired STS tokens or out-of-range expiry, RTMP
 * URLs signed with real minted STS credentials (expired or forged token), and the publish URL
 * the api hands out expiring on the emulator clock.
 */
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequestV1, signRequestV4, encodeKeyPath, signRtmpUrl } from '../../shared/oss/signer';
import { errorOf, oss, rawRequest } from '../emulator/helpers';
import {
  ACCESS_KEY,
  API_SECRET,
  API_SECRET_OLD,
  API_TOKEN,
  BUCKET,
  api,
  apiEvent,
  startCapture,
  startStack,
  type ApiResponse,
  type Stack,
} from './harness';

const require_ = createRequire(import.meta.url);
const cryptoCjs = require_('node:crypto') as typeof import('node:crypto');

/** Counts calls of crypto.timingSafeEqual made by any module (ESM named imports included) while `fn` runs. */
async function countTimingSafeEqual<T>(fn: () => Promise<T>): Promise<{ result: T; calls: number }> {
  const original = cryptoCjs.timingSafeEqual;
  let calls = 0;
  cryptoCjs.timingSafeEqual = ((a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
    calls++;
    return original(a, b);
  }) as typeof original;
  syncBuiltinESMExports();
  try {
    return { result: await fn(), calls };
  } finally {
    cryptoCjs.timingSafeEqual = original;
    syncBuiltinESMExports();
  }
}

let stack: Stack;
let capture: ReturnType<typeof startCapture>;
const counts: Record<string, number> = {};
const tally = (k: string) => (counts[k] = (counts[k] ?? 0) + 1);

beforeAll(async () => {
  capture = startCapture();
  stack = await startStack({ webhooks: false });
});
afterAll(async () => {
  await stack.stop();
  capture.stop();
  console.log(`[reliability/auth] cases tried by kind: ${JSON.stringify(counts)}`);
});

const now = () => stack.clock.now();
const create = (name: string) => ({ method: 'POST', path: '/channels', body: { name } });

async function send(event: Buffer): Promise<{ status: number; code?: string }> {
  const res = (await stack.invoke('api', event)) as ApiResponse;
  const body = JSON.parse(res.body) as { error?: { code?: string } };
  return { status: res.statusCode, code: body.error?.code };
}

async function channelNames(): Promise<string[]> {
  return (await stack.oss.listLiveChannels({})).channels.map((c) => c.name);
}

describe('api (functions/api handler): every unauthenticated request is refused before any work', () => {
  it('refuses missing, malformed, wrong, expired and replayed signatures and bad tokens with the documented 401 code', async () => {
    const call = create('auth-probe');
    const body = JSON.stringify(call.body);
    const good = () => apiEvent(call, { secret: API_SECRET, nowMs: now() });
    const withHeaders = (headers: Record<string, string>) => apiEvent({ ...call, headers }, { none: true });
    const signedHeaders = (
      opts: {
        secret?: string;
        nowMs?: number;
        path?: string;
        body?: string;
        method?: string;
        query?: Record<string, string>;
      } = {},
    ) => {
      const h = JSON.parse(
        apiEvent(
          { method: opts.method ?? 'POST', path: opts.path ?? '/channels', body: opts.body ?? body, query: opts.query },
          { secret: opts.secret ?? API_SECRET, nowMs: opts.nowMs ?? now() },
        ).toString(),
      ).headers as Record<string, string>;
      return h;
    };
    const sig = signedHeaders();
    const cases: { name: string; event: Buffer; code: string }[] = [
      { name: 'no credentials at all', event: apiEvent(call, { none: true }), code: 'missing_credentials' },
      {
        name: 'timestamp without signature',
        event: withHeaders({ 'X-Livecycle-Timestamp': sig['X-Livecycle-Timestamp']! }),
        code: 'malformed_signature',
      },
      {
        name: 'signature without timestamp',
        event: withHeaders({ 'X-Livecycle-Signature': sig['X-Livecycle-Signature']! }),
        code: 'malformed_signature',
      },
      {
        name: 'timestamp not digits',
        event: withHeaders({ ...sig, 'X-Livecycle-Timestamp': `${sig['X-Livecycle-Timestamp']}.0` }),
        code: 'malformed_signature',
      },
      {
        name: 'timestamp in ms (13 digits)',
        event: withHeaders({ ...signedHeaders(), 'X-Livecycle-Timestamp': String(now()) }),
        code: 'malformed_signature',
      },
      {
        name: 'signature not v1=hex',
        event: withHeaders({ ...sig, 'X-Livecycle-Signature': sig['X-Livecycle-Signature']!.replace('v1=', 'v2=') }),
        code: 'malformed_signature',
      },
      {
        name: 'signature truncated',
        event: withHeaders({ ...sig, 'X-Livecycle-Signature': sig['X-Livecycle-Signature']!.slice(0, -2) }),
        code: 'malformed_signature',
      },
      {
        name: 'signature base64 instead of hex',
        event: withHeaders({
          ...sig,
          'X-Livecycle-Signature': `v1=${Buffer.from(sig['X-Livecycle-Signature']!.slice(3), 'hex').toString('base64')}`,
        }),
        code: 'malformed_signature',
      },
      {
        name: 'wrong secret',
        event: withHeaders(signedHeaders({ secret: 'not-the-api-secret-at-all-000' })),
        code: 'bad_signature',
      },
      {
        name: 'one bit flipped',
        event: withHeaders({
          ...sig,
          'X-Livecycle-Signature': sig['X-Livecycle-Signature']!.replace(/.$/, (c) => (c === '0' ? '1' : '0')),
        }),
        code: 'bad_signature',
      },
      {
        name: 'signed for another body',
        event: withHeaders(signedHeaders({ body: JSON.stringify({ name: 'other' }) })),
        code: 'bad_signature',
      },
      {
        name: 'signed for another path',
        event: withHeaders(signedHeaders({ path: '/channels/x' })),
        code: 'bad_signature',
      },
      {
        name: 'signed for another method',
        event: withHeaders(signedHeaders({ method: 'PUT' })),
        code: 'bad_signature',
      },
      {
        name: 'signed with a query the request lacks',
        event: withHeaders(signedHeaders({ query: { limit: '5' } })),
        code: 'bad_signature',
      },
      {
        name: 'expired: 301 s old',
        event: withHeaders(signedHeaders({ nowMs: now() - 301_000 })),
        code: 'expired_timestamp',
      },
      {
        name: 'expired: 301 s in the future',
        event: withHeaders(signedHeaders({ nowMs: now() + 301_000 })),
        code: 'expired_timestamp',
      },
      {
        name: 'expired: a day old',
        event: withHeaders(signedHeaders({ nowMs: now() - 86_400_000 })),
        code: 'expired_timestamp',
      },
      {
        name: 'bad signature plus a valid token (no fallback)',
        event: withHeaders({
          ...signedHeaders({ secret: 'not-the-api-secret-at-all-000' }),
          Authorization: `Bearer ${API_TOKEN}`,
        }),
        code: 'bad_signature',
      },
      {
        name: 'half a signature plus a valid token (no fallback)',
        event: withHeaders({
          'X-Livecycle-Timestamp': String(Math.floor(now() / 1000)),
          Authorization: `Bearer ${API_TOKEN}`,
        }),
        code: 'malformed_signature',
      },
      {
        name: 'wrong token',
        event: withHeaders({ Authorization: 'Bearer not-the-token-0123456789' }),
        code: 'bad_token',
      },
      {
        name: 'token prefix',
        event: withHeaders({ Authorization: `Bearer ${API_TOKEN.slice(0, -1)}` }),
        code: 'bad_token',
      },
      {
        name: 'token plus a character',
        event: withHeaders({ Authorization: `Bearer ${API_TOKEN}x` }),
        code: 'bad_token',
      },
      {
        name: 'token differs in case',
        event: withHeaders({ Authorization: `Bearer ${API_TOKEN.toLowerCase()}` }),
        code: 'bad_token',
      },
      {
        name: 'the api secret sent as a token',
        event: withHeaders({ Authorization: `Bearer ${API_SECRET}` }),
        code: 'bad_token',
      },
      {
        name: 'Basic scheme',
        event: withHeaders({ Authorization: `Basic ${Buffer.from(`u:${API_TOKEN}`).toString('base64')}` }),
        code: 'malformed_token',
      },
      { name: 'bearer without token', event: withHeaders({ Authorization: 'Bearer ' }), code: 'malformed_token' },
      {
        name: 'token with a space inside',
        event: withHeaders({ Authorization: `Bearer ${API_TOKEN} x` }),
        code: 'malformed_token',
      },
    ];
    const outcomes: string[] = [];
    for (const c of cases) {
      const r = await send(c.event);
      tally('api-refusal');
      outcomes.push(`${c.name}: ${r.status} ${r.code}`);
      expect.soft(r, c.name).toEqual({ status: 401, code: c.code });
    }
    // Nothing any refused request asked for happened.
    expect(await channelNames()).toEqual([]);

    // The genuine request goes through once; its replay is refused and changes nothing.
    const first = good();
    expect(await send(first)).toEqual({ status: 201, code: undefined });
    expect(await send(first)).toEqual({ status: 401, code: 'replayed' });
    tally('api-replay');
    // The old secret still works during rotation; at exactly 300 s skew a request is accepted.
    expect(
      (await send(apiEvent({ method: 'GET', path: '/channels/auth-probe' }, { secret: API_SECRET_OLD, nowMs: now() })))
        .status,
    ).toBe(200);
    expect(
      (await send(apiEvent({ method: 'GET', path: '/channels', query: { limit: '5' } }, { nowMs: now() - 300_000 })))
        .status,
    ).toBe(200);
    expect(
      (await send(apiEvent({ method: 'GET', path: '/channels', query: { limit: '6' } }, { token: API_TOKEN }))).status,
    ).toBe(200);
    console.log(
      `[reliability/auth] api refusal cases: ${cases.length}, all 401 with the documented code; accepted controls: 4; replay refused: 1`,
    );
  });

  it('a signed DELETE replayed later, even after the clock moves inside the window, is refused', async () => {
    await api(stack, create('replay-target'));
    const del = apiEvent({ method: 'DELETE', path: '/channels/replay-target' }, { nowMs: now() });
    expect((await send(del)).status).toBe(200);
    await api(stack, create('replay-target'));
    await stack.clock.advance(120_000);
    expect(await send(del)).toEqual({ status: 401, code: 'replayed' });
    expect(await channelNames()).toContain('replay-target');
    await stack.clock.advance(200_000);
    // Out of the window the replay is refused as expired instead; still nothing deleted.
    expect(await send(del)).toEqual({ status: 401, code: 'expired_timestamp' });
    expect(await channelNames()).toContain('replay-target');
    tally('api-replay');
  });

  it('signatures and tokens are compared with crypto.timingSafeEqual (observed, not timed)', async () => {
    const badSig = apiEvent(create('tse'), { secret: 'not-the-api-secret-at-all-000', nowMs: now() });
    const sigRun = await countTimingSafeEqual(() => send(badSig));
    expect(sigRun.result.code).toBe('bad_signature');
    // One comparison per configured secret (two: rotation), every one compared.
    expect(sigRun.calls).toBeGreaterThanOrEqual(2);
    const badToken = apiEvent(create('tse'), { token: 'not-the-token-0123456789' });
    const tokenRun = await countTimingSafeEqual(() => send(badToken));
    expect(tokenRun.result.code).toBe('bad_token');
    expect(tokenRun.calls).toBeGreaterThanOrEqual(1);
    // The emulator's verifier too.
    const emuRun = await countTimingSafeEqual(() =>
      oss(stack.emu, {
        method: 'GET',
        key: 'x',
        credentials: { accessKeyId: ACCESS_KEY.id, accessKeySecret: 'wrong-secret-wrong-secret' },
      }),
    );
    expect(emuRun.result.status).toBe(403);
    expect(emuRun.calls).toBeGreaterThanOrEqual(1);
    tally('timing-safe');
    console.log(
      `[reliability/auth] timingSafeEqual calls: api signature ${sigRun.calls}, api token ${tokenRun.calls}, emulator V4 ${emuRun.calls}`,
    );
  });
});

describe('emulator: what the emulator suites do not already cover', () => {
  beforeAll(async () => {
    await oss(stack.emu, { method: 'PUT', key: 'a.txt', body: 'a' });
    await oss(stack.emu, { method: 'PUT', key: 'b.txt', body: 'b' });
  });

  it('a header signature moved to another key, method or sub-resource → SignatureDoesNotMatch (V1 and V4)', async () => {
    const creds = { accessKeyId: ACCESS_KEY.id, accessKeySecret: ACCESS_KEY.secret };
    const signable = { method: 'GET', bucket: BUCKET, key: 'a.txt', query: {}, headers: {} };
    const v4 = signRequestV4(signable, creds, { region: stack.emu.region, nowMs: now() });
    const v1 = signRequestV1(signable, creds, now());
    let tried = 0;
    for (const headers of [v4, v1]) {
      expect((await rawRequest(stack.emu, 'GET', `/${BUCKET}/${encodeKeyPath('a.txt')}`, headers)).status).toBe(200);
      for (const [method, target] of [
        ['GET', `/${BUCKET}/b.txt`],
        ['DELETE', `/${BUCKET}/a.txt`],
        ['GET', `/${BUCKET}/a.txt?acl`],
        ['PUT', `/${BUCKET}/a.txt`],
      ] as const) {
        const res = await rawRequest(
          stack.emu,
          method,
          target,
          { ...headers, 'content-length': method === 'PUT' ? '1' : '0' },
          method === 'PUT' ? Buffer.from('x') : undefined,
        );
        tried++;
        expect.soft(res.status, `${method} ${target}`).toBeGreaterThanOrEqual(400);
        if (res.status === 403) expect.soft(errorOf(res).Code, `${method} ${target}`).toBe('SignatureDoesNotMatch');
      }
    }
    expect((await oss(stack.emu, { method: 'GET', key: 'a.txt' })).text).toBe('a');
    tally('emulator-moved-signature');
    console.log(`[reliability/auth] emulator moved signatures: ${tried} tried, all refused; a.txt intact`);
  });

  it('presigned URLs made with STS credentials stop working when the token expires, even inside Expires', async () => {
    const sts = stack.emu.mintSts({ ttlSeconds: 60 });
    for (const auth of ['presign-v1', 'presign-v4'] as const) {
      expect(
        (await oss(stack.emu, { method: 'GET', key: 'a.txt', auth, credentials: sts, expiresInSeconds: 3600 })).status,
      ).toBe(200);
    }
    const nowMs = now();
    await stack.clock.advance(61_000);
    for (const auth of ['presign-v1', 'presign-v4'] as const) {
      const res = await oss(stack.emu, {
        method: 'GET',
        key: 'a.txt',
        auth,
        credentials: sts,
        expiresInSeconds: 3600,
        nowMs,
      });
      expect.soft(res.status, auth).toBe(403);
      expect.soft(errorOf(res).Code, auth).toBe('SecurityTokenExpired');
    }
    tally('emulator-sts-presign');
  });

  it('V4 presigned URLs with x-oss-expires out of 1..604800 are refused', async () => {
    for (const expiresInSeconds of [0, 604_801]) {
      const res = await oss(stack.emu, { method: 'GET', key: 'a.txt', auth: 'presign-v4', expiresInSeconds });
      expect.soft(res.status, String(expiresInSeconds)).toBeGreaterThanOrEqual(400);
      expect.soft(res.status, String(expiresInSeconds)).toBeLessThan(500);
      tally('emulator-presign-range');
    }
  });

  it('RTMP URLs signed with minted STS credentials: refused once the token expired or when the token is forged', async () => {
    const channel = 'rtmp-sts';
    await stack.oss.putLiveChannel(channel, {
      status: 'enabled',
      target: { fragDuration: 2, fragCount: 3, playlistName: 'playlist.m3u8' },
    });
    const origin = `rtmp://${BUCKET}.${stack.emu.endpoint}`;
    const sign = (
      creds: { accessKeyId: string; accessKeySecret: string; securityToken?: string },
      expiresInS: number,
    ) => signRtmpUrl(origin, { bucket: BUCKET, channel, expires: Math.floor(now() / 1000) + expiresInS }, creds);
    const refused = async (signedUrl: string) => {
      try {
        await stack.emu.ingest.start({ bucket: BUCKET, channel, signedUrl });
      } catch (err) {
        return (err as { status?: number; code?: string }).code ?? String((err as { status?: number }).status);
      }
      await stack.emu.ingest.stop({ bucket: BUCKET, channel });
      return 'accepted';
    };
    const sts = stack.emu.mintSts({ ttlSeconds: 60 });
    const creds = {
      accessKeyId: sts.accessKeyId,
      accessKeySecret: sts.accessKeySecret,
      securityToken: sts.securityToken,
    };
    expect(await refused(sign(creds, 3600))).toBe('accepted');
    const forged = sign(creds, 3600).replace(
      /security-token=([^&]+)/,
      (_m, t: string) => `security-token=${t.slice(0, -4)}AAAA`,
    );
    const forgedResult = await refused(forged);
    expect(forgedResult).not.toBe('accepted');
    const other = stack.emu.mintSts({ ttlSeconds: 60 });
    expect(await refused(sign({ ...creds, securityToken: other.securityToken }, 3600))).not.toBe('accepted');
    const late = sign(creds, 3600);
    await stack.clock.advance(61_000);
    const lateResult = await refused(late);
    expect(lateResult).not.toBe('accepted');
    tally('emulator-rtmp-sts');
    console.log(`[reliability/auth] RTMP with STS: forged token → ${forgedResult}, expired token → ${lateResult}`);
  });

  it('the publish URL the api hands out works on the emulator until PUBLISH_URL_TTL passes, then is refused', async () => {
    const created = await api(stack, create('publish-ttl'));
    expect(created.status).toBe(201);
    const res = await api(stack, {
      method: 'POST',
      path: '/channels/publish-ttl/publish-url',
      body: { expiresInSeconds: 120 },
    });
    expect(res.status).toBe(200);
    const url = res.json.publishUrl as string;
    expect(url).toMatch(/^rtmp:\/\//);
    await stack.emu.ingest.start({ bucket: BUCKET, channel: 'publish-ttl', signedUrl: url });
    await stack.emu.ingest.stop({ bucket: BUCKET, channel: 'publish-ttl' });
    await stack.clock.advance(121_000);
    await expect(
      stack.emu.ingest.start({ bucket: BUCKET, channel: 'publish-ttl', signedUrl: url }),
    ).rejects.toMatchObject({ status: 403 });
    const tampered = url.replace('/live/publish-ttl', '/live/auth-probe');
    await expect(
      stack.emu.ingest.start({ bucket: BUCKET, channel: 'auth-probe', signedUrl: tampered }),
    ).rejects.toBeTruthy();
    tally('api-publish-url');
  });
});
