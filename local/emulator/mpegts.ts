/**
 * The emulator's one MPEG-TS muxer: H.264 access units and ADTS AAC frames into 188-byte
 * packets (PAT, PMT, one PES per frame, PCR on the video PID, random-access flag on key frames,
 * adaptation-field stuffing, continuity counters). Hand-written because npm has no maintained
 * TS muxer (mux.js and mpegts.js only demux/transmux). Two front ends share it:
 * - `createFragmentMuxer`, the simulated publisher: thousands of fragments must stay cheap, so
 *   each fixture frame is packetised once into a template, and a fragment is those templates
 *   copied with their continuity counters, PTS and PCR patched in;
 * - `TsMuxer`, the real RTMP ingest: one per push, muxing each FLV frame as it arrives.
 * Both put media time 0 at PTS 1.4 s with the PCR 0.7 s ahead of the frames (as ffmpeg's muxer
 * does), and run timestamps and counters on across fragments, so a session's VOD is one
 * continuous stream.
 */

const PACKET_SIZE = 188;
const PAT_PID = 0x0000;
const PMT_PID = 0x1000;
const VIDEO_PID = 0x0100;
const AUDIO_PID = 0x0101;
const STREAM_TYPE_H264 = 0x1b;
const STREAM_TYPE_ADTS_AAC = 0x0f;
const STREAM_ID_VIDEO = 0xe0;
const STREAM_ID_AUDIO = 0xc0;
/** PTS of media time 0, and how far the PCR runs ahead of the frames. */
const PTS_OFFSET = 126_000;
const PCR_LEAD = 63_000;
/** Timestamps are 33 bits: they wrap after 26.5 hours. */
const PTS_WRAP = 2 ** 33;

/** 90 kHz ticks: the MPEG-TS clock. */
export const TS_HZ = 90_000;

// ---- shared packet layer ----

let crcTable: Uint32Array | undefined;

/** CRC-32/MPEG-2 (poly 0x04C11DB7, not reflected, no final xor) of PSI sections. */
function crc32Mpeg(data: Buffer): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i << 24;
      for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
      crcTable[i] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const byte of data) crc = ((crc << 8) ^ crcTable[((crc >>> 24) ^ byte) & 0xff]!) >>> 0;
  return crc;
}

function psiPacket(pid: number, tableId: number, body: number[]): Buffer {
  // table_id, section_syntax_indicator + section_length, id 1, version 0 current, section 0/0.
  const sectionLength = 5 + body.length + 4;
  const section = Buffer.from([
    tableId,
    0xb0 | (sectionLength >> 8),
    sectionLength & 0xff,
    0x00,
    0x01,
    0xc1,
    0x00,
    0x00,
    ...body,
  ]);
  const packet = Buffer.alloc(PACKET_SIZE, 0xff);
  packet.set([0x47, 0x40 | (pid >> 8), pid & 0xff, 0x10, 0x00]); // pointer field 0
  section.copy(packet, 5);
  packet.writeUInt32BE(crc32Mpeg(section), 5 + section.length);
  return packet;
}

/**
 * PAT then PMT (PCR on the video PID), continuity counters 0: at the start of every fragment, so each plays on its own.
 */
function programTables(hasAudio: boolean): Buffer {
  const pat = psiPacket(PAT_PID, 0x00, [0x00, 0x01, 0xe0 | (PMT_PID >> 8), PMT_PID & 0xff]);
  const streams = [STREAM_TYPE_H264, 0xe0 | (VIDEO_PID >> 8), VIDEO_PID & 0xff, 0xf0, 0x00];
  if (hasAudio) streams.push(STREAM_TYPE_ADTS_AAC, 0xe0 | (AUDIO_PID >> 8), AUDIO_PID & 0xff, 0xf0, 0x00);
  const pmt = psiPacket(PMT_PID, 0x02, [0xe0 | (VIDEO_PID >> 8), VIDEO_PID & 0xff, 0xf0, 0x00, ...streams]);
  return Buffer.concat([pat, pmt]);
}

/** Numbers the packets of one PID in buf[at, end) from counter `cc` on; returns the next counter. */
function setContinuity(buf: Buffer, at: number, end: number, cc: number): number {
  for (let p = at; p < end; p += PACKET_SIZE) {
    buf[p + 3] = (buf[p + 3]! & 0xf0) | cc;
    cc = (cc + 1) & 0x0f;
  }
  return cc;
}

function wrap(ticks: number): number {
  const t = ticks % PTS_WRAP;
  return t < 0 ? t + PTS_WRAP : t;
}

/** The 5-byte PTS or DTS field (4-bit `prefix`) of media tick `mediaTicks`. */
function writeTimestamp(buf: Buffer, at: number, prefix: number, mediaTicks: number): void {
  const t = wrap(mediaTicks + PTS_OFFSET);
  buf[at] = (prefix << 4) | (Math.floor(t / 2 ** 30) << 1) | 1;
  buf[at + 1] = (t >>> 22) & 0xff;
  buf[at + 2] = ((t >>> 14) & 0xfe) | 1;
  buf[at + 3] = (t >>> 7) & 0xff;
  buf[at + 4] = ((t << 1) & 0xfe) | 1;
}

/**
 * The 6-byte PCR running PCR_LEAD ahead of a frame decoded at `mediaTicks`: 33-bit base, 6 reserved bits, 9-bit
 * extension 0.
 */
function writePcr(buf: Buffer, at: number, mediaTicks: number): void {
  const base = wrap(mediaTicks + PTS_OFFSET - PCR_LEAD);
  buf[at] = Math.floor(base / 2 ** 25) & 0xff;
  buf[at + 1] = (base >>> 17) & 0xff;
  buf[at + 2] = (base >>> 9) & 0xff;
  buf[at + 3] = (base >>> 1) & 0xff;
  buf[at + 4] = ((base & 1) << 7) | 0x7e;
  buf[at + 5] = 0;
}

/** One frame as TS packets (continuity counters 0). */
interface PesPackets {
  packets: Buffer;
  /** Offset of the 5-byte PTS in the first packet. */
  ptsAt: number;
  /** Offset of the 6-byte PCR in the first packet, or -1. */
  pcrAt: number;
}

/**
 * One PES split into TS packets: an adaptation field with the flags (and PCR, from the decode
 * time) in the first packet, adaptation-field stuffing in a short last one. Video PES leave
 * their length 0 (unbounded, allowed for video only); DTS only when it differs from PTS.
 */
function pesPackets(
  pid: number,
  payload: Buffer,
  time: { pts: number; dts?: number },
  first: { pcr: boolean; randomAccess: boolean },
): PesPackets {
  const video = pid === VIDEO_PID;
  const withDts = time.dts !== undefined;
  const header = Buffer.alloc(withDts ? 19 : 14);
  header.set([0, 0, 1, video ? STREAM_ID_VIDEO : STREAM_ID_AUDIO, 0, 0, 0x80, withDts ? 0xc0 : 0x80, withDts ? 10 : 5]);
  writeTimestamp(header, 9, withDts ? 0b0011 : 0b0010, time.pts);
  if (withDts) writeTimestamp(header, 14, 0b0001, time.dts!);
  const pesLength = header.length - 6 + payload.length;
  header.writeUInt16BE(video || pesLength > 0xffff ? 0 : pesLength, 4);
  const pes = Buffer.concat([header, payload]);

  const packets: Buffer[] = [];
  let ptsAt = 0;
  let pcrAt = -1;
  for (let offset = 0; offset < pes.length;) {
    const start = offset === 0;
    const packet = Buffer.alloc(PACKET_SIZE, 0xff);
    packet[0] = 0x47;
    packet[1] = (start ? 0x40 : 0) | (pid >> 8);
    packet[2] = pid & 0xff;
    const flags = start ? (first.randomAccess ? 0x40 : 0) | (first.pcr ? 0x10 : 0) : 0;
    // Adaptation field length (-1: none): flags byte plus PCR; a short last packet grows it
    // with stuffing (length 0 is the length byte alone, more carries flags then 0xff).
    let fieldLength = flags === 0 ? -1 : 1 + (first.pcr ? 6 : 0);
    const remaining = pes.length - offset;
    if (remaining < PACKET_SIZE - 4 - (fieldLength + 1)) fieldLength = PACKET_SIZE - 4 - 1 - remaining;
    if (fieldLength >= 0) {
      packet[3] = 0x30;
      packet[4] = fieldLength;
      if (fieldLength > 0) packet[5] = flags;
      if (start && first.pcr) {
        pcrAt = 6;
        writePcr(packet, pcrAt, time.dts ?? time.pts);
      }
    } else {
      packet[3] = 0x10;
    }
    const payloadAt = 4 + (fieldLength + 1);
    const take = Math.min(PACKET_SIZE - payloadAt, remaining);
    pes.copy(packet, payloadAt, offset, offset + take);
    if (start) ptsAt = payloadAt + 9;
    offset += take;
    packets.push(packet);
  }
  return { packets: Buffer.concat(packets), ptsAt, pcrAt };
}

// ---- simulated publisher: fixture templates ----

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

export interface FragmentMuxer {
  /**
   * The fragment of `videoFrames` frames starting at `timeline`: video frame i is
   * template i % gop (fragments start on a key frame), audio frames are those whose PTS lies in
   * the fragment's span, on a grid continuous across fragments.
   */
  fragment(timeline: TsTimeline, videoFrames: number): { body: Buffer; next: TsTimeline };
}

/**
 * Copies a frame template to `at`, with its PTS (= DTS: the fixture has no B-frames), PCR and counters; returns the
 * next counter.
 */
function stamp(body: Buffer, at: number, template: PesPackets, counter: number, pts: number): number {
  template.packets.copy(body, at);
  writeTimestamp(body, at + template.ptsAt, 0b0010, pts);
  if (template.pcrAt >= 0) writePcr(body, at + template.pcrAt, pts);
  return setContinuity(body, at, at + template.packets.length, counter);
}

/**
 * `video`: one GOP of H.264 access units (Annex B, the first an IDR) at `frameTicks` each;
 * `audio`: ADTS frames of `audioFrameTicks` each, cycled (a steady tone, so any frame may follow
 * any other).
 */
export function createFragmentMuxer(media: {
  video: Buffer[];
  audio: Buffer[];
  frameTicks: number;
  audioFrameTicks: number;
}): FragmentMuxer {
  const { frameTicks, audioFrameTicks } = media;
  const tables = programTables(true);
  const video = media.video.map((au, i) => pesPackets(VIDEO_PID, au, { pts: 0 }, { pcr: true, randomAccess: i === 0 }));
  const audio = media.audio.map((frame) =>
    pesPackets(AUDIO_PID, frame, { pts: 0 }, { pcr: false, randomAccess: false }),
  );

  return {
    fragment(timeline, videoFrames) {
      const start = timeline.tick;
      const end = start + videoFrames * frameTicks;
      const firstAudio = Math.ceil(start / audioFrameTicks);
      const audioFrames = Math.max(0, Math.ceil(end / audioFrameTicks) - firstAudio);
      let size = tables.length;
      for (let i = 0; i < videoFrames; i++) size += video[i % video.length]!.packets.length;
      for (let k = firstAudio; k < firstAudio + audioFrames; k++) size += audio[k % audio.length]!.packets.length;
      const body = Buffer.allocUnsafe(size);
      let { video: videoCc, audio: audioCc } = timeline.counters;
      tables.copy(body, 0);
      const patCc = setContinuity(body, 0, PACKET_SIZE, timeline.counters.pat);
      const pmtCc = setContinuity(body, PACKET_SIZE, 2 * PACKET_SIZE, timeline.counters.pmt);
      let at = tables.length;
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

// ---- real RTMP ingest: frames as they arrive ----

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

function msToTicks(ms: number): number {
  return Math.round(ms * (TS_HZ / 1000));
}

/** One muxer per push: its continuity counters run on across the push's fragments. */
export class TsMuxer {
  private counters = new Map<number, number>();
  private out: Buffer[] = [];

  constructor(private hasAudio: () => boolean) {}

  /** What was muxed since the last take. */
  take(): Buffer {
    const data = Buffer.concat(this.out);
    this.out = [];
    return data;
  }

  /** PAT and PMT, at the start of each fragment; the PMT lists audio once the push has sent its config. */
  tables(): void {
    const tables = programTables(this.hasAudio());
    this.emit(PAT_PID, tables.subarray(0, PACKET_SIZE));
    this.emit(PMT_PID, tables.subarray(PACKET_SIZE));
  }

  video(unit: VideoUnit): void {
    const time = { pts: msToTicks(unit.dts + unit.cts), dts: msToTicks(unit.dts) };
    this.emit(VIDEO_PID, pesPackets(VIDEO_PID, unit.data, time, { pcr: true, randomAccess: unit.keyframe }).packets);
  }

  audio(unit: AudioUnit): void {
    this.emit(
      AUDIO_PID,
      pesPackets(AUDIO_PID, unit.data, { pts: msToTicks(unit.pts) }, { pcr: false, randomAccess: false }).packets,
    );
  }

  private emit(pid: number, packets: Buffer): void {
    this.counters.set(pid, setContinuity(packets, 0, packets.length, this.counters.get(pid) ?? 0));
    this.out.push(packets);
  }
}
