/**
 * AMF0 (Action Message Format 0), the encoding of RTMP commands and stream metadata: just the
 * types encoders send (ffmpeg, OBS/librtmp) and the ones the server answers with.
 */
export type Amf0Value =
  number | boolean | string | null | undefined | Date | Amf0Value[] | { [name: string]: Amf0Value };

const NUMBER = 0x00;
const BOOLEAN = 0x01;
const STRING = 0x02;
const OBJECT = 0x03;
const NULL = 0x05;
const UNDEFINED = 0x06;
const ECMA_ARRAY = 0x08;
const OBJECT_END = 0x09;
const STRICT_ARRAY = 0x0a;
const DATE = 0x0b;
const LONG_STRING = 0x0c;

export class Amf0Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Amf0Error';
  }
}

class Reader {
  offset = 0;
  constructor(private buf: Buffer) {}

  need(n: number): void {
    if (this.offset + n > this.buf.length) throw new Amf0Error(`truncated AMF0 value at byte ${this.offset}`);
  }

  u8(): number {
    this.need(1);
    return this.buf.readUInt8(this.offset++);
  }

  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  double(): number {
    this.need(8);
    const v = this.buf.readDoubleBE(this.offset);
    this.offset += 8;
    return v;
  }

  utf8(length: number): string {
    this.need(length);
    const s = this.buf.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return s;
  }

  get done(): boolean {
    return this.offset >= this.buf.length;
  }

  /** Name/value pairs up to the 00 00 09 end marker (objects and ECMA arrays). */
  properties(): Record<string, Amf0Value> {
    const out: Record<string, Amf0Value> = {};
    for (;;) {
      const name = this.utf8(this.u16());
      if (name === '' && this.buf[this.offset] === OBJECT_END) {
        this.offset++;
        return out;
      }
      out[name] = this.value();
    }
  }

  value(): Amf0Value {
    const marker = this.u8();
    switch (marker) {
      case NUMBER:
        return this.double();
      case BOOLEAN:
        return this.u8() !== 0;
      case STRING:
        return this.utf8(this.u16());
      case LONG_STRING:
        return this.utf8(this.u32());
      case OBJECT:
        return this.properties();
      case ECMA_ARRAY:
        this.u32(); // approximate count; the end marker is what counts
        return this.properties();
      case STRICT_ARRAY: {
        const n = this.u32();
        const out: Amf0Value[] = [];
        for (let i = 0; i < n; i++) out.push(this.value());
        return out;
      }
      case DATE: {
        const ms = this.double();
        this.need(2);
        this.offset += 2; // time zone: unused by AMF0 writers
        return new Date(ms);
      }
      case NULL:
        return null;
      case UNDEFINED:
        return undefined;
      default:
        throw new Amf0Error(`unsupported AMF0 type 0x${marker.toString(16)} at byte ${this.offset - 1}`);
    }
  }
}

/** Every value in `buf`, in order (a command: name, transaction id, command object, arguments). */
export function decodeAmf0(buf: Buffer): Amf0Value[] {
  const reader = new Reader(buf);
  const values: Amf0Value[] = [];
  while (!reader.done) values.push(reader.value());
  return values;
}

function encodeString(s: string): Buffer {
  const body = Buffer.from(s, 'utf8');
  const head = Buffer.alloc(3);
  head[0] = STRING;
  head.writeUInt16BE(body.length, 1);
  return Buffer.concat([head, body]);
}

function encodeValue(v: Amf0Value): Buffer {
  if (v === null) return Buffer.from([NULL]);
  if (v === undefined) return Buffer.from([UNDEFINED]);
  if (typeof v === 'number') {
    const b = Buffer.alloc(9);
    b[0] = NUMBER;
    b.writeDoubleBE(v, 1);
    return b;
  }
  if (typeof v === 'boolean') return Buffer.from([BOOLEAN, v ? 1 : 0]);
  if (typeof v === 'string') return encodeString(v);
  if (v instanceof Date) {
    const b = Buffer.alloc(11);
    b[0] = DATE;
    b.writeDoubleBE(v.getTime(), 1);
    return b;
  }
  if (Array.isArray(v)) {
    const head = Buffer.alloc(5);
    head[0] = STRICT_ARRAY;
    head.writeUInt32BE(v.length, 1);
    return Buffer.concat([head, ...v.map(encodeValue)]);
  }
  const parts: Buffer[] = [Buffer.from([OBJECT])];
  for (const [name, value] of Object.entries(v)) {
    const key = Buffer.from(name, 'utf8');
    const len = Buffer.alloc(2);
    len.writeUInt16BE(key.length);
    parts.push(len, key, encodeValue(value));
  }
  parts.push(Buffer.from([0, 0, OBJECT_END]));
  return Buffer.concat(parts);
}

export function encodeAmf0(...values: Amf0Value[]): Buffer {
  return Buffer.concat(values.map(encodeValue));
}
