/**
 * The RTMP chunk layer against hand-built byte streams (what ffmpeg does not exercise): the
 * default 128-byte chunk size with type 3 continuations, extended timestamps repeated on
 * continuation chunks, a type 3 header starting a new message (same delta again), a two-byte
 * csid, Set Chunk Size, and a refused publish answered with an onStatus error.
 */
import { once } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeAmf0, encodeAmf0, type Amf0Value } from '../../local/emulator/rtmp/amf0';
import {
  MSG,
  PublishRefused,
  RtmpConnection,
  type PublishRequest,
  type RtmpMessage,
} from '../../local/emulator/rtmp/connection';

/** A chunk: basic header (fmt, csid), message header for fmt 0–2, optional extended timestamp, payload. */
function chunk(
  fmt: number,
  csid: number,
  header: { ts?: number; length?: number; type?: number; streamId?: number },
  payload: Buffer,
  extendedTs?: number,
): Buffer {
  const basic =
    csid < 64 ? Buffer.from([(fmt << 6) | csid]) : Buffer.from([(fmt << 6) | 1, (csid - 64) & 0xff, (csid - 64) >> 8]);
  const mh = Buffer.alloc([11, 7, 3, 0][fmt]!);
  if (fmt <= 2) mh.writeUIntBE(extendedTs !== undefined ? 0xffffff : (header.ts ?? 0), 0, 3);
  if (fmt <= 1) {
    mh.writeUIntBE(header.length ?? payload.length, 3, 3);
    mh[6] = header.type ?? 0;
  }
  if (fmt === 0) mh.writeUInt32LE(header.streamId ?? 0, 7);
  const ext = extendedTs === undefined ? Buffer.alloc(0) : Buffer.alloc(4);
  if (extendedTs !== undefined) ext.writeUInt32BE(extendedTs);
  return Buffer.concat([basic, mh, ext, payload]);
}

function command(csid: number, ...values: Amf0Value[]): Buffer {
  const body = encodeAmf0(...values);
  return chunk(0, csid, { type: MSG.COMMAND_AMF0, streamId: 0 }, body);
}

/**
 * Every command the server sent, decoded (skips control messages); parses with chunk size 4096 after Set Chunk Size.
 */
function serverCommands(bytes: Buffer): Amf0Value[][] {
  const out: Amf0Value[][] = [];
  let p = 1 + 1536 * 2; // S0 S1 S2
  let size = 128;
  while (p < bytes.length) {
    const csid = bytes[p]! & 0x3f;
    const length = bytes.readUIntBE(p + 4, 3);
    const type = bytes[p + 7]!;
    p += 12;
    const parts: Buffer[] = [];
    for (let got = 0; got < length;) {
      if (got > 0) {
        expect(bytes[p]).toBe(0xc0 | csid);
        p++;
      }
      const n = Math.min(size, length - got);
      parts.push(bytes.subarray(p, p + n));
      p += n;
      got += n;
    }
    const payload = Buffer.concat(parts);
    if (type === MSG.SET_CHUNK_SIZE) size = payload.readUInt32BE(0);
    if (type === MSG.COMMAND_AMF0) out.push(decodeAmf0(payload));
  }
  return out;
}

let server: Server | undefined;
afterEach(() => server?.close());

async function session(refuse?: PublishRefused) {
  const messages: RtmpMessage[] = [];
  const requests: PublishRequest[] = [];
  let ended = false;
  server = createServer((socket) => {
    new RtmpConnection(
      socket,
      {
        publish: async (req) => {
          requests.push(req);
          if (refuse) throw refuse;
          return { message: (m) => messages.push(m), end: () => (ended = true) };
        },
      },
      () => undefined,
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const client: Socket = createConnection(port, '127.0.0.1');
  await once(client, 'connect');
  const received: Buffer[] = [];
  client.on('data', (d: Buffer) => received.push(d));
  client.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536, 7)]));
  await vi.waitFor(() => expect(Buffer.concat(received).length).toBeGreaterThanOrEqual(1 + 1536 * 2), { interval: 5 });
  client.write(Buffer.alloc(1536, 9)); // C2
  client.write(command(3, 'connect', 1, { app: 'live', tcUrl: 'rtmp://127.0.0.1:1935/live' }));
  client.write(command(3, 'createStream', 2, null));
  client.write(command(8, 'publish', 3, null, 'cam?Expires=1', 'live'));
  return { client, messages, requests, received: () => Buffer.concat(received), ended: () => ended };
}

describe('RTMP chunk stream', () => {
  it('reassembles 128-byte chunks, extended timestamps and type 3 new messages on a two-byte csid', async () => {
    const s = await session();
    await vi.waitFor(
      () => expect(serverCommands(s.received()).map((c) => c[0])).toEqual(['_result', '_result', 'onStatus']),
      { interval: 5 },
    );
    const status = serverCommands(s.received())[2]![3] as Record<string, unknown>;
    expect(status['code']).toBe('NetStream.Publish.Start');
    expect(s.requests).toEqual([
      {
        app: 'live',
        tcUrl: 'rtmp://127.0.0.1:1935/live',
        streamName: 'cam?Expires=1',
        remoteAddr: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      },
    ]);

    const video = Buffer.alloc(300, 0xab);
    const ts = 0x01000000; // past 0xFFFFFF ms: extended timestamp, repeated on type 3 continuations
    const csid = 400; // two-byte basic header
    s.client.write(
      Buffer.concat([
        chunk(0, csid, { length: 300, type: MSG.VIDEO, streamId: 1 }, video.subarray(0, 128), ts),
        chunk(3, csid, {}, video.subarray(128, 256), ts),
        chunk(3, csid, {}, video.subarray(256), ts),
        // type 1: a 10-byte audio message 40 ms later
        chunk(1, csid, { ts: 40, length: 10, type: MSG.AUDIO }, Buffer.alloc(10, 1)),
        // type 3 starting a new message: same length, type and delta again (+40 ms)
        chunk(3, csid, {}, Buffer.alloc(10, 2)),
      ]),
    );
    // Set Chunk Size 4096, then one 1000-byte message in a single chunk.
    const size = Buffer.alloc(4);
    size.writeUInt32BE(4096);
    s.client.write(
      Buffer.concat([
        chunk(0, 2, { type: MSG.SET_CHUNK_SIZE }, size),
        chunk(0, 6, { ts: 5, type: MSG.VIDEO, streamId: 1 }, Buffer.alloc(1000, 3)),
      ]),
    );
    await vi.waitFor(() => expect(s.messages).toHaveLength(4), { interval: 5 });
    expect(s.messages.map((m) => [m.type, m.timestamp, m.payload.length])).toEqual([
      [MSG.VIDEO, ts, 300],
      [MSG.AUDIO, ts + 40, 10],
      [MSG.AUDIO, ts + 80, 10],
      [MSG.VIDEO, 5, 1000],
    ]);
    expect(s.messages[0]!.payload.equals(video)).toBe(true);
    expect(s.messages[2]!.payload.equals(Buffer.alloc(10, 2))).toBe(true);

    s.client.write(command(3, 'deleteStream', 4, null, 1));
    await vi.waitFor(() => expect(s.ended()).toBe(true), { interval: 5 });
    s.client.destroy();
  });

  it('answers a refused publish with an onStatus error carrying the OSS code, then closes', async () => {
    const s = await session(new PublishRefused('NetStream.Publish.BadName', 'AccessDenied: Request has expired.'));
    await once(s.client, 'end');
    const commands = serverCommands(s.received());
    expect(commands.at(-1)![0]).toBe('onStatus');
    expect(commands.at(-1)![3]).toMatchObject({
      level: 'error',
      code: 'NetStream.Publish.BadName',
      description: 'AccessDenied: Request has expired.',
    });
    s.client.destroy();
  });
});
