/**
 * Reliability: bad input into every trigger, through the real function handlers against the real
 * emulator. fast-check generates the events (fixed seeds); each event is one invocation with an
 * FC-shaped context. Outcomes: no crash, no unhandled rejection, api answers < 500 (4xx for
 * anything malformed), event handlers resolve and log what they ignored. Plus hostile XML from a
 * misbehaving "OSS" (DOCTYPE/ENTITY bodies) into the OSS client and into a whole function.
 */
import fc from 'fast-check';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OssClient } from '../../shared/oss';
import {
  API_TOKEN,
  BUCKET,
  api,
  startCapture,
  startStack,
  timerEvent,
  watchProcessProblems,
  type ApiResponse,
  type FunctionName,
  type Stack,
} from './harness';

/**
 * Events per trigger (the issue asks for ≥ 10,000 per trigger type): 10,000 each for api and
 * on-snapshot, 2,500 per timer function (10,000 timer events). Timer functions decode their event
 * first and acknowledge anything that is not a timer event, `{}` or their own async payload
 * without running a job; the valid ones each run a full operation (5-20 ms on 2 cores).
 * RELIABILITY_EVENTS=n runs n for every trigger.
 */
const OVERRIDE = process.env.RELIABILITY_EVENTS ? Number(process.env.RELIABILITY_EVENTS) : undefined;
const N_CHEAP = OVERRIDE ?? 10_000;
const N_TIMER = OVERRIDE ?? 2_500;
const CONCURRENCY = 8;

const problems = watchProcessProblems();
let stack: Stack;
let capture: ReturnType<typeof startCapture>;

beforeAll(async () => {
  capture = startCapture();
  stack = await startStack({ sts: false, env: { LOG_LEVEL: 'warn', DRY_RUN: 'true' } });
  // A little state so targeted payloads can hit existing names.
  for (const name of ['cam-1', 'cam-2'])
    expect((await api(stack, { method: 'POST', path: '/channels', body: { name } })).status).toBe(201);
});
afterAll(async () => {
  await stack.stop();
  capture.stop();
});

// ---------------------------------------------------------------------------------------------
// Generators.

const hostileName = fc.oneof(
  fc.constantFrom(
    'cam-1',
    '../cam-1',
    '..',
    '.',
    '%2F',
    'cam-1%2F..%2F_livecycle',
    '_livecycle',
    '_livecycle/poll/x',
    'cam-1/../../etc/passwd',
    'a/b',
    '\\',
    '\u0000',
    'ü',
    '😀',
    '\u202e',
    ' ',
    '',
  ),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  // Arbitrary code points incl. lone surrogates (fc.string unit 'binary' costs 2 s to build).
  fc
    .array(fc.integer({ min: 0, max: 0x10ffff }), { maxLength: 20 })
    .map((cps) =>
      cps.map((c) => (c >= 0xd800 && c <= 0xdfff ? String.fromCharCode(c) : String.fromCodePoint(c))).join(''),
    ),
  fc.string({ minLength: 1000, maxLength: 5000 }),
);
const anyJson = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  hostileName,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(hostileName, { maxLength: 3 }),
);
const bucketish = fc.oneof(
  fc.constant(BUCKET),
  fc.constantFrom('other-bucket', 'LIVECYCLE-DEMO', '../livecycle-demo', `${BUCKET}%2F`, ''),
  hostileName,
);
const timeish = fc.oneof(
  fc.constantFrom(
    '2024-05-01T12:00:00Z',
    '2024-02-30T00:00:00Z',
    'yesterday',
    '',
    '9999-12-31T23:59:59Z',
    '0000-01-01T00:00:00Z',
  ),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  anyJson,
);
const garbageBytes = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  fc.string({ unit: 'grapheme', maxLength: 300 }).map((s) => Buffer.from(s)),
  fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
  fc
    .constantFrom(
      '',
      'null',
      '[]',
      '{}',
      '"x"',
      '{"',
      '\u0000',
      '{"__proto__":{"polluted":1}}',
      '{"constructor":{"prototype":{"polluted":1}}}',
    )
    .map((s) => Buffer.from(s)),
  // Huge: past on-snapshot's 256 KiB limit and FC-sized; rare so 10,000 events stay cheap.
  fc
    .integer({ min: 0, max: 99 })
    .chain((n) =>
      n === 0
        ? fc
            .integer({ min: 260_000, max: 400_000 })
            .map((len) => Buffer.from(JSON.stringify({ payload: 'x'.repeat(len) })))
        : fc.constant(Buffer.from(JSON.stringify({ payload: 'y'.repeat(n * 100) }))),
    ),
);
const safeEncode = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return s; // lone surrogates: sent raw
  }
};
const base64 = (s: string) => Buffer.from(s).toString('base64');

const snapshotBody = fc
  .oneof(
    fc.record(
      {
        event: fc.constantFrom('LiveChannelSnapshot', 'livechannelsnapshot', ''),
        bucket: bucketish,
        channel: hostileName,
        destBucket: bucketish,
        object: hostileName,
        time: timeish,
      },
      { requiredKeys: [] },
    ),
    fc.record({
      events: fc.oneof(
        fc.array(
          fc.record(
            {
              eventTime: timeish,
              oss: fc.oneof(
                anyJson,
                fc.record({
                  bucket: fc.record({ name: bucketish }),
                  object: fc.record({
                    key: fc.oneof(
                      hostileName,
                      hostileName.map((c) => `${c}/1714564800000.jpg`),
                    ),
                  }),
                }),
              ),
            },
            { requiredKeys: [] },
          ),
          { maxLength: 4 },
        ),
        anyJson,
        fc.constant(
          Array.from({ length: 500 }, () => ({ oss: { bucket: { name: BUCKET }, object: { key: 'cam-1/x.jpg' } } })),
        ),
      ),
    }),
    anyJson,
  )
  .map((b) => JSON.stringify(b) ?? 'null');
const mnsEvent = fc.oneof(
  // JSON-format MNS envelope, body plain or base64.
  fc
    .record({
      body: fc.oneof(
        snapshotBody,
        snapshotBody.map(base64),
        fc.string({ maxLength: 100 }),
        fc.string({ maxLength: 100 }).map(base64),
      ),
      messageId: fc.oneof(fc.stringMatching(/^[0-9A-F]{32}$/), anyJson),
      publishTime: fc.oneof(fc.integer(), anyJson),
      extra: fc.dictionary(fc.string({ maxLength: 10 }), anyJson, { maxKeys: 3 }),
    })
    .map(({ body, messageId, publishTime, extra }) =>
      Buffer.from(
        JSON.stringify({
          ...extra,
          TopicOwner: '1234567890123456',
          Message: body,
          Subscriber: '1234567890123456',
          PublishTime: publishTime,
          SigningCertURL: 'https://mns.cn-hangzhou.aliyuncs.com/x.pem',
          TopicName: 'snapshots',
          MessageMD5: 'x',
          MessageId: messageId,
        }),
      ),
    ),
  // STREAM format: the raw body, or {body, attrs}.
  snapshotBody.map((b) => Buffer.from(b)),
  fc
    .record({
      body: fc.oneof(snapshotBody, snapshotBody.map(base64), anyJson),
      attrs: fc.oneof(fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })), anyJson),
    })
    .map((o) => Buffer.from(JSON.stringify(o))),
  garbageBytes,
);
const timerish = fc.oneof(
  fc
    .record(
      {
        triggerTime: timeish,
        triggerName: fc.oneof(hostileName, anyJson),
        payload: fc.oneof(
          hostileName,
          anyJson,
          garbageBytes.map((b) => b.toString('latin1').slice(0, 2000)),
        ),
      },
      { requiredKeys: [] },
    )
    .map((o) => Buffer.from(JSON.stringify(o))),
  fc.string({ maxLength: 200 }).map((p) => timerEvent('hostile-timer', Date.UTC(2024, 4, 1), p)),
  garbageBytes,
);
/** Near-valid targeted payloads: poll-stat shards, generate-vod targets. */
const targeted = fc
  .oneof(
    fc.record(
      {
        bucket: bucketish,
        marker: fc.oneof(hostileName, anyJson),
        limit: fc.oneof(fc.integer({ min: -5, max: 5000 }), anyJson),
      },
      { requiredKeys: [] },
    ),
    fc.record(
      { bucket: bucketish, channel: hostileName, broadcastId: fc.oneof(hostileName, anyJson) },
      { requiredKeys: [] },
    ),
  )
  .map((o) => Buffer.from(JSON.stringify(o)));

// ---------------------------------------------------------------------------------------------
// Driver.

interface RunSummary {
  tried: number;
  resolved: number;
  rejected: { event: string; error: string }[];
  outcomes: Map<string, number>;
}

async function drive(fn: FunctionName, events: Buffer[], classify: (result: unknown) => string): Promise<RunSummary> {
  const summary: RunSummary = { tried: 0, resolved: 0, rejected: [], outcomes: new Map() };
  let next = 0;
  const worker = async () => {
    while (next < events.length) {
      const event = events[next++]!;
      summary.tried++;
      try {
        const result = await stack.invoke(fn, event, { requestId: `bad-${fn}-${summary.tried}` });
        summary.resolved++;
        const kind = classify(result);
        summary.outcomes.set(kind, (summary.outcomes.get(kind) ?? 0) + 1);
      } catch (err) {
        summary.rejected.push({
          event: event.toString('utf8').slice(0, 200),
          error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
        });
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return summary;
}

function report(name: string, s: RunSummary) {
  console.log(
    `[reliability/bad-input] ${name}: ${s.tried} events, ${s.resolved} resolved, ${s.rejected.length} rejected; outcomes ${JSON.stringify(Object.fromEntries(s.outcomes))}; generated in ${generationMs} ms; unhandled rejections so far ${problems.unhandledRejections.length}`,
  );
}

let generationMs = 0;
const sample = <T>(arb: fc.Arbitrary<T>, seed: number, n: number) => {
  const t = performance.now();
  const out = fc.sample(arb, { numRuns: n, seed });
  generationMs = Math.round(performance.now() - t);
  return out;
};

describe(`bad input: ${N_CHEAP} (api, on-snapshot) / ${N_TIMER} (timers) generated events per trigger, through the real handlers`, () => {
  it('on-snapshot (MNS JSON/STREAM envelopes, base64, garbage): every delivery resolves with a logged verdict', async () => {
    const events = sample(mnsEvent, 801, N_CHEAP);
    const s = await drive('on-snapshot', events, (r) => {
      const res = r as { recorded: number; duplicates: number; skipped: string[] };
      return res.recorded > 0
        ? 'recorded'
        : res.duplicates > 0
          ? 'duplicate'
          : res.skipped.length > 0
            ? 'skipped'
            : 'empty';
    });
    report('on-snapshot', s);
    expect(s.rejected.slice(0, 5)).toEqual([]);
    expect(s.resolved).toBe(N_CHEAP);
    expect(problems.unhandledRejections).toEqual([]);
    // Skipped messages are logged (a warn line carrying the invocation's request id).
    const warned = new Set(
      capture
        .lines()
        .filter((l) => l.includes('"requestId":"bad-on-snapshot-') && l.includes('skipped'))
        .map((l) => /"requestId":"([^"]+)"/.exec(l)?.[1]),
    );
    expect(warned.size).toBeGreaterThanOrEqual(s.outcomes.get('skipped') ?? 0);
    // Nothing outside the ledger's snapshot records was written by a hostile name.
    const keys: string[] = [];
    for await (const o of stack.oss.iterateObjects({ prefix: '' })) keys.push(o.key);
    const stray = keys.filter((k) => !k.startsWith('_livecycle/'));
    expect(stray).toEqual([]);
    for (const k of keys) expect(k.split('/')).not.toContain('..');
  }, 300_000);

  for (const fn of ['poll-stat', 'disable-idle', 'generate-vod', 'cleanup-orphans'] as const) {
    it(`${fn} (timer events with garbage payloads, garbage bytes, near-valid targeted payloads): every invocation resolves`, async () => {
      const events = sample(
        fc.oneof({ weight: 3, arbitrary: timerish }, { weight: 1, arbitrary: targeted }),
        900 + fn.length,
        N_TIMER,
      );
      const s = await drive(fn, events, (r) => {
        const res = (r ?? {}) as Record<string, unknown>;
        if (res.ignored) return 'ignored';
        if (Array.isArray(res.buckets))
          return res.buckets.length
            ? `buckets:${(res.buckets as { status?: string }[]).map((b) => b.status ?? 'polled').join(',')}`
            : 'no-bucket';
        if (Array.isArray(res.vods)) return `vods:${res.vods.length}`;
        if (Array.isArray(res.disabled)) return `disabled:${res.disabled.length}`;
        return 'other';
      });
      report(fn, s);
      expect(s.rejected.slice(0, 5)).toEqual([]);
      expect(s.resolved).toBe(N_TIMER);
      expect(problems.unhandledRejections).toEqual([]);
      if (s.outcomes.get('ignored')) {
        const ignoredLogged = capture
          .lines()
          .filter((l) => l.includes(`"requestId":"bad-${fn}-`) && l.includes('unrecognised payload')).length;
        expect(ignoredLogged).toBeGreaterThanOrEqual(s.outcomes.get('ignored')!);
      }
      // The managed channels are untouched by hostile names (nothing disabled or deleted: the clock is frozen).
      const channels = (await stack.oss.listLiveChannels({})).channels;
      expect(channels.map((c) => [c.name, c.status])).toEqual([
        ['cam-1', 'enabled'],
        ['cam-2', 'enabled'],
      ]);
    }, 300_000);
  }

  it('api (FC HTTP events through functions/api, authenticated so they reach routing): never a 5xx, never a throw', async () => {
    const path = fc.oneof(
      fc
        .array(
          fc.oneof(
            fc.constantFrom(
              'channels',
              'vods',
              'hold',
              'vod',
              'enable',
              'disable',
              'publish-url',
              'cleanup',
              'report',
              'cam-1',
            ),
            hostileName.map(safeEncode),
            hostileName,
          ),
          { maxLength: 5 },
        )
        .map((p) => '/' + p.join('/')),
      fc.constantFrom(
        '/channels/..%2F_livecycle',
        '/channels/%2e%2e/enable',
        '/channels/cam-1%2F..%2Fcam-2',
        '/channels/%',
        '/channels/%E0%A4%A',
        '/../../etc/passwd',
        '//channels',
        '/channels/cam-1/vods/..%2F..%2Fx/hold',
      ),
    );
    const bodyArb = fc.oneof(
      fc
        .dictionary(
          fc.constantFrom(
            'name',
            'description',
            'fragDuration',
            'fragCount',
            'playlistName',
            'snapshot',
            'replace',
            'force',
            'start',
            'end',
            'reason',
            'expiresInSeconds',
            '__proto__',
          ),
          anyJson,
          { maxKeys: 5 },
        )
        .map((o) => JSON.stringify(o)),
      garbageBytes.map((b) => b.toString('utf8')),
    );
    const eventArb = fc
      .record({
        method: fc.oneof(
          fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS'),
          fc.string({ maxLength: 10 }),
        ),
        rawPath: path,
        body: bodyArb,
        base64: fc.boolean(),
        query: fc.dictionary(
          fc.oneof(fc.constantFrom('limit', 'cursor', 'force'), fc.string({ maxLength: 6 })),
          fc.oneof(fc.constantFrom('0', '1', '1001', 'true'), hostileName),
          { maxKeys: 3 },
        ),
        shape: fc.constantFrom('fc', 'fc', 'fc', 'fc', 'wrong-types', 'garbage'),
      })
      .map((e) => {
        if (e.shape === 'garbage') return Buffer.from(e.body);
        const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${API_TOKEN}` };
        const ev: Record<string, unknown> = {
          version: 'v1',
          rawPath: e.rawPath,
          headers,
          queryParameters: e.query,
          body: e.base64 ? Buffer.from(e.body).toString('base64') : e.body,
          isBase64Encoded: e.base64,
          requestContext: {
            requestId: 'x',
            http: { method: e.method, path: e.rawPath, protocol: 'HTTP/1.1', sourceIp: '203.0.113.1' },
          },
        };
        if (e.shape === 'wrong-types') {
          ev.headers = [headers];
          ev.rawPath = 42;
          ev.isBase64Encoded = 'yes';
        }
        return Buffer.from(JSON.stringify(ev));
      });
    const events = sample(eventArb, 4242, N_CHEAP);
    const s = await drive('api', events, (r) => {
      const res = r as ApiResponse;
      return `${Math.floor(res.statusCode / 100)}xx`;
    });
    report('api', s);
    expect(s.rejected.slice(0, 5)).toEqual([]);
    expect(s.outcomes.get('5xx') ?? 0).toBe(0);
    expect(problems.unhandledRejections).toEqual([]);
    // No hostile path reached the ledger or another folder.
    for await (const o of stack.oss.iterateObjects({ prefix: '' })) expect(o.key.split('/')).not.toContain('..');
  }, 300_000);
});

// ---------------------------------------------------------------------------------------------
// Hostile XML from a misbehaving OSS endpoint.

const LAUGHS = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>`;
const XXE = `<?xml version="1.0"?>\n<!DOCTYPE r [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>`;
const bodies: Record<string, (root: string, inner: string) => string> = {
  'billion laughs in a text node': (root, inner) => `${LAUGHS}<${root}>${inner.replace('NAME', '&lol9;')}</${root}>`,
  'external entity (XXE)': (root, inner) => `${XXE}<${root}>${inner.replace('NAME', '&xxe;')}</${root}>`,
  'declared but unused DOCTYPE': (root, inner) => `${LAUGHS}<${root}>${inner.replace('NAME', 'cam-1')}</${root}>`,
  'character reference past U+10FFFF': (root, inner) =>
    `<?xml version="1.0"?><${root}>${inner.replace('NAME', '&#x110000;&#99999999999;')}</${root}>`,
  'billion laughs in an error body': () =>
    `${LAUGHS}<Error><Code>&lol9;</Code><Message>&lol9;</Message><RequestId>1</RequestId></Error>`,
};

function hostileOss(
  status: () => number,
  body: () => string,
): Promise<{ server: Server; url: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    req.resume();
    req.on('end', () => {
      const text = body();
      res.writeHead(status(), {
        'Content-Type': 'application/xml',
        'x-oss-request-id': '0123456789ABCDEF01234567',
        'Content-Length': Buffer.byteLength(text),
      });
      res.end(req.method === 'HEAD' ? undefined : text);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => hits }),
    ),
  );
}

describe('hostile XML from a misbehaving OSS endpoint', () => {
  it('the client never expands entities: each operation fails with a clear error, no crash', async () => {
    let current = '';
    let status = 200;
    const srv = await hostileOss(
      () => status,
      () => current,
    );
    const client = new OssClient({
      endpoint: srv.url,
      region: 'cn-hangzhou',
      pathStyle: true,
      credentials: { getCredentials: async () => ({ accessKeyId: 'x', accessKeySecret: 'y-secret-y-secret' }) },
      retry: { maxAttempts: 1, baseMs: 1, capMs: 1 },
    });
    const b = client.bucket(BUCKET);
    const ops: [string, string, string, () => Promise<unknown>][] = [
      [
        'ListLiveChannel',
        'ListLiveChannelResult',
        '<Prefix></Prefix><Marker></Marker><MaxKeys>100</MaxKeys><IsTruncated>false</IsTruncated><LiveChannel><Name>NAME</Name><Description></Description><Status>enabled</Status><LastModified>2024-05-01T00:00:00.000Z</LastModified><PublishUrls><Url>rtmp://x/live/a</Url></PublishUrls><PlayUrls><Url>http://x/a/p.m3u8</Url></PlayUrls></LiveChannel>',
        () => b.listLiveChannels({}),
      ],
      ['GetLiveChannelStat', 'LiveChannelStat', '<Status>NAME</Status>', () => b.getLiveChannelStat('cam-1')],
      [
        'GetLiveChannelHistory',
        'LiveChannelHistory',
        '<LiveRecord><StartTime>2024-05-01T00:00:00.000Z</StartTime><EndTime>2024-05-01T00:10:00.000Z</EndTime><RemoteAddr>NAME</RemoteAddr></LiveRecord>',
        () => b.getLiveChannelHistory('cam-1'),
      ],
      [
        'ListObjectsV2',
        'ListBucketResult',
        '<Name>livecycle-demo</Name><Prefix></Prefix><MaxKeys>100</MaxKeys><KeyCount>1</KeyCount><IsTruncated>false</IsTruncated><Contents><Key>NAME</Key><LastModified>2024-05-01T00:00:00.000Z</LastModified><ETag>"A"</ETag><Size>1</Size><StorageClass>Standard</StorageClass></Contents>',
        () => b.listObjects({}),
      ],
      [
        'GetLiveChannelInfo',
        'LiveChannelConfiguration',
        '<Description>NAME</Description><Status>enabled</Status><Target><Type>HLS</Type><FragDuration>5</FragDuration><FragCount>3</FragCount><PlaylistName>p.m3u8</PlaylistName></Target>',
        () => b.getLiveChannelInfo('cam-1'),
      ],
    ];
    let tried = 0;
    const verdicts = new Map<string, number>();
    for (const [kind, make] of Object.entries(bodies)) {
      for (const [op, root, inner, call] of ops) {
        status = kind.includes('error body') ? 500 : 200;
        current = make(root, inner);
        tried++;
        let outcome: unknown;
        try {
          outcome = await call();
        } catch (err) {
          outcome = err;
        }
        const label = `${op} / ${kind}`;
        // A clear error (OSS never sends a DOCTYPE), never an expansion or a file's content.
        const text = outcome instanceof Error ? `${outcome.name}: ${outcome.message}` : JSON.stringify(outcome);
        expect.soft(text.length, label).toBeLessThan(5_000);
        expect.soft(text, label).not.toContain('lollollol');
        expect.soft(text, label).not.toContain('root:');
        expect.soft(outcome instanceof Error, `${label} → ${text.slice(0, 200)}`).toBe(true);
        const verdict = `${kind}: ${outcome instanceof Error ? outcome.name : 'accepted'}`;
        verdicts.set(verdict, (verdicts.get(verdict) ?? 0) + 1);
      }
    }
    await new Promise<void>((r) => srv.server.close(() => r()));
    console.log(
      `[reliability/bad-input] hostile XML into the OSS client: ${tried} responses (${Object.keys(bodies).length} bodies × ${ops.length} operations); verdicts ${JSON.stringify(Object.fromEntries(verdicts))}`,
    );
    expect(problems.unhandledRejections).toEqual([]);
  });

  it('a whole function (poll-stat, disable-idle) pointed at that endpoint fails cleanly and does not hang or expand', async () => {
    const srv = await hostileOss(
      () => 200,
      () =>
        bodies['billion laughs in a text node']!(
          'ListLiveChannelResult',
          '<IsTruncated>false</IsTruncated><LiveChannel><Name>NAME</Name></LiveChannel>',
        ),
    );
    const hostile = await startStack({
      sts: false,
      webhooks: false,
      env: { OSS_ENDPOINT: srv.url, LOG_LEVEL: 'warn' },
    });
    const results: string[] = [];
    try {
      for (const fn of ['poll-stat', 'disable-idle'] as const) {
        try {
          await hostile.invoke(fn, timerEvent('t', Date.UTC(2024, 4, 1)));
          results.push(`${fn}: resolved`);
        } catch (err) {
          const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
          expect(text.length).toBeLessThan(5_000);
          expect(text).not.toContain('lollollol');
          results.push(`${fn}: ${text.slice(0, 120)}`);
        }
      }
    } finally {
      await hostile.stop();
      await new Promise<void>((r) => srv.server.close(() => r()));
    }
    console.log(
      `[reliability/bad-input] functions against a hostile-XML endpoint: ${results.join(' | ')}; endpoint hits ${srv.hits()}`,
    );
    expect(problems.unhandledRejections).toEqual([]);
  });
});
