/**
 * A tiny raw-HTTP OSS request helper for the emulator conformance tests: it builds the request
 * target itself and signs with the pure signer functions, independent of shared/oss/client.ts.
 */
import { request as httpRequest } from 'node:http';
import { getSignatureV2 } from '@alicloud/oss-util/dist/signature';
import { XMLParser } from 'fast-xml-parser';
import {
  encodeKeyPath,
  encodeQuery,
  presignV1,
  presignV4,
  signRequestV1,
  signRequestV4,
  type SigningCredentials,
} from '../../shared/oss/signer';
import type { Emulator } from '../../local/emulator';
import { ADMIN_PREFIX, adminHeaders } from '../../local/emulator/admin-client';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
}

export interface OssCall {
  method: string;
  bucket?: string;
  key?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** 'v4' (default), 'v1', 'presign-v1', 'presign-v4' or 'none' (anonymous). */
  auth?: 'v4' | 'v1' | 'presign-v1' | 'presign-v4' | 'none';
  credentials?: SigningCredentials;
  /** Signing time; the emulator clock by default. */
  nowMs?: number;
  expiresInSeconds?: number;
  /** Host header to send (virtual-hosted tests); path style otherwise. */
  host?: string;
}

export function defaultCredentials(emu: Emulator): SigningCredentials {
  const key = emu.accessKeys[0]!;
  return { accessKeyId: key.id, accessKeySecret: key.secret };
}

/**
 * A V2 presigned GET of `bucket`/`key` as the Java/Python SDKs build it (an STS token signed as a
 * parameter; the date slot of the string to sign is the expiry), signed by @alicloud/oss-util's
 * V2 canonicaliser, not by our signer.
 */
export function presignV2(
  bucket: string,
  key: string,
  expires: number,
  creds: SigningCredentials,
  extraQuery: Record<string, string> = {},
): string {
  const query: Record<string, string> = {
    ...extraQuery,
    'x-oss-signature-version': 'OSS2',
    'x-oss-expires': String(expires),
    'x-oss-access-key-id': creds.accessKeyId,
    ...(creds.securityToken && { 'security-token': creds.securityToken }),
  };
  // What getSignatureV2 reads of a tea Request.
  const request = {
    method: 'GET',
    pathname: `/${key}`,
    query,
    headers: { date: String(expires) },
    protocol: 'http',
    port: 80,
  } as unknown as Parameters<typeof getSignatureV2>[0];
  const { signature } = getSignatureV2(request, bucket, creds.accessKeySecret);
  const all = { ...query, 'x-oss-signature': signature };
  return `/${bucket}/${key}?${Object.entries(all)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&')}`;
}

/** Sends raw bytes to the emulator and collects the whole response. */
export function rawRequest(
  emu: Emulator,
  method: string,
  target: string,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<RawResponse> {
  const url = new URL(emu.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, method, path: target, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: buf, text: buf.toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** An admin call (`/_emulator…`) with the headers the local tools send; JSON in and out. */
export async function adminCall(
  emu: Emulator,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const res = await rawRequest(
    emu,
    method,
    `${ADMIN_PREFIX}${path}`,
    { ...adminHeaders(body !== undefined), ...headers },
    payload,
  );
  return { status: res.status, json: JSON.parse(res.text) as Record<string, any> };
}

export async function oss(emu: Emulator, call: OssCall): Promise<RawResponse> {
  const bucket = call.bucket ?? 'livecycle-demo';
  const key = call.key ?? '';
  const body = call.body === undefined ? undefined : Buffer.from(call.body);
  const credentials = call.credentials ?? defaultCredentials(emu);
  const nowMs = call.nowMs ?? emu.clock.now();
  const virtual = call.host !== undefined;
  const signable = { method: call.method, bucket, key, query: call.query ?? {}, headers: { ...call.headers } };
  let headers: Record<string, string> = { ...call.headers };
  let query: Record<string, string> = { ...call.query };
  switch (call.auth ?? 'v4') {
    case 'v4':
      headers = signRequestV4(signable, credentials, { region: emu.region, nowMs });
      break;
    case 'v1':
      headers = signRequestV1(signable, credentials, nowMs);
      break;
    case 'presign-v1':
      query = presignV1(signable, credentials, Math.floor(nowMs / 1000) + (call.expiresInSeconds ?? 60));
      break;
    case 'presign-v4':
      query = presignV4(signable, credentials, {
        region: emu.region,
        nowMs,
        expiresInSeconds: call.expiresInSeconds ?? 60,
      });
      break;
    case 'none':
      break;
  }
  const path = (virtual ? '/' : bucket ? `/${bucket}/` : '/') + encodeKeyPath(key);
  const qs = encodeQuery(query);
  if (virtual) headers['host'] = call.host!;
  if (body) headers['content-length'] = String(body.length);
  return rawRequest(emu, call.method, qs ? `${path}?${qs}` : path, headers, body);
}

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  isArray: (n) => ['Contents', 'CommonPrefixes', 'Deleted'].includes(n),
});

export function parseXml(text: string): Record<string, any> {
  return parser.parse(text) as Record<string, any>;
}

/** The `<Error>` element of an error response (or of x-oss-err for HEAD). */
export function errorOf(res: RawResponse): Record<string, string> {
  const xml = res.text || Buffer.from(String(res.headers['x-oss-err'] ?? ''), 'base64').toString('utf8');
  return parseXml(xml).Error as Record<string, string>;
}
