/**
 * CRC-64/XZ, which OSS reports as `x-oss-hash-crc64ecma` (decimal): the ECMA-182 polynomial
 * 0x42F0E1EBA9EA3693, reflected (0xC96C5795D7870F42), initial value and final xor all ones.
 * Check value: crc64("123456789") = 0x995DC9BBDF1939FA. Byte-at-a-time over a 256-entry table
 * split into 32-bit halves, so no BigInt runs per byte.
 */
const REFLECTED_POLY = 0xc96c5795d7870f42n;
const TABLE_HI = new Uint32Array(256);
const TABLE_LO = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let crc = BigInt(i);
  for (let bit = 0; bit < 8; bit++) crc = crc & 1n ? (crc >> 1n) ^ REFLECTED_POLY : crc >> 1n;
  TABLE_HI[i] = Number(crc >> 32n);
  TABLE_LO[i] = Number(crc & 0xffffffffn);
}

/** A running CRC-64: feed the body in chunks, read `value` (decimal string) at the end. */
export class Crc64 {
  // The register, complemented (init all ones), as two unsigned 32-bit halves.
  private hi = 0xffffffff;
  private lo = 0xffffffff;

  update(chunk: Uint8Array): this {
    let { hi, lo } = this;
    for (let i = 0; i < chunk.length; i++) {
      const index = (lo ^ chunk[i]!) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ TABLE_LO[index]!;
      hi = (hi >>> 8) ^ TABLE_HI[index]!;
    }
    this.hi = hi >>> 0;
    this.lo = lo >>> 0;
    return this;
  }

  /** The CRC so far (final xor applied) as OSS writes it: an unsigned decimal. */
  get value(): string {
    return ((BigInt(~this.hi >>> 0) << 32n) | BigInt(~this.lo >>> 0)).toString();
  }
}

export function crc64(body: Uint8Array): string {
  return new Crc64().update(body).value;
}
