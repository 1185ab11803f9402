/**
 * A minimal MPEG-TS muxer for the simulated publisher: H.264 access units and ADTS AAC frames
 * into 188-byte packets (PAT, PMT, one PES per frame, PCR on the video PID). Hand-written
 * because npm has no maintained TS muxer (mux.js and mpegts.js only demux/transmux), and
 * because thousands of fragments must stay cheap: each frame is packetized once into a
 * template, and a fragment is those templates copied with their continuity counters, PTS and
 * PCR patched in.
 */

const PACKET_SIZE = 188;
const PAT_PID = 0x0000;
const PMT_PID = 0x1000;
const VIDEO_PID = 0x0100;
const AUDIO_PID = 0x0101;
const STREAM_TYPE_H264 = 0x1b;
const STREAM_TYPE_ADTS_AAC = 0x0f;
/** PTS of media time 0, and how far the PCR runs ahead of it; ffmpeg's muxer uses the same 1.4 s / 0.7 s. */
const PTS_OFFSET = 126_000;
const PCR_LEAD = 63_000;
const PTS_WRAP = 2 ** 33;

/** 90 kHz ticks: the MPEG-TS clock. */
export const TS_HZ = 90_000;

/**
 * Where a channel's media timeline stands after its last fragment: the next media tick and the
 * next continuity counter of each PID. Each fragment continues it, so fragments played back to
 * back (a VOD) form one stream with no timestamp or counter jump.
 */
export interface TsTimeline {
  tick: number;
  counters: { pat: number; pmt: number; video: number; audio: number };
}

export const TIMELINE_START: TsTimeline = { tick: 0, counters: { pat: 0, pmt: 0, video: 0, audio: 0 } };

/** A frame ready to copy: its packets with PUSI, PES header and padding in place. */
interface FrameTemplate {
  packets: Buffer;
  /** Offset of the 5-byte PTS in the first packet. */
  ptsAt: number;
  /** Offset of the 6-byte PCR in the first packet, or -1. */
  pcrAt: number;
}

export interface TsMuxer {
  /**
   * The fragment of `videoFrames` frames starting at `timeline`: video frame i is
   * template i % gop (fragments start on a key frame), audio frames are those whose PTS lies in
   * the fragment's span, on a grid continuous across fragments.
   */
  fragment(timeline: TsTimeline, videoFrames: number): { body: Buffer; next: TsTimeline };
}

/** CRC-32/MPEG-2 (poly 0x04C11DB7, not reflected, no final xor) of PSI sections. */
function crc32Mpeg(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte << 24;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
  }
  return crc >>> 0;
}

function psiPacket(pid: number, tableId: number, idExtension: number, body: number[]): Buffer {
  // table_id, section_syntax_indicator + section_length, id, version 0 current, section 0/0.
  const sectionLength = 5 + body.length + 4;
  const section = Buffer.from([tableId, 0xb0 | (sectionLength >> 8), sectionLength & 0xff, idExtension >> 8, idExtension & 0xff, 0xc1, 0x00, 0x00, ...body]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32Mpeg(section));
  const packet = Buffer.alloc(PACKET_SIZE, 0xff);
  packet.set([0x47, 0x40 | (pid >> 8), pid & 0xff, 0x10, 0x00]);
  Buffer.concat([section, crc]).copy(packet, 5);
  return packet;
}

function writeTimestamp(buf: Buffer, at: number, marker: number, ticks: number): void {
  const t = ticks % PTS_WRAP;
  buf[at] = (marker << 4) | (Math.floor(t / 2 ** 30) << 1) | 1;
  buf[at + 1] = (t >>> 22) & 0xff;
  buf[at + 2] = ((t >>> 14) & 0xfe) | 1;
  buf[at + 3] = (t >>> 7) & 0xff;
  buf[at + 4] = ((t << 1) & 0xfe) | 1;
}

function writePcr(buf: Buffer, at: number, ticks: number): void {
  // 33-bit base, 6 reserved bits, 9-bit extension (0).
  const base = ((ticks % PTS_WRAP) + PTS_WRAP) % PTS_WRAP;
  buf[at] = Math.floor(base / 2 ** 25) & 0xff;
  buf[at + 1] = (base >>> 17) & 0xff;
  buf[at + 2] = (base >>> 9) & 0xff;
  buf[at + 3] = (base >>> 1) & 0xff;
  buf[at + 4] = ((base & 1) << 7) | 0x7e;
  buf[at + 5] = 0;
}

/** One PES (PTS only: the fixture has no B-frames, so DTS = PTS) split into TS packets. */
function frameTemplate(pid: number, streamId: number, payload: Buffer, opts: { pcr: boolean; randomAccess: boolean }): FrameTemplate {
  const header = Buffer.from([0, 0, 1, streamId, 0, 0, 0x80, 0x80, 5, 0, 0, 0, 0, 0]);
  // Video PES may leave the length 0 (unbounded); audio gives it.
  const pesLength = streamId === 0xe0 ? 0 : header.length - 6 + payload.length;
  header.writeUInt16BE(pesLength, 4);
  const pes = Buffer.concat([header, payload]);
  const packets: Buffer[] = [];
  let ptsAt = 0;
  let pcrAt = -1;
  for (let offset = 0; offset < pes.length; ) {
    const first = offset === 0;
    const packet = Buffer.alloc(PACKET_SIZE, 0xff);
    packet[0] = 0x47;
    packet[1] = (first ? 0x40 : 0) | (pid >> 8);
    packet[2] = pid & 0xff;
    // Adaptation field: flags byte, then the PCR when it carries one.
    const flags = first ? (opts.randomAccess ? 0x40 : 0) | (opts.pcr ? 0x10 : 0) : 0;
    const fieldBody = flags === 0 ? 0 : 1 + (opts.pcr ? 6 : 0);
    const remaining = pes.length - offset;
    // Without a field the payload gets 184 bytes; a field costs its length byte plus body.
    let fieldLength = fieldBody === 0 ? -1 : fieldBody;
    const room = PACKET_SIZE - 4 - (fieldLength + 1);
    if (remaining < room) fieldLength = PACKET_SIZE - 4 - 1 - remaining; // stuff the last packet
    if (fieldLength >= 0) {
      packet[3] = 0x30;
      packet[4] = fieldLength;
      if (fieldLength > 0) packet[5] = flags;
      if (first && opts.pcr) pcrAt = 6;
    } else {
      packet[3] = 0x10;
    }
    const payloadAt = 4 + (fieldLength >= 0 ? fieldLength + 1 : 0);
    const take = Math.min(PACKET_SIZE - payloadAt, remaining);
    pes.copy(packet, payloadAt, offset, offset + take);
    if (first) ptsAt = payloadAt + 9;
    offset += take;
    packets.push(packet);
  }
  return { packets: Buffer.concat(packets), ptsAt, pcrAt };
}

function stamp(body: Buffer, at: number, template: FrameTemplate, counter: number, pts: number): number {
  template.packets.copy(body, at);
  writeTimestamp(body, at + template.ptsAt, 0b0010, pts + PTS_OFFSET);
  if (template.pcrAt >= 0) writePcr(body, at + template.pcrAt, pts + PTS_OFFSET - PCR_LEAD);
  let cc = counter;
  for (let p = at; p < at + template.packets.length; p += PACKET_SIZE) {
    body[p + 3] = (body[p + 3]! & 0xf0) | cc;
    cc = (cc + 1) & 0x0f;
  }
  return cc;
}

/**
 * `video`: one GOP of H.264 access units (Annex B, the first an IDR) at `frameTicks` each;
 * `audio`: ADTS frames of `audioFrameTicks` each, cycled (a steady tone, so any frame may follow
 * any other).
 */
export function createTsMuxer(media: { video: Buffer[]; audio: Buffer[]; frameTicks: number; audioFrameTicks: number }): TsMuxer {
  const { frameTicks, audioFrameTicks } = media;
  const pat = psiPacket(PAT_PID, 0x00, 1, [0x00, 0x01, 0xe0 | (PMT_PID >> 8), PMT_PID & 0xff]);
  const pmt = psiPacket(PMT_PID, 0x02, 1, [
    0xe0 | (VIDEO_PID >> 8), VIDEO_PID & 0xff, 0xf0, 0x00,
    STREAM_TYPE_H264, 0xe0 | (VIDEO_PID >> 8), VIDEO_PID & 0xff, 0xf0, 0x00,
    STREAM_TYPE_ADTS_AAC, 0xe0 | (AUDIO_PID >> 8), AUDIO_PID & 0xff, 0xf0, 0x00,
  ]);
  const video = media.video.map((au, i) => frameTemplate(VIDEO_PID, 0xe0, au, { pcr: true, randomAccess: i === 0 }));
  const audio = media.audio.map((frame) => frameTemplate(AUDIO_PID, 0xc0, frame, { pcr: false, randomAccess: false }));

  return {
    fragment(timeline, videoFrames) {
      const start = timeline.tick;
      const end = start + videoFrames * frameTicks;
      const firstAudio = Math.ceil(start / audioFrameTicks);
      const audioFrames = Math.max(0, Math.ceil(end / audioFrameTicks) - firstAudio);
      let size = 2 * PACKET_SIZE;
      for (let i = 0; i < videoFrames; i++) size += video[i % video.length]!.packets.length;
      for (let k = firstAudio; k < firstAudio + audioFrames; k++) size += audio[k % audio.length]!.packets.length;
      const body = Buffer.allocUnsafe(size);
      let { pat: patCc, pmt: pmtCc, video: videoCc, audio: audioCc } = timeline.counters;
      pat.copy(body, 0);
      body[3] = 0x10 | patCc;
      patCc = (patCc + 1) & 0x0f;
      pmt.copy(body, PACKET_SIZE);
      body[PACKET_SIZE + 3] = 0x10 | pmtCc;
      pmtCc = (pmtCc + 1) & 0x0f;
      let at = 2 * PACKET_SIZE;
      // Frames in decoding order, video first on equal timestamps.
      let v = 0;
      let a = firstAudio;
      while (v < videoFrames || a < firstAudio + audioFrames) {
        const videoPts = start + v * frameTicks;
        if (v < videoFrames && (a >= firstAudio + audioFrames || videoPts <= a * audioFrameTicks)) {
          const template = video[v % video.length]!;
          videoCc = stamp(body, at, template, videoCc, videoPts);
          at += template.packets.length;
          v++;
        } else {
          const template = audio[a % audio.length]!;
          audioCc = stamp(body, at, template, audioCc, a * audioFrameTicks);
          at += template.packets.length;
          a++;
        }
      }
      return { body, next: { tick: end, counters: { pat: patCc, pmt: pmtCc, video: videoCc, audio: audioCc } } };
    },
  };
}
