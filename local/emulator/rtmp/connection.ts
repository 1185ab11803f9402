/**
 * One RTMP connection, publisher side only: the plain handshake, the chunk stream layer
 * (reassembling messages from interleaved chunks, both directions) and the NetConnection /
 * NetStream commands an encoder sends to publish (connect, releaseStream, FCPublish,
 * createStream, publish, FCUnpublish, deleteStream). Playback is not offered: OSS ingest is
 * push-only (reference §12.1). Why this is written here rather than taken from a library:
 * docs/emulator.md "Real RTMP ingest".
 */
import type { Socket } from 'node:net';
import { decodeAmf0, encodeAmf0, type Amf0Value } from './amf0';

const HANDSHAKE_SIZE = 1536;
const RTMP_VERSION = 3;

/** Message type ids (RTMP spec §5.4, §7.1). */
export const MSG = {
  SET_CHUNK_SIZE: 1,
  ABORT: 2,
  ACK: 3,
  USER_CONTROL: 4,
  WINDOW_ACK_SIZE: 5,
  SET_PEER_BANDWIDTH: 6,
  AUDIO: 8,
  VIDEO: 9,
  DATA_AMF3: 15,
  COMMAND_AMF3: 17,
  DATA_AMF0: 18,
  COMMAND_AMF0: 20,
} as const;

export interface RtmpMessage {
  type: number;
  streamId: number;
  /** Milliseconds, as the publisher stamped them (FLV timestamps: decode time). */
  timestamp: number;
  payload: Buffer;
}

export interface PublishRequest {
  /** The `connect` command's app and tcUrl (`rtmp://host[:port]/<app>`). */
  app: string;
  tcUrl: string;
  /** The `publish` command's stream name: `<channel>?<query>` for an OSS publish URL. */
  streamName: string;
  remoteAddr: string;
}

/** A refusal an encoder is shown as an `onStatus` error with this code and description. */
export class PublishRefused extends Error {
  constructor(
    readonly code: string,
    readonly description: string,
  ) {
    super(description);
    this.name = 'PublishRefused';
  }
}

/** Where an accepted publish's audio, video and data messages go. */
export interface MediaSink {
  message(msg: RtmpMessage): void;
  /** The publisher stopped (FCUnpublish, deleteStream, or the connection closed). Called once. */
  end(): void;
}

export interface PublishHandler {
  /** Accepts with a sink, or refuses by throwing PublishRefused. `drop` disconnects the publisher. */
  publish(req: PublishRequest, drop: () => void): Promise<MediaSink>;
}

interface ChunkStream {
  timestamp: number;
  /** The last header's timestamp field: absolute (type 0) or delta (types 1, 2). */
  timestampField: number;
  extended: boolean;
  length: number;
  type: number;
  streamId: number;
  parts: Buffer[];
  received: number;
}

/** Our chunk size towards the encoder; theirs is whatever they set (128 until then). */
const OUT_CHUNK_SIZE = 4096;
const WINDOW_ACK_SIZE = 5_000_000;
/** The message stream id createStream hands out; one publish per connection. */
const STREAM_ID = 1;
/** Csids for what the server sends: protocol control, commands, stream status. */
const CSID_CONTROL = 2;
const CSID_COMMAND = 3;
const CSID_STATUS = 5;

export class RtmpConnection {
  private buf: Buffer = Buffer.alloc(0);
  private phase: 'c0c1' | 'c2' | 'chunks' | 'closed' = 'c0c1';
  private inChunkSize = 128;
  /** 128 until our Set Chunk Size in answer to connect. */
  private outChunkSize = 128;
  private streams = new Map<number, ChunkStream>();
  private bytesIn = 0;
  private ackWindow = 0;
  private lastAck = 0;
  private app = '';
  private tcUrl = '';
  private publishState: 'none' | 'pending' | 'live' | 'ended' = 'none';
  private sink: MediaSink | undefined;
  /** Media that arrived while the publish was being checked, replayed once it is accepted. */
  private early: RtmpMessage[] = [];

  constructor(
    private socket: Socket,
    private handler: PublishHandler,
    private onProtocolError: (message: string) => void,
  ) {
    socket.on('data', (data: Buffer) => this.receive(data));
    socket.on('close', () => this.closed());
    socket.on('error', () => undefined); // 'close' follows
  }

  private receive(data: Buffer): void {
    if (this.phase === 'closed') return;
    this.bytesIn += data.length;
    this.buf = this.buf.length === 0 ? data : Buffer.concat([this.buf, data]);
    try {
      this.process();
    } catch (err) {
      this.onProtocolError(`${this.socket.remoteAddress}:${this.socket.remotePort}: ${(err as Error).message}`);
      this.socket.destroy();
      return;
    }
    if (this.ackWindow > 0 && this.bytesIn - this.lastAck >= this.ackWindow) {
      this.lastAck = this.bytesIn;
      const body = Buffer.alloc(4);
      body.writeUInt32BE(this.bytesIn >>> 0);
      this.send(CSID_CONTROL, MSG.ACK, 0, body);
    }
  }

  private process(): void {
    let offset = 0;
    if (this.phase === 'c0c1') {
      if (this.buf.length < 1 + HANDSHAKE_SIZE) return;
      if (this.buf[0] !== RTMP_VERSION) throw new Error(`not RTMP: version byte ${this.buf[0]}`);
      const c1 = this.buf.subarray(1, 1 + HANDSHAKE_SIZE);
      // Plain handshake: S1 = time, zero version (so clients skip the digest check), random
      // bytes; S2 echoes C1. ffmpeg and librtmp (OBS) accept it for publishing.
      const s1 = Buffer.alloc(HANDSHAKE_SIZE);
      for (let i = 8; i < HANDSHAKE_SIZE; i++) s1[i] = (Math.random() * 256) | 0;
      this.socket.write(Buffer.concat([Buffer.from([RTMP_VERSION]), s1, c1]));
      offset = 1 + HANDSHAKE_SIZE;
      this.phase = 'c2';
    }
    if (this.phase === 'c2') {
      if (this.buf.length - offset < HANDSHAKE_SIZE) return this.keep(offset);
      offset += HANDSHAKE_SIZE;
      this.phase = 'chunks';
    }
    for (;;) {
      const used = this.readChunk(offset);
      if (used === 0) break;
      offset += used;
      if (this.phase !== 'chunks') return;
    }
    this.keep(offset);
  }

  private keep(offset: number): void {
    this.buf = offset === 0 ? this.buf : this.buf.subarray(offset);
  }

  /** Parses one chunk at `start`; returns the bytes it took, or 0 when it is not complete yet. */
  private readChunk(start: number): number {
    const buf = this.buf;
    let p = start;
    if (p >= buf.length) return 0;
    const fmt = buf[p]! >> 6;
    let csid = buf[p]! & 0x3f;
    p++;
    if (csid === 0) {
      if (p + 1 > buf.length) return 0;
      csid = 64 + buf[p]!;
      p += 1;
    } else if (csid === 1) {
      if (p + 2 > buf.length) return 0;
      csid = 64 + buf[p]! + buf[p + 1]! * 256;
      p += 2;
    }
    const headerLength = [11, 7, 3, 0][fmt]!;
    if (p + headerLength > buf.length) return 0;
    const prev = this.streams.get(csid);
    if (!prev && fmt !== 0) throw new Error(`chunk stream ${csid} starts with a type ${fmt} header`);
    const cs: ChunkStream = prev ?? {
      timestamp: 0,
      timestampField: 0,
      extended: false,
      length: 0,
      type: 0,
      streamId: 0,
      parts: [],
      received: 0,
    };
    let field = cs.timestampField;
    let length = cs.length;
    let type = cs.type;
    let streamId = cs.streamId;
    let extended = cs.extended;
    if (fmt <= 2) {
      field = buf.readUIntBE(p, 3);
      extended = field === 0xffffff;
    }
    if (fmt <= 1) {
      length = buf.readUIntBE(p + 3, 3);
      type = buf[p + 6]!;
    }
    if (fmt === 0) streamId = buf.readUInt32LE(p + 7);
    p += headerLength;
    if (extended) {
      if (p + 4 > buf.length) return 0;
      // A type 3 chunk repeats the extended timestamp of its header (as ffmpeg and librtmp write).
      if (fmt <= 2) field = buf.readUInt32BE(p);
      p += 4;
    }
    const newMessage = cs.received === 0;
    const size = Math.min(this.inChunkSize, (newMessage ? length : cs.length) - cs.received);
    if (p + size > buf.length) return 0;

    // The chunk is complete: commit the header.
    if (newMessage) {
      cs.timestamp = fmt === 0 ? field : cs.timestamp + field;
      cs.timestampField = field;
      cs.length = length;
      cs.type = type;
      cs.streamId = streamId;
      cs.extended = extended;
    }
    if (!prev) this.streams.set(csid, cs);
    cs.parts.push(buf.subarray(p, p + size));
    cs.received += size;
    p += size;
    if (cs.received >= cs.length) {
      const payload = cs.parts.length === 1 ? Buffer.from(cs.parts[0]!) : Buffer.concat(cs.parts);
      cs.parts = [];
      cs.received = 0;
      this.handleMessage({ type: cs.type, streamId: cs.streamId, timestamp: cs.timestamp, payload });
    }
    return p - start;
  }

  private handleMessage(msg: RtmpMessage): void {
    switch (msg.type) {
      case MSG.SET_CHUNK_SIZE: {
        const size = msg.payload.readUInt32BE(0) & 0x7fffffff;
        if (size < 1) throw new Error(`chunk size ${size}`);
        this.inChunkSize = size;
        return;
      }
      case MSG.ABORT:
        this.streams.delete(msg.payload.readUInt32BE(0));
        return;
      case MSG.WINDOW_ACK_SIZE:
        this.ackWindow = msg.payload.readUInt32BE(0);
        return;
      case MSG.COMMAND_AMF0:
        return this.command(decodeAmf0(msg.payload));
      case MSG.COMMAND_AMF3:
        // AMF3 command messages carry an AMF0 body after one format byte.
        return this.command(decodeAmf0(msg.payload.subarray(1)));
      case MSG.AUDIO:
      case MSG.VIDEO:
      case MSG.DATA_AMF0:
        if (this.publishState === 'live') this.sink!.message(msg);
        else if (this.publishState === 'pending') this.early.push(msg);
        return;
      default:
        return; // acks, user control, AMF3 data: nothing for a publish-only server to do
    }
  }

  private command(values: Amf0Value[]): void {
    const [name, txn] = values;
    const transactionId = typeof txn === 'number' ? txn : 0;
    switch (name) {
      case 'connect': {
        const obj = values[2];
        if (obj && typeof obj === 'object' && !Array.isArray(obj) && !(obj instanceof Date)) {
          this.app = typeof obj['app'] === 'string' ? obj['app'] : '';
          this.tcUrl = typeof obj['tcUrl'] === 'string' ? obj['tcUrl'] : '';
        }
        this.sendU32(MSG.WINDOW_ACK_SIZE, WINDOW_ACK_SIZE);
        this.send(CSID_CONTROL, MSG.SET_PEER_BANDWIDTH, 0, Buffer.from([0x00, 0x4c, 0x4b, 0x40, 2]));
        this.sendU32(MSG.SET_CHUNK_SIZE, OUT_CHUNK_SIZE);
        this.outChunkSize = OUT_CHUNK_SIZE;
        this.sendCommand(
          0,
          '_result',
          transactionId,
          { fmsVer: 'FMS/3,5,7,7009', capabilities: 31 },
          {
            level: 'status',
            code: 'NetConnection.Connect.Success',
            description: 'Connection succeeded.',
            objectEncoding: 0,
          },
        );
        return;
      }
      case 'createStream':
        this.sendCommand(0, '_result', transactionId, null, STREAM_ID);
        return;
      case 'publish':
        return this.publish(typeof values[3] === 'string' ? values[3] : '');
      case 'FCUnpublish':
      case 'deleteStream':
      case 'closeStream':
        this.endPublish();
        return;
      case 'play':
        this.status('error', 'NetStream.Play.Failed', 'This server only accepts publishing (OSS LiveChannel ingest).');
        this.socket.end();
        return;
      default:
        return; // releaseStream, FCPublish, _checkbw, ...: no answer needed by ffmpeg or OBS
    }
  }

  private publish(streamName: string): void {
    if (this.publishState !== 'none') {
      this.status('error', 'NetStream.Publish.BadName', 'This connection already published a stream.');
      return;
    }
    this.publishState = 'pending';
    const remoteAddr = `${this.socket.remoteAddress ?? ''}:${this.socket.remotePort ?? 0}`;
    this.handler
      .publish({ app: this.app, tcUrl: this.tcUrl, streamName, remoteAddr }, () => this.socket.end())
      .then(
        (sink) => {
          if (this.phase === 'closed') {
            sink.end();
            return;
          }
          this.sink = sink;
          this.publishState = 'live';
          const streamBegin = Buffer.alloc(6);
          streamBegin.writeUInt32BE(STREAM_ID, 2);
          this.send(CSID_CONTROL, MSG.USER_CONTROL, 0, streamBegin);
          this.status('status', 'NetStream.Publish.Start', `${streamName.split('?')[0]} is now published.`);
          for (const msg of this.early.splice(0)) sink.message(msg);
        },
        (err: unknown) => {
          this.publishState = 'ended';
          this.early = [];
          const refusal =
            err instanceof PublishRefused
              ? err
              : new PublishRefused('NetStream.Publish.Failed', `InternalError: ${(err as Error).message}`);
          this.status('error', refusal.code, refusal.description);
          this.socket.end();
        },
      );
  }

  private endPublish(): void {
    if (this.publishState === 'live') this.sink!.end();
    this.publishState = 'ended';
  }

  private closed(): void {
    this.phase = 'closed';
    this.endPublish();
  }

  private status(level: 'status' | 'error', code: string, description: string): void {
    this.sendCommand(STREAM_ID, 'onStatus', 0, null, { level, code, description });
  }

  private sendCommand(streamId: number, ...values: Amf0Value[]): void {
    this.send(streamId === 0 ? CSID_COMMAND : CSID_STATUS, MSG.COMMAND_AMF0, streamId, encodeAmf0(...values));
  }

  private sendU32(type: number, value: number): void {
    const body = Buffer.alloc(4);
    body.writeUInt32BE(value);
    this.send(CSID_CONTROL, type, 0, body);
  }

  /** One message: a type 0 chunk, then type 3 chunks of at most outChunkSize (timestamp 0: no extended field). */
  private send(csid: number, type: number, streamId: number, payload: Buffer): void {
    if (this.phase === 'closed' || this.socket.destroyed) return;
    const parts: Buffer[] = [];
    const header = Buffer.alloc(12);
    header[0] = csid;
    header.writeUIntBE(0, 1, 3);
    header.writeUIntBE(payload.length, 4, 3);
    header[7] = type;
    header.writeUInt32LE(streamId, 8);
    parts.push(header);
    for (let i = 0; i < payload.length; i += this.outChunkSize) {
      if (i > 0) parts.push(Buffer.from([0xc0 | csid]));
      parts.push(payload.subarray(i, i + this.outChunkSize));
    }
    this.socket.write(Buffer.concat(parts));
  }
}
