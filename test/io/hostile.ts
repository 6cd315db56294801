/**
 * Tiny hostile files, built in the test process: each is a few KB (or 1 MB) on disk but would
 * cost gigabytes or minutes in a naive loader or decoder (issue 9's attack classes).
 */
import zlib from "node:zlib";
import { crc32 } from "../../src/io/zip.js";
import { pickle, PyCall, PyGlobalRef, PyPersistent, PyTupleOut, type PickleValue } from "../../src/io/pickle.js";

/** A zip entry to write: deflated unless `stored`; `declaredSize` overrides the uncompressed size in the headers. */
export interface Entry {
  name: string;
  data: Uint8Array;
  stored?: boolean;
  declaredSize?: number;
  /** Deflated bytes to write as they are (with `declaredSize`), instead of deflating `data`. */
  raw?: Uint8Array;
}

/** A zip archive with deflated (method 8) or stored entries, as other tools than PyTorch write them. */
export function zipOf(entries: Entry[]): Uint8Array {
  const enc = new TextEncoder();
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = enc.encode(e.name);
    const body = e.raw ?? (e.stored ? e.data : zlib.deflateRawSync(e.data, { level: 9 }));
    const size = e.declaredSize ?? e.data.length;
    const crc = crc32(e.data);
    const local = Buffer.alloc(30 + name.length);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(e.stored ? 0 : 8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    local.set(name, 30);
    const cd = Buffer.alloc(46 + name.length);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(e.stored ? 0 : 8, 10);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(body.length, 20);
    cd.writeUInt32LE(size, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE(offset, 42);
    cd.set(name, 46);
    parts.push(local, Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    central.push(cd);
    offset += local.length + body.length;
  }
  const cdSize = central.reduce((s, c) => s + c.length, 0);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cdSize, 12);
  eocd.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...parts, ...central, eocd]));
}

/** A torch zip checkpoint whose data.pkl is `pkl` (deflated unless `stored`), plus extra entries. */
export function checkpointOf(pkl: Uint8Array, extra: Entry[] = [], stored = false): Uint8Array {
  return zipOf([{ name: "bomb/data.pkl", data: pkl, stored }, ...extra]);
}

/** Raw pickle bytes: PROTO 2, `body`, STOP. */
export function rawPickle(...body: (number[] | Uint8Array)[]): Uint8Array {
  return new Uint8Array(Buffer.concat([Buffer.from([0x80, 2]), ...body.map((b) => Buffer.from(b)), Buffer.from([0x2e])]));
}

const repeat = (bytes: number[], n: number): Uint8Array => {
  const out = new Uint8Array(bytes.length * n);
  for (let i = 0; i < n; i++) out.set(bytes, i * bytes.length);
  return out;
};

/** Ten million EMPTY_DICT opcodes, deflated to about 10 KB (a naive unpickler: 4.6 GB, V8 out of memory). */
export function emptyDictBomb(n = 10_000_000): Uint8Array {
  return checkpointOf(rawPickle(repeat([0x7d], n)));
}

/** NONE then millions of DUPs (every DUP is a stack slot). */
export function dupBomb(n = 10_000_000): Uint8Array {
  return checkpointOf(rawPickle([0x4e], repeat([0x32], n)));
}

/** NONE then a million distinct memo entries (LONG_BINPUT i). */
export function memoBomb(n = 1_000_000): Uint8Array {
  const body = new Uint8Array(5 * n);
  const dv = new DataView(body.buffer);
  for (let i = 0; i < n; i++) {
    body[5 * i] = 0x72;
    dv.setUint32(5 * i + 1, i, true);
  }
  return checkpointOf(rawPickle([0x4e], body));
}

/** A LONG4 integer of `n` bytes (quadratic to decode byte by byte), stored: a 1 MB file. */
export function long4Bomb(n = 1_000_000): Uint8Array {
  const head = [0x8b, n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255];
  return checkpointOf(rawPickle(head, new Uint8Array(n).fill(0x5a)), [], true);
}

/** A dict keyed by a tuple nested 60 deep in itself, t = (t, t) (682 bytes; 2^60 leaves as text). */
export function nestedTupleKeys(depth = 60): Uint8Array {
  return checkpointOf(rawPickle([0x7d, 0x4e], repeat([0x32, 0x86], depth), [0x4e, 0x73]), [], true);
}

/** A dict {"w": t} whose value is t = (t, t) sixty times over (a DAG of 2^60 paths). */
export function nestedTupleValue(depth = 60): Uint8Array {
  return checkpointOf(rawPickle([0x7d, 0x8c, 1, 0x77, 0x4e], repeat([0x32, 0x86], depth), [0x73]), [], true);
}

/** A storage persistent id whose key is t = (t, t) sixty times over (String(t) would never end). */
export function nestedTupleStorageKey(depth = 60): Uint8Array {
  const head = [0x7d, 0x8c, 1, 0x77, 0x28, 0x8c, 7, ...Buffer.from("storage"), 0x63, ...Buffer.from("torch\nFloatStorage\n"), 0x4e];
  return checkpointOf(rawPickle(head, repeat([0x32, 0x86], depth), [0x8c, 3, ...Buffer.from("cpu"), 0x4b, 1, 0x74, 0x51, 0x73]), [], true);
}

/**
 * A dict of `entries` items, memoised, then BUILD into a fresh dict `builds` times: each BUILD
 * would copy every entry again (entries x builds work from 4 bytes per BUILD).
 */
export function buildAmplification(entries = 50_000, builds = 200_000): Uint8Array {
  const items = new Uint8Array(entries * 6);
  const dv = new DataView(items.buffer);
  for (let i = 0; i < entries; i++) {
    items[6 * i] = 0x4a; // BININT i
    dv.setInt32(6 * i + 1, i, true);
    items[6 * i + 5] = 0x4e; // NONE
  }
  return checkpointOf(rawPickle([0x7d, 0x71, 0, 0x28], items, [0x75, 0x30], repeat([0x7d, 0x68, 0, 0x62, 0x30], builds), [0x4e]));
}

/** A tuple nested `depth` deep (TUPLE1 of TUPLE1 of ... None): one byte per level. */
export function deepTuple(depth = 100_000): Uint8Array {
  return checkpointOf(rawPickle([0x4e], repeat([0x85], depth)));
}

/** `_rebuild_tensor_v2(storage, offset, size, stride)` in a state dict entry. */
function rebuild(key: string, numel: number, size: number[], stride: number[], offset = 0): PickleValue {
  return new PyCall("torch._utils", "_rebuild_tensor_v2", [
    new PyPersistent(new PyTupleOut(["storage", new PyGlobalRef("torch", "FloatStorage"), key, "cpu", numel])),
    offset, new PyTupleOut(size), new PyTupleOut(stride), false, new PyCall("collections", "OrderedDict", []),
  ]);
}

/**
 * One deflated storage of `numel` zeros (2.5 MB → 2.5 KB) rebuilt `count` times as a stride-0
 * tensor `expand` times its size (a naive loader: 3.5 GB), or as contiguous views (`expand` 0).
 */
export function repeatedStorage(count = 150, numel = 640_000, expand = 4): Uint8Array {
  const items: [PickleValue, PickleValue][] = [];
  for (let i = 0; i < count; i++) {
    items.push([`t${i}`, expand ? rebuild("0", numel, [numel * expand], [0]) : rebuild("0", numel, [numel], [1])]);
  }
  const pkl = pickle(new PyCall("collections", "OrderedDict", [], items));
  return checkpointOf(pkl, [{ name: "bomb/data/0", data: new Uint8Array(numel * 4) }]);
}

/**
 * A storage entry declaring `declared` bytes (1 GiB) from 1.1 MB of deflated data (1 GiB of zeros
 * deflates to about 1 MB): refused from the declared size, before anything is inflated.
 */
export function declaredGiB(declared = 2 ** 30, compressed = 1_100_000): Uint8Array {
  const numel = declared / 4;
  const pkl = pickle(new PyCall("collections", "OrderedDict", [], [["w", rebuild("0", numel, [numel], [1])]]));
  const raw = new Uint8Array(compressed).map((_, i) => (i * 2654435761) >>> 24);
  return checkpointOf(pkl, [{ name: "bomb/data/0", data: new Uint8Array(0), raw, declaredSize: declared }]);
}

/** A storage entry declaring 4 KB whose deflated data inflates to 64 MB (the header lies). */
export function lyingSize(actual = 64 * 2 ** 20, declared = 4096): Uint8Array {
  const numel = declared / 4;
  const pkl = pickle(new PyCall("collections", "OrderedDict", [], [["w", rebuild("0", numel, [numel], [1])]]));
  const raw = zlib.deflateRawSync(new Uint8Array(actual), { level: 9 });
  return checkpointOf(pkl, [{ name: "bomb/data/0", data: new Uint8Array(declared), raw, declaredSize: declared }]);
}

/** A safetensors file whose JSON header is millions of empty arrays. */
export function safetensorsHeaderBomb(n = 2_000_000): Uint8Array {
  const header = new TextEncoder().encode(`{"a":[${"[],".repeat(n)}[]]}`);
  const out = new Uint8Array(8 + header.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  return out;
}

// ------------------------------------------------------------------ images

function pngChunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, "latin1");
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/**
 * A grey (colour type 0) or RGB (2) 8-bit PNG of `width` x `height` zero pixels. With `rows`,
 * only that many rows of data are written (a 32000 x 32000 declaration in a small file).
 */
export function pngOf(width: number, height: number, colorType: 0 | 2 = 0, rows = height): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = colorType;
  const raw = new Uint8Array(rows * (1 + width * (colorType === 2 ? 3 : 1)));
  return new Uint8Array(Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", zlib.deflateSync(raw, { level: 9 })),
    pngChunk("IEND", new Uint8Array(0)),
  ]));
}
