/**
 * Row 1: V4 request signatures per second, ours (shared/oss/signer.ts signRequestV4) against
 * ali-oss 6.23's own V4 path (lib/common/signUtils.js authorizationV4, with the x-oss-date
 * header formatted the way its createRequest does), same request, same key, same clock value.
 * Both sides do the per-request work their client does: format the date, build the canonical
 * request, derive the signing key (neither caches it) and HMAC. A sanity check first asserts that
 * both produce the same signature, so we compare equal work.
 */
import { createRequire } from 'node:module';
import { signRequestV4, v4DateTime, type SignableRequest } from '../../shared/oss/signer';
import type { BenchOptions, BenchSection, Row } from '../lib/types';
import { median, num, times } from '../lib/stats';

const require = createRequire(import.meta.url);
const signUtils = require('ali-oss/lib/common/signUtils.js') as {
  authorizationV4(
    id: string,
    secret: string,
    region: string,
    method: string,
    request: { headers: Record<string, string>; queries?: Record<string, string | null> },
    bucket?: string,
    object?: string,
    additionalHeaders?: string[],
  ): string;
  authorization(id: string, secret: string, canonical: string, headerEncoding?: string): string;
  buildCanonicalString(
    method: string,
    resourcePath: string,
    request: { headers: Record<string, string>; parameters?: Record<string, string | null> },
    expires?: string,
  ): string;
};
const dateFormat = require('dateformat') as (d: Date, mask: string) => string;

const CREDS = { accessKeyId: 'livecycle-local-id', accessKeySecret: 'livecycle-local-secret' };
const REGION = 'cn-hangzhou';
const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);

/** GetLiveChannelStat — what the poller sends most. */
const REQUEST: SignableRequest = {
  method: 'GET',
  bucket: 'livecycle-demo',
  key: 'channel-0042',
  query: { live: '', comp: 'stat' },
};

function ours(): string {
  return signRequestV4(REQUEST, CREDS, { region: REGION, nowMs: NOW })['authorization']!;
}

function peer(): string {
  const headers: Record<string, string> = {
    'x-oss-date': dateFormat(new Date(NOW), "UTC:yyyymmdd'T'HHMMss'Z'"),
    'x-oss-content-sha256': 'UNSIGNED-PAYLOAD',
  };
  // ali-oss passes `live: null` for a bare sub-resource (rtmp.js), which qs renders as `live`.
  return signUtils.authorizationV4(
    CREDS.accessKeyId,
    CREDS.accessKeySecret,
    REGION,
    'GET',
    { headers, queries: { live: null, comp: 'stat' } },
    'livecycle-demo',
    'channel-0042',
  );
}

/** Calls per second over ~`budgetMs` of busy looping. */
function rate(fn: () => string, budgetMs: number): number {
  let n = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(budgetMs) * 1_000_000n;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 200; i++) fn();
    n += 200;
    now = process.hrtime.bigint();
  }
  return n / (Number(now - start) / 1e9);
}

async function run({ quick, progress }: BenchOptions): Promise<Row[]> {
  const a = ours();
  const b = peer();
  const same = a === b;
  if (!same) progress(`signer: signatures differ!\n  ours ${a}\n  peer ${b}`);
  if (v4DateTime(NOW) !== dateFormat(new Date(NOW), "UTC:yyyymmdd'T'HHMMss'Z'"))
    progress('signer: x-oss-date formats differ');
  // Warm up both (JIT), then alternate trials so drift on the shared cores hits both sides.
  rate(ours, 200);
  rate(peer, 200);
  const trials = quick ? 5 : 9;
  const budget = quick ? 200 : 400;
  const oursRates: number[] = [];
  const peerRates: number[] = [];
  for (let i = 0; i < trials; i++) {
    oursRates.push(rate(ours, budget));
    peerRates.push(rate(peer, budget));
  }
  const o = median(oursRates);
  const p = median(peerRates);
  progress(`signer: ours ${num(o)}/s, ali-oss ${num(p)}/s (${trials} trials, identical signatures: ${same})`);
  return [
    {
      name: 'signer V4 sig/s',
      ours: num(o),
      peer: `ali-oss ${num(p)}`,
      ratio: times(o, p),
      target: '≥ peer',
      met: same && o >= p,
      raw: {
        oursPerSecond: o,
        peerPerSecond: p,
        trials,
        trialMs: budget,
        identicalSignatures: same,
        oursTrials: oursRates,
        peerTrials: peerRates,
      },
    },
  ];
}

export const signer: BenchSection = { name: 'signer', title: 'V4 signer', run };
