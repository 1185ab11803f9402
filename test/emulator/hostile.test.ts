/** Bad input gets OSS's error, never a crash, and the server keeps serving. */
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../local/emulator';
import { errorOf, oss, rawRequest } from './helpers';
import { quietEmulator } from './setup';

let emu: Emulator;
beforeAll(async () => {
  emu = await quietEmulator({ maxBodyBytes: 64 * 1024 });
});
afterAll(() => emu.stop());

const stillServes = async () => {
  expect((await oss(emu, { method: 'PUT', key: 'alive.txt', body: 'yes' })).status).toBe(200);
  expect((await oss(emu, { method: 'GET', key: 'alive.txt' })).text).toBe('yes');
};

const md5b64 = (s: string) => createHash('md5').update(s).digest('base64');
const deleteWith = (body: string) =>
  oss(emu, { method: 'POST', query: { delete: '' }, body, headers: { 'content-md5': md5b64(body) } });

describe('hostile XML', () => {
  it('refuses entity expansion (billion laughs) and external entities with MalformedXML', async () => {
    const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><Delete><Object><Key>&lol3;</Key></Object></Delete>`;
    const external = `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Delete><Object><Key>&xxe;</Key></Object></Delete>`;
    for (const body of [laughs, external]) {
      const res = await deleteWith(body);
      expect(res.status).toBe(400);
      expect(errorOf(res).Code).toBe('MalformedXML');
    }
    await stillServes();
  });

  it('refuses undeclared entities, truncated documents and binary garbage', async () => {
    for (const body of [
      '<Delete><Object><Key>&foo;</Key></Object></Delete>',
      '<Delete><Object><Key>a',
      '\u0000\u0001\u00ff<<<',
      '<Delete><Object><Key>&#0;</Key></Object></Delete>',
    ]) {
      const res = await deleteWith(body);
      expect(res.status).toBe(400);
      expect(errorOf(res).Code).toBe('MalformedXML');
    }
    await stillServes();
  });
});

describe('oversized and malformed requests', () => {
  it('a body over the limit → 400 EntityTooLarge (declared or streamed), then the server still serves', async () => {
    const declared = await oss(emu, { method: 'PUT', key: 'big.bin', body: Buffer.alloc(64 * 1024 + 1) });
    expect(declared.status).toBe(400);
    expect(errorOf(declared).Code).toBe('EntityTooLarge');
    await stillServes();
  });

  it('a chunked body over the limit is cut off with EntityTooLarge', async () => {
    const url = new URL(emu.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write('PUT /livecycle-demo/chunked.bin HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
        const chunk = Buffer.alloc(16 * 1024, 1);
        for (let i = 0; i < 8; i++)
          (socket.write(`${chunk.length.toString(16)}\r\n`), socket.write(chunk), socket.write('\r\n'));
      });
      let text = '';
      socket.on('data', (d) => (text += d.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.on('error', (err) => (text ? resolve(text) : reject(err)));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect(answer).toContain('<Code>EntityTooLarge</Code>');
    await stillServes();
  });

  it('malformed percent-encoding → 400 InvalidURI', async () => {
    const res = await rawRequest(emu, 'GET', '/livecycle-demo/%E0%A4%A', {});
    expect(res.status).toBe(400);
    expect(errorOf(res).Code).toBe('InvalidURI');
    await stillServes();
  });

  it('a garbage request line gets 400 and the server keeps serving', async () => {
    const url = new URL(emu.url);
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(Number(url.port), url.hostname, () => socket.write('\u0000\u0001 NONSENSE\r\n\r\n'));
      let text = '';
      socket.on('data', (d) => (text += d.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.on('error', () => resolve(text));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    await stillServes();
  });
});

describe('unknown sub-resources and unsupported operations', () => {
  it('an OSS sub-resource the emulator lacks → 501 NotImplemented', async () => {
    for (const [method, query] of [
      ['GET', { acl: '' }],
      ['PUT', { tagging: '' }],
      ['POST', { uploads: '' }],
    ] as const) {
      const res = await oss(emu, { method, key: 'alive.txt', query });
      expect(res.status).toBe(501);
      expect(errorOf(res).Code).toBe('NotImplemented');
    }
  });

  it('a method that does not apply → 405 MethodNotAllowed; unknown plain parameters are ignored', async () => {
    const res = await oss(emu, { method: 'POST', key: 'alive.txt' });
    expect(res.status).toBe(405);
    expect(errorOf(res).Code).toBe('MethodNotAllowed');
    expect((await oss(emu, { method: 'GET', key: 'alive.txt', query: { 'not-a-subresource': '1' } })).text).toBe('yes');
  });

  it('a bare flag and an empty value select the same operation (?delete and ?delete=)', async () => {
    const body = '<Delete><Quiet>true</Quiet><Object><Key>alive.txt</Key></Object></Delete>';
    const res = await rawRequest(
      emu,
      'POST',
      '/livecycle-demo/?delete',
      { 'content-md5': md5b64(body) },
      Buffer.from(body),
    );
    // Anonymous, so refused — but by auth, after the operation was recognised (not 501/405).
    expect(errorOf(res).Code).toBe('AccessDenied');
  });
});
