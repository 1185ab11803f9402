/**
 * FLV audio/video tag bodies (what RTMP audio and video messages carry) turned into what an
 * MPEG-TS muxer takes: H.264 access units in Annex B form (AUD, SPS/PPS before key frames) and
 * AAC frames with ADTS headers. OSS takes H.264 video and AAC audio only (reference §12.1);
 * anything else is dropped and counted.
 */
import type { AudioUnit, VideoUnit } from '../mpegts';

const AVC = 7;
const AAC = 10;
const START_CODE = Buffer.from([0, 0, 0, 1]);
const AUD = Buffer.from([0, 0, 0, 1, 0x09, 0xf0]);
const SAMPLE_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

interface AacConfig {
  objectType: number;
  frequencyIndex: number;
  channels: number;
}

export type ParsedVideo = { kind: 'config' } | { kind: 'frame'; unit: VideoUnit } | { kind: 'dropped'; reason: string };
export type ParsedAudio = { kind: 'config' } | { kind: 'frame'; unit: AudioUnit } | { kind: 'dropped'; reason: string };

function readInt24(buf: Buffer, offset: number): number {
  const v = buf.readUIntBE(offset, 3);
  return v & 0x800000 ? v - 0x1000000 : v;
}

export class FlvDepacketizer {
  private nalLengthSize = 4;
  private parameterSets: Buffer[] = [];
  private aac: AacConfig | undefined;

  get audioSampleRate(): number | undefined {
    return this.aac && SAMPLE_RATES[this.aac.frequencyIndex];
  }

  get hasVideoConfig(): boolean {
    return this.parameterSets.length > 0;
  }

  get hasAudioConfig(): boolean {
    return this.aac !== undefined;
  }

  video(timestamp: number, body: Buffer): ParsedVideo {
    if (body.length < 5) return { kind: 'dropped', reason: 'empty video tag' };
    if (body[0]! & 0x80 || (body[0]! & 0x0f) !== AVC)
      return { kind: 'dropped', reason: 'video is not H.264 (OSS takes H.264 only)' };
    const keyframe = body[0]! >> 4 === 1;
    const packetType = body[1];
    if (packetType === 0) {
      this.readDecoderConfig(body.subarray(5));
      return { kind: 'config' };
    }
    if (packetType !== 1) return { kind: 'dropped', reason: 'end of sequence' };
    if (!this.hasVideoConfig) return { kind: 'dropped', reason: 'H.264 frame before its decoder configuration' };
    const parts: Buffer[] = [AUD];
    const nals: Buffer[] = [];
    let hasParameterSets = false;
    for (let p = 5; p + this.nalLengthSize <= body.length;) {
      const length = body.readUIntBE(p, this.nalLengthSize);
      p += this.nalLengthSize;
      const nal = body.subarray(p, Math.min(body.length, p + length));
      p += length;
      const type = (nal[0] ?? 0) & 0x1f;
      if (type === 9) continue; // our own AUD leads
      if (type === 7) hasParameterSets = true;
      nals.push(nal);
    }
    if (keyframe && !hasParameterSets) for (const ps of this.parameterSets) parts.push(START_CODE, ps);
    for (const nal of nals) parts.push(START_CODE, nal);
    return { kind: 'frame', unit: { dts: timestamp, cts: readInt24(body, 2), keyframe, data: Buffer.concat(parts) } };
  }

  audio(timestamp: number, body: Buffer): ParsedAudio {
    if (body.length < 2) return { kind: 'dropped', reason: 'empty audio tag' };
    if (body[0]! >> 4 !== AAC) return { kind: 'dropped', reason: 'audio is not AAC (OSS takes AAC only)' };
    if (body[1] === 0) {
      if (body.length < 4) return { kind: 'dropped', reason: 'short AudioSpecificConfig' };
      this.aac = {
        objectType: body[2]! >> 3,
        frequencyIndex: ((body[2]! & 0x07) << 1) | (body[3]! >> 7),
        channels: (body[3]! >> 3) & 0x0f,
      };
      return { kind: 'config' };
    }
    if (!this.aac) return { kind: 'dropped', reason: 'AAC frame before its AudioSpecificConfig' };
    const raw = body.subarray(2);
    return { kind: 'frame', unit: { pts: timestamp, data: Buffer.concat([this.adtsHeader(raw.length), raw]) } };
  }

  /** AVCDecoderConfigurationRecord: NAL length size, SPS and PPS. */
  private readDecoderConfig(record: Buffer): void {
    if (record.length < 7) return;
    this.nalLengthSize = (record[4]! & 0x03) + 1;
    const sets: Buffer[] = [];
    let p = 5;
    for (const countMask of [0x1f, 0xff]) {
      const count = (record[p] ?? 0) & countMask;
      p++;
      for (let i = 0; i < count && p + 2 <= record.length; i++) {
        const length = record.readUInt16BE(p);
        sets.push(record.subarray(p + 2, p + 2 + length));
        p += 2 + length;
      }
    }
    this.parameterSets = sets.map((s) => Buffer.from(s));
  }

  private adtsHeader(rawLength: number): Buffer {
    const { objectType, frequencyIndex, channels } = this.aac!;
    const frameLength = rawLength + 7;
    return Buffer.from([
      0xff,
      0xf1,
      (((objectType - 1) & 0x03) << 6) | (frequencyIndex << 2) | (channels >> 2),
      ((channels & 0x03) << 6) | (frameLength >> 11),
      (frameLength >> 3) & 0xff,
      ((frameLength & 0x07) << 5) | 0x1f,
      0xfc,
    ]);
  }
}
