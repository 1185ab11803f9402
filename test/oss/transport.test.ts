/**
 * Response shapes the emulator does not produce on purpose: a scripted HTTP server answers each
 * request from a queue, so the client's handling of odd but real-world responses is pinned down.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OssClient } from '../../shared/oss/client';
import { staticCredentials } from '../../shared/oss/credentials';
import { OssError, OssProtocolError } from '../../shared/oss/errors';

type Reply = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server;
let url: string;
const script: Reply[] = [];
const seen: { method: string; url: string; headers: IncomingMessage['headers'] }[] = [];

const xmlError =
  (status: number, code: string): Reply =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/xml', 'x-oss-request-id': `RID-${code}` });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>m</Message><RequestId>RID-${code}</RequestId><HostId>h</HostId></Error>`,
    );
  };

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    req.on('end', () => {
      const reply = script.shift();
      if (reply) reply(req, res);
      else res.writeHead(599).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  script.length = 0;
  seen.length = 0;
});

const client = () =>
  new OssClient({
    endpoint: url,
    region: 'cn-hangzhou',
    pathStyle: true,
    credentials: staticCredentials({ accessKeyId: 'id', accessKeySecret: 'secret-xyz' }),
    retry: { baseMs: 1, capMs: 1 },
  });
let open: OssClient[] = [];
const bucket = () => {
  const c = client();
  open.push(c);
  return c.bucket('bkt');
};

afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
  open = [];
  await new Promise((resolve) => server.close(resolve));
});

describe('transport edge cases', () => {
  it('sends the path and query exactly as signed (no re-encoding)', async () => {
    script.push((_req, res) => res.writeHead(204).end());
    await bucket().deleteObject("a b/(x)!*'+.ts");
    expect(seen[0]).toMatchObject({ method: 'DELETE', url: '/bkt/a%20b/%28x%29%21%2A%27%2B.ts' });
    expect(seen[0]!.headers['authorization']).toMatch(
      /^OSS4-HMAC-SHA256 Credential=id\/\d{8}\/cn-hangzhou\/oss\/aliyun_v4_request,Signature=[0-9a-f]{64}$/,
    );
    expect(seen[0]!.headers['x-oss-content-sha256']).toBe('UNSIGNED-PAYLOAD');
  });

  it('treats 404 NoSuchLiveChannel on a repeated DeleteLiveChannel as done', async () => {
    script.push(xmlError(503, 'ServiceUnavailable'), xmlError(404, 'NoSuchLiveChannel'));
    await expect(bucket().deleteLiveChannel('cam')).resolves.toBeUndefined();
    expect(seen).toHaveLength(2);
  });

  it('but reports it when the first attempt gets it', async () => {
    script.push(xmlError(404, 'NoSuchLiveChannel'));
    await expect(bucket().deleteLiveChannel('cam')).rejects.toMatchObject({ status: 404, code: 'NoSuchLiveChannel' });
  });

  it('turns a malformed success body into OssProtocolError, without retrying', async () => {
    script.push((_req, res) =>
      res
        .writeHead(200, { 'content-type': 'application/xml', 'x-oss-request-id': 'RID1' })
        .end('<LiveChannelStat><Status>Idle</Sta'),
    );
    const err = await bucket()
      .getLiveChannelStat('cam')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OssProtocolError);
    expect(err).toMatchObject({ status: 200, code: 'InvalidResponse', requestId: 'RID1' });
    expect(seen).toHaveLength(1);
  });

  it('retries a 502 with a non-XML body and reports it as UnknownError', async () => {
    const gateway: Reply = (_req, res) =>
      res.writeHead(502, { 'content-type': 'text/html' }).end('<html>bad gateway</html>');
    script.push(gateway, gateway, gateway);
    const err = await bucket()
      .getLiveChannelInfo('cam')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OssError);
    expect(err).toMatchObject({ status: 502, code: 'UnknownError' });
    expect(seen).toHaveLength(3);
  });

  it('decodes x-oss-err on HEAD, and copes without it', async () => {
    const xml =
      '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>gone</Message><RequestId>R</RequestId><HostId>h</HostId><EC>0026-00000001</EC></Error>';
    script.push((_req, res) =>
      res.writeHead(404, { 'x-oss-err': Buffer.from(xml).toString('base64'), 'x-oss-ec': '0026-00000001' }).end(),
    );
    await expect(bucket().headObject('k')).rejects.toMatchObject({
      status: 404,
      code: 'NoSuchKey',
      ec: '0026-00000001',
      requestId: 'R',
    });
    script.push((_req, res) => res.writeHead(403, { 'x-oss-ec': '0003-00000001' }).end());
    await expect(bucket().headObject('k')).rejects.toMatchObject({
      status: 403,
      code: 'UnknownError',
      ec: '0003-00000001',
    });
  });

  it('treats an empty quiet DeleteMultipleObjects answer as all deleted, and sends Content-MD5', async () => {
    script.push((_req, res) => res.writeHead(200, { 'content-length': '0' }).end());
    expect(await bucket().deleteObjects(['a', 'b'])).toEqual({ deleted: ['a', 'b'], errors: [] });
    expect(seen[0]!.url).toBe('/bkt/?delete&encoding-type=url');
    expect(seen[0]!.headers['content-md5']).toMatch(/^[A-Za-z0-9+/]{22}==$/);
  });
});
