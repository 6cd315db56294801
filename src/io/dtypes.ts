/**
 * Element types found in checkpoint files and their conversion to tsnn tensors: float32 (a
 * zero-copy view when aligned and contiguous), float16, bfloat16 and float64 (converted to
 * float32), int64 (kept as int64).
 */
import { CheckpointError } from "../errors.js";
import { contiguousStrides, numel, Tensor, type DType } from "../tensor/index.js";

/** Element types tsnn reads from files. */
export type FileDType = "float32" | "float16" | "bfloat16" | "float64" | "int64";

/** Bytes per element. */
export const ITEMSIZE: Record<FileDType, number> = { float32: 4, float16: 2, bfloat16: 2, float64: 8, int64: 8 };

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

let halfTable: Float32Array | null = null;

/** IEEE half → float lookup table (built on first use). */
function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    if (e === 0) t[h] = s * m * 2 ** -24;
    else if (e === 31) t[h] = m ? NaN : s * Infinity;
    else t[h] = s * (1 + m / 1024) * 2 ** (e - 15);
  }
  halfTable = t;
  return t;
}

/** A typed array of `count` elements of `dtype` over `bytes` (a view when aligned, else a copy). */
function elements(bytes: Uint8Array, dtype: FileDType, count: number): Float32Array | Float64Array | Uint16Array | BigInt64Array {
  const size = ITEMSIZE[dtype];
  const aligned = LITTLE_ENDIAN && bytes.byteOffset % size === 0;
  const src = aligned ? bytes : new Uint8Array(bytes.subarray(0, count * size)); // a copy, aligned
  if (!LITTLE_ENDIAN) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, count * size);
    if (dtype === "float32") return Float32Array.from({ length: count }, (_, i) => dv.getFloat32(i * 4, true));
    if (dtype === "float64") return Float64Array.from({ length: count }, (_, i) => dv.getFloat64(i * 8, true));
    if (dtype === "int64") return BigInt64Array.from({ length: count }, (_, i) => dv.getBigInt64(i * 8, true));
    return Uint16Array.from({ length: count }, (_, i) => dv.getUint16(i * 2, true));
  }
  switch (dtype) {
    case "float32":
      return new Float32Array(src.buffer, src.byteOffset, count);
    case "float64":
      return new Float64Array(src.buffer, src.byteOffset, count);
    case "int64":
      return new BigInt64Array(src.buffer, src.byteOffset, count);
    default:
      return new Uint16Array(src.buffer, src.byteOffset, count);
  }
}

/**
 * Build a tensor from a storage: `bytes` hold `storageNumel` elements of `dtype`; the tensor
 * starts at element `offset` with `size` and `stride` (in elements), as `_rebuild_tensor_v2`.
 * Checks that every addressed element lies inside the storage.
 */
export function tensorFromStorage(
  bytes: Uint8Array,
  dtype: FileDType,
  storageNumel: number,
  offset: number,
  size: readonly number[],
  stride: readonly number[],
  what: string,
): Tensor<DType> {
  if (size.length !== stride.length) throw new CheckpointError(`${what}: size ${fmt(size)} and stride ${fmt(stride)} differ in length`);
  if (![offset, ...size, ...stride].every((v) => Number.isSafeInteger(v) && v >= 0)) {
    throw new CheckpointError(`${what}: invalid offset/size/stride (${offset}, ${fmt(size)}, ${fmt(stride)})`);
  }
  if (bytes.length < storageNumel * ITEMSIZE[dtype]) {
    throw new CheckpointError(`${what}: storage holds ${bytes.length} bytes, needs ${storageNumel} x ${ITEMSIZE[dtype]}`);
  }
  const n = numel(size);
  let last = offset;
  for (let i = 0; i < size.length; i++) last += (size[i] - 1) * stride[i];
  if (n > 0 && last >= storageNumel) {
    throw new CheckpointError(
      `${what}: tensor of size ${fmt(size)} stride ${fmt(stride)} at offset ${offset} reaches element ${last}, but its storage has ${storageNumel}`,
    );
  }
  if (n > 4 * storageNumel + 1024) {
    throw new CheckpointError(`${what}: tensor of size ${fmt(size)} claims ${n} elements from a storage of ${storageNumel} (expanded stride-0 tensors are not supported)`);
  }
  const all = elements(bytes, dtype, storageNumel);
  const contiguous = contiguousStrides(size).every((s, i) => s === stride[i] || size[i] === 1);
  const index = contiguous ? null : stridedIndex(offset, size, stride, n);
  const pick = <T extends { subarray(a: number, b: number): T }>(arr: T, make: (len: number) => T, copy: (dst: T, src: T, idx: Int32Array | Float64Array) => void): T => {
    if (!index) return arr.subarray(offset, offset + n);
    const out = make(n);
    copy(out, arr, index);
    return out;
  };
  if (dtype === "int64") {
    const src = all as BigInt64Array;
    const d = pick(src, (len) => new BigInt64Array(len), (dst, s, idx) => {
      for (let i = 0; i < idx.length; i++) dst[i] = s[idx[i]];
    });
    return new Tensor(d, size, "int64");
  }
  if (dtype === "float32") {
    const d = pick(all as Float32Array, (len) => new Float32Array(len), (dst, s, idx) => {
      for (let i = 0; i < idx.length; i++) dst[i] = s[idx[i]];
    });
    return new Tensor(d, size);
  }
  // Widen to float32, element i coming from storage element `index[i]` or `offset + i`.
  const out = new Float32Array(n);
  if (dtype === "float64") {
    const s = all as Float64Array;
    if (index) for (let i = 0; i < n; i++) out[i] = s[index[i]];
    else out.set(s.subarray(offset, offset + n));
  } else if (dtype === "float16") {
    const s = all as Uint16Array;
    const t = halfToFloatTable();
    if (index) for (let i = 0; i < n; i++) out[i] = t[s[index[i]]];
    else for (let i = 0; i < n; i++) out[i] = t[s[offset + i]];
  } else {
    const s = all as Uint16Array;
    const u = new Uint32Array(out.buffer);
    if (index) for (let i = 0; i < n; i++) u[i] = s[index[i]] << 16;
    else for (let i = 0; i < n; i++) u[i] = s[offset + i] << 16;
  }
  return new Tensor(out, size);
}

function stridedIndex(offset: number, size: readonly number[], stride: readonly number[], n: number): Float64Array {
  const idx = new Float64Array(n);
  const d = size.length;
  const counter = new Array<number>(d).fill(0);
  let pos = offset;
  for (let i = 0; i < n; i++) {
    idx[i] = pos;
    for (let k = d - 1; k >= 0; k--) {
      counter[k]++;
      pos += stride[k];
      if (counter[k] < size[k]) break;
      pos -= stride[k] * size[k];
      counter[k] = 0;
    }
  }
  return idx;
}

function fmt(v: readonly number[]): string {
  return `[${v.join(", ")}]`;
}

/** The raw little-endian bytes of a tensor's data (a view, no copy). */
export function tensorBytes(t: Tensor<DType>): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const bitsOf = (x: number): number => {
  f32[0] = x;
  return u32[0];
};
const fromBits = (b: number): number => {
  u32[0] = b >>> 0;
  return f32[0];
};

/**
 * float32 → IEEE half bits, round to nearest even, as PyTorch's `fp16_ieee_from_fp32_value`
 * (NaN becomes 0x7E00 with the sign kept; overflow becomes infinity).
 */
export function float32ToHalfBits(x: number): number {
  const scaleToInf = 2 ** 112;
  const scaleToZero = 2 ** -110;
  let base = Math.fround(Math.fround(Math.abs(x) * scaleToInf) * scaleToZero);
  const w = bitsOf(x);
  const shl1 = (w << 1) >>> 0;
  const sign = w & 0x80000000;
  let bias = shl1 & 0xff000000;
  if (bias >>> 0 < 0x71000000) bias = 0x71000000;
  base = Math.fround(fromBits(((bias >>> 1) + 0x07800000) >>> 0) + base);
  const bits = bitsOf(base);
  const nonsign = ((bits >>> 13) & 0x7c00) + (bits & 0x0fff);
  return ((sign >>> 16) | (shl1 > 0xff000000 ? 0x7e00 : nonsign)) & 0xffff;
}

/**
 * float32 → bfloat16 bits, round to nearest even, as PyTorch's CPU conversion (whose vectorised
 * path writes every NaN as 0xFFFF).
 */
export function float32ToBfloat16Bits(x: number): number {
  if (Number.isNaN(x)) return 0xffff;
  const u = bitsOf(x);
  return ((u + (((u >>> 16) & 1) + 0x7fff)) >>> 16) & 0xffff;
}

/** The little-endian bytes of float32 values stored as `dtype` (float32, float16, bfloat16, float64). */
export function encodeFloats(data: Float32Array, dtype: FileDType): Uint8Array {
  if (dtype === "float32") return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (dtype === "float64") {
    const out = new Float64Array(data.length);
    out.set(data);
    return new Uint8Array(out.buffer);
  }
  if (dtype === "int64") throw new CheckpointError("cannot store float values as int64");
  const out = new Uint16Array(data.length);
  const conv = dtype === "float16" ? float32ToHalfBits : float32ToBfloat16Bits;
  for (let i = 0; i < data.length; i++) out[i] = conv(data[i]);
  return new Uint8Array(out.buffer);
}

/** Bytes and dtype of a tensor as written to a file, float tensors stored as `floatDType`. */
export function storedBytes(t: Tensor<DType>, floatDType: FileDType = "float32"): { bytes: Uint8Array; dtype: FileDType } {
  if (t.dtype === "int64") return { bytes: tensorBytes(t), dtype: "int64" };
  return { bytes: encodeFloats(t.data as Float32Array, floatDType), dtype: floatDType };
}
