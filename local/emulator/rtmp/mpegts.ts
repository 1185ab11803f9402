/**
 * An MPEG-TS muxer for H.264 + AAC, enough for HLS fragments: PAT/PMT at the start of every
 * fragment, PES packets with PTS/DTS, PCR on the video PID, random-access flags on key frames.
 * One muxer lives for a whole push, so continuity counters and timestamps run on across
 * fragments: the VOD of a session is one continuous stream.
 */
const PACKET = 188;
const PMT_PID = 0x1000;
const VIDEO_PID = 0x100;
const AUDIO_PID = 0x101;
/** PTS/DTS = media ms × 90 + this (1.4 s, as ffmpeg's muxer), so the PCR can run ahead of them. */
const TS_OFFSET = 126_000;
const PCR_LEAD = 63_000;

export interface VideoUnit {
  /** Decode time, ms (the FLV timestamp). */
  dts: number;
  /** Presentation time minus decode time, ms (the FLV composition time). */
  cts: number;
  keyframe: boolean;
  /** Annex B access unit (start codes, AUD first). */
  data: Buffer;
}

export interface AudioUnit {
  pts: number;
  /** ADTS frame(s). */
  data: Buffer;
}

let crcTable: Uint32Array | undefined;

/** CRC-32/MPEG-2 of PSI sections. */
function crc32(buf: Buffer): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i << 24;
      for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
      crcTable[i] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const b of buf) crc = ((crc << 8) ^ crcTable[((crc >>> 24) ^ b) & 0xff]!) >>> 0;
  return crc >>> 0;
}

function ticks(ms: number): number {
  // 33-bit wrap, as the format does after 26.5 hours.
  return (Math.round(ms * 90) + TS_OFFSET) % 2 ** 33;
}

/** The 5-byte PTS or DTS field with its 4-bit prefix. */
function timestampField(prefix: number, t: number): Buffer {
  const b = Buffer.alloc(5);
  const high = Math.floor(t / 2 ** 30) & 0x07;
  b[0] = (prefix << 4) | (high << 1) | 1;
  const mid = Math.floor(t / 2 ** 15) & 0x7fff;
  b.writeUInt16BE((mid << 1) | 1, 1);
  const low = t & 0x7fff;
  b.writeUInt16BE((low << 1) | 1, 3);
  return b;
}

export class TsMuxer {
  private cc = new Map<number, number>();
  private out: Buffer[] = [];

  constructor(private hasAudio: () => boolean) {}

  /** What was muxed since the last take. */
  take(): Buffer {
    const data = Buffer.concat(this.out);
    this.out = [];
    return data;
  }

  /** PAT and PMT: written at the start of each fragment so every fragment plays on its own. */
  tables(): void {
    const pat = Buffer.from([0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xe0 | (PMT_PID >> 8), PMT_PID & 0xff]);
    this.section(0, pat);
    const streams = [[0x1b, VIDEO_PID]];
    if (this.hasAudio()) streams.push([0x0f, AUDIO_PID]);
    const body = [0x02, 0xb0, 0x00, 0x00, 0x01, 0xc1, 0x00, 0x00, 0xe0 | (VIDEO_PID >> 8), VIDEO_PID & 0xff, 0xf0, 0x00];
    for (const [type, pid] of streams) body.push(type!, 0xe0 | (pid! >> 8), pid! & 0xff, 0xf0, 0x00);
    body[2] = body.length - 3 + 4; // section length: after the length field, CRC included
    this.section(PMT_PID, Buffer.from(body));
  }

  video(unit: VideoUnit): void {
    const dts = ticks(unit.dts);
    const pts = ticks(unit.dts + unit.cts);
    const header = Buffer.concat([Buffer.from([0x00, 0x00, 0x01, 0xe0, 0x00, 0x00, 0x80, 0xc0, 10]), timestampField(3, pts), timestampField(1, dts)]);
    // PES length 0: unbounded, allowed for video only.
    this.pes(VIDEO_PID, Buffer.concat([header, unit.data]), { pcr: Math.max(0, dts - PCR_LEAD), randomAccess: unit.keyframe });
  }

  audio(unit: AudioUnit): void {
    const header = Buffer.concat([Buffer.from([0x00, 0x00, 0x01, 0xc0, 0x00, 0x00, 0x80, 0x80, 5]), timestampField(2, ticks(unit.pts))]);
    const pesLength = header.length - 6 + unit.data.length;
    header.writeUInt16BE(pesLength > 0xffff ? 0 : pesLength, 4);
    this.pes(AUDIO_PID, Buffer.concat([header, unit.data]), {});
  }

  private counter(pid: number): number {
    const c = this.cc.get(pid) ?? 0;
    this.cc.set(pid, (c + 1) & 0x0f);
    return c;
  }

  private section(pid: number, table: Buffer): void {
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(table));
    const packet = Buffer.alloc(PACKET, 0xff);
    packet[0] = 0x47;
    packet[1] = 0x40 | (pid >> 8);
    packet[2] = pid & 0xff;
    packet[3] = 0x10 | this.counter(pid);
    packet[4] = 0; // pointer field
    table.copy(packet, 5);
    crc.copy(packet, 5 + table.length);
    this.out.push(packet);
  }

  /** Splits one PES packet into TS packets; the last one is padded with adaptation-field stuffing. */
  private pes(pid: number, pes: Buffer, first: { pcr?: number; randomAccess?: boolean }): void {
    let offset = 0;
    let start = true;
    while (offset < pes.length) {
      const packet = Buffer.alloc(PACKET);
      packet[0] = 0x47;
      packet[1] = (start ? 0x40 : 0) | (pid >> 8);
      packet[2] = pid & 0xff;
      // Adaptation field: flags (+ PCR) on the first packet, stuffing on a short last one.
      let adaptation: Buffer | undefined;
      if (start && (first.pcr !== undefined || first.randomAccess)) {
        const flags = (first.randomAccess ? 0x40 : 0) | (first.pcr !== undefined ? 0x10 : 0);
        adaptation = Buffer.from([0, flags]);
        if (first.pcr !== undefined) {
          const pcr = Buffer.alloc(6);
          const base = first.pcr;
          pcr.writeUInt32BE(Math.floor(base / 2) >>> 0, 0);
          pcr[4] = ((base & 1) << 7) | 0x7e;
          pcr[5] = 0;
          adaptation = Buffer.concat([adaptation, pcr]);
        }
      }
      const room = PACKET - 4 - (adaptation?.length ?? 0);
      const remaining = pes.length - offset;
      if (remaining < room) {
        const stuffing = room - remaining;
        if (adaptation) adaptation = Buffer.concat([adaptation, Buffer.alloc(stuffing, 0xff)]);
        // A one-byte adaptation field is just its length (0); two or more carry flags then 0xff.
        else adaptation = stuffing === 1 ? Buffer.from([0]) : Buffer.concat([Buffer.from([0, 0]), Buffer.alloc(stuffing - 2, 0xff)]);
      }
      if (adaptation) adaptation[0] = adaptation.length - 1;
      packet[3] = (adaptation ? 0x30 : 0x10) | this.counter(pid);
      let p = 4;
      if (adaptation) p += adaptation.copy(packet, p);
      const n = PACKET - p;
      pes.copy(packet, p, offset, offset + n);
      offset += n;
      start = false;
      this.out.push(packet);
    }
  }
}
