/**
 * ZIP archives as PyTorch uses them (`torch.save`'s container). Reading parses the central
 * directory itself so that stored entries (PyTorch never compresses) are zero-copy views into
 * the file; deflated entries, which other tools may produce, are inflated by Node's zlib, only
 * after their declared size has been charged to the load's byte budget, and refused if they
 * inflate to more (or less) than declared. Zip64 is understood. Every size and offset is checked
 * against the file, and CRC-32s are verified.
 * Writing produces stored entries whose data start on 64-byte boundaries, as PyTorch's writer
 * does (padding in a local extra field).
 */
import zlib from "node:zlib";
import { CheckpointError } from "../errors.js";
import type { ByteBudget } from "./budget.js";

/**
 * One archive member. `data(budget)` returns its bytes: a view for stored entries; a deflated
 * entry first charges its declared size to `budget` (once; later calls return the same bytes).
 */
export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  dataOffset: number;
  data(budget?: ByteBudget): Uint8Array;
}

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** Node's native CRC-32 (zlib's, Node >= 20.15), when present. */
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/** CRC-32 (IEEE) of bytes: zlib's where Node has it, else the table-driven loop below. */
export function crc32(b: Uint8Array): number {
  return nativeCrc32 ? nativeCrc32(b) >>> 0 : crc32Js(b);
}

/** CRC-32 (IEEE), table-driven (the fallback, and the check for the native one). */
export function crc32Js(b: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]) & 255] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** Whether bytes start like a ZIP archive. */
export function isZip(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && ((b[2] === 3 && b[3] === 4) || (b[2] === 5 && b[3] === 6));
}

/** Parse the central directory of a ZIP archive held in memory. */
export function readZip(buf: Uint8Array, what = "zip"): Map<string, ZipEntry> {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const fail = (msg: string): never => {
    throw new CheckpointError(`${what}: ${msg}`);
  };
  const check = (off: number, len: number, desc: string): void => {
    if (!(off >= 0 && len >= 0 && off + len <= buf.length)) fail(`${desc} at byte ${off} (+${len}) lies outside the file (${buf.length} bytes); truncated?`);
  };
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 65535); i--) {
    if (dv.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) fail("end-of-central-directory record not found (truncated or not a zip archive)");
  let count = dv.getUint16(eocd + 10, true);
  let cdSize = dv.getUint32(eocd + 12, true);
  let cdOffset = dv.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    check(loc, 20, "zip64 locator");
    if (dv.getUint32(loc, true) !== 0x07064b50) fail(`zip64 locator missing at byte ${loc}`);
    const rec = Number(dv.getBigUint64(loc + 8, true));
    check(rec, 56, "zip64 end-of-central-directory record");
    if (dv.getUint32(rec, true) !== 0x06064b50) fail(`bad zip64 end-of-central-directory signature at byte ${rec}`);
    count = Number(dv.getBigUint64(rec + 32, true));
    cdSize = Number(dv.getBigUint64(rec + 40, true));
    cdOffset = Number(dv.getBigUint64(rec + 48, true));
  }
  check(cdOffset, cdSize, "central directory");
  if (count > cdSize / 46) fail(`central directory claims ${count} entries in ${cdSize} bytes`);
  const entries = new Map<string, ZipEntry>();
  let p = cdOffset;
  const decoder = new TextDecoder();
  for (let i = 0; i < count; i++) {
    check(p, 46, `central directory entry ${i}`);
    if (dv.getUint32(p, true) !== 0x02014b50) fail(`bad central directory signature at byte ${p}`);
    const method = dv.getUint16(p + 10, true);
    const crc = dv.getUint32(p + 16, true);
    let csize = dv.getUint32(p + 20, true);
    let usize = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    let local = dv.getUint32(p + 42, true);
    check(p + 46, nameLen + extraLen + commentLen, `central directory entry ${i} name`);
    const name = decoder.decode(buf.subarray(p + 46, p + 46 + nameLen));
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = dv.getUint16(e, true);
      const len = dv.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        const next = (): number => {
          if (q + 8 > e + 4 + len) fail(`short zip64 extra field in entry ${name}`);
          const v = Number(dv.getBigUint64(q, true));
          q += 8;
          return v;
        };
        if (usize === 0xffffffff) usize = next();
        if (csize === 0xffffffff) csize = next();
        if (local === 0xffffffff) local = next();
      }
      e += 4 + len;
    }
    p += 46 + nameLen + extraLen + commentLen;
    check(local, 30, `local header of ${name}`);
    if (dv.getUint32(local, true) !== 0x04034b50) fail(`bad local header signature for ${name} at byte ${local}`);
    const dataOffset = local + 30 + dv.getUint16(local + 26, true) + dv.getUint16(local + 28, true);
    check(dataOffset, csize, `data of ${name}`);
    if (method !== 0 && method !== 8) fail(`entry ${name} uses unsupported compression method ${method}`);
    if (method === 0 && csize !== usize) fail(`stored entry ${name} has compressed size ${csize} != size ${usize}`);
    if (method === 8 && usize > csize * 1032 + 1024) fail(`entry ${name} claims an impossible size ${usize} from ${csize} compressed bytes`);
    let cached: Uint8Array | null = null;
    entries.set(name, {
      name, method, compressedSize: csize, size: usize, crc32: crc, dataOffset,
      data(budget?: ByteBudget): Uint8Array {
        if (cached) return cached;
        const raw = buf.subarray(dataOffset, dataOffset + csize);
        let out: Uint8Array;
        if (method === 0) out = raw;
        else {
          budget?.charge(usize, `inflating entry ${name} (${csize} bytes deflated)`);
          try {
            const b = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(usize, 1) });
            out = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
          } catch (err) {
            const code = (err as NodeJS.ErrnoException).code;
            if (code === "ERR_BUFFER_TOO_LARGE") fail(`entry ${name} inflates to more than the ${usize} bytes its header declares (a decompression bomb?)`);
            fail(`entry ${name} does not inflate: ${(err as Error).message}`);
          }
          if (out!.length !== usize) fail(`entry ${name} inflates to ${out!.length} bytes, header says ${usize}`);
        }
        if (crc32(out!) !== crc) fail(`CRC-32 mismatch in entry ${name} (corrupted file)`);
        cached = out!;
        return out!;
      },
    });
  }
  return entries;
}

/** Write stored (uncompressed) entries with 64-byte-aligned data, as PyTorch's writer does. */
export function writeZip(entries: [string, Uint8Array][]): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const nameBytes = enc.encode(name);
    const headerLen = 30 + nameBytes.length;
    let pad = (64 - ((offset + headerLen + 4) % 64)) % 64;
    const extraLen = 4 + pad;
    const local = new Uint8Array(headerLen + extraLen);
    const lv = new DataView(local.buffer);
    const crc = crc32(data);
    if (data.length >= 0xffffffff || offset >= 0xffffffff) throw new CheckpointError("archives over 4 GiB are not supported by the writer");
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, 0, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, data.length, true);
    lv.setUint32(22, data.length, true);
    lv.setUint16(26, nameBytes.length, true);
    lv.setUint16(28, extraLen, true);
    local.set(nameBytes, 30);
    lv.setUint16(headerLen, 0x4246, true); // "FB": PyTorch's alignment padding field
    lv.setUint16(headerLen + 2, pad, true);
    for (let i = 0; i < pad; i++) local[headerLen + 4 + i] = 0x5a; // 'Z', as PyTorch pads
    const cd = new Uint8Array(46 + nameBytes.length);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, data.length, true);
    cv.setUint32(24, data.length, true);
    cv.setUint16(28, nameBytes.length, true);
    cv.setUint32(42, offset, true);
    cd.set(nameBytes, 46);
    parts.push(local, data);
    central.push(cd);
    offset += local.length + data.length;
    pad = 0;
  }
  const cdSize = central.reduce((s, c) => s + c.length, 0);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const out = new Uint8Array(offset + cdSize + 22);
  let p = 0;
  for (const part of [...parts, ...central, eocd]) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}
