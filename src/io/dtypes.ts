/**
 * Element types found in checkpoint files and their conversion to tsnn tensors: float32 (a
 * zero-copy view when aligned and contiguous), float16, bfloat16 and float64 (converted to
 * float32), int64 (kept as int64).
 */
import { CheckpointError } from "../errors.js";
import { contiguousStrides, Tensor, type DType } from "../tensor/index.js";
import type { ByteBudget } from "./budget.js";

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

/** A storage's elements as tensors use them: float32 for every float type, int64 as int64. */
export type StorageElements = Float32Array | BigInt64Array;

/** Bytes `storageElements` allocates for this storage: 0 for an aligned float32/int64 view. */
export function storageCopyBytes(bytes: Uint8Array, dtype: FileDType, count: number): number {
  const aligned = LITTLE_ENDIAN && bytes.byteOffset % ITEMSIZE[dtype] === 0;
  if ((dtype === "float32" || dtype === "int64") && aligned) return 0;
  return count * (dtype === "int64" ? 8 : 4);
}

/** Bytes `tensorView` allocates: 0 for a contiguous view, else the gathered copy's size. */
export function viewCopyBytes(size: readonly number[], stride: readonly number[], dtype: FileDType): number {
  if (!size.every((d) => Number.isSafeInteger(d) && d >= 0)) return 0; // tensorView refuses it, by name
  const contiguous = size.length === stride.length && contiguousStrides(size).every((s, i) => s === stride[i] || size[i] === 1);
  const n = size.reduce((a, b) => a * b, 1);
  return contiguous || n === 0 ? 0 : n * (dtype === "int64" ? 8 : 4);
}

/**
 * The `count` elements of a storage of `dtype` held in `bytes`, materialised once for all the
 * tensors that view it: a zero-copy view for aligned little-endian float32/int64, else one copy
 * (float16/bfloat16/float64 widened to float32), charged to `budget` before it is allocated.
 */
export function storageElements(bytes: Uint8Array, dtype: FileDType, count: number, what: string, budget?: ByteBudget): StorageElements {
  const size = ITEMSIZE[dtype];
  if (!Number.isSafeInteger(count) || count < 0 || bytes.length < count * size) {
    throw new CheckpointError(`${what}: storage holds ${bytes.length} bytes, needs ${count} x ${size}`);
  }
  const aligned = LITTLE_ENDIAN && bytes.byteOffset % size === 0;
  if ((dtype === "float32" || dtype === "int64") && aligned) {
    return dtype === "float32" ? new Float32Array(bytes.buffer, bytes.byteOffset, count) : new BigInt64Array(bytes.buffer, bytes.byteOffset, count);
  }
  budget?.charge(count * (dtype === "int64" ? 8 : 4), `${what}: ${count} x ${dtype} as ${dtype === "int64" ? "int64" : "float32"}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, count * size);
  if (dtype === "int64") {
    const out = new BigInt64Array(count);
    if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(bytes.subarray(0, count * 8));
    else for (let i = 0; i < count; i++) out[i] = dv.getBigInt64(i * 8, true);
    return out;
  }
  const out = new Float32Array(count);
  if (dtype === "float32") {
    if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(bytes.subarray(0, count * 4));
    else for (let i = 0; i < count; i++) out[i] = dv.getFloat32(i * 4, true);
  } else if (dtype === "float64") {
    if (aligned) out.set(new Float64Array(bytes.buffer, bytes.byteOffset, count));
    else for (let i = 0; i < count; i++) out[i] = dv.getFloat64(i * 8, true);
  } else {
    const s = aligned ? new Uint16Array(bytes.buffer, bytes.byteOffset, count) : Uint16Array.from({ length: count }, (_, i) => dv.getUint16(i * 2, true));
    if (dtype === "float16") {
      const t = halfToFloatTable();
      for (let i = 0; i < count; i++) out[i] = t[s[i]];
    } else {
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) u[i] = s[i] << 16;
    }
  }
  return out;
}

/**
 * A tensor viewing `elems` (a storage of `elems.length` elements, from `storageElements`) from
 * element `offset` with `size` and `stride` (in elements), as `_rebuild_tensor_v2`. Checks that
 * every addressed element lies inside the storage. A contiguous tensor is a view of the storage
 * (any number of them cost nothing); a strided one is gathered into its own array, charged to
 * `budget` first.
 */
export function tensorView(
  elems: StorageElements,
  offset: number,
  size: readonly number[],
  stride: readonly number[],
  what: string,
  budget?: ByteBudget,
): Tensor<DType> {
  const storageNumel = elems.length;
  if (size.length !== stride.length) throw new CheckpointError(`${what}: size ${fmt(size)} and stride ${fmt(stride)} differ in length`);
  if (![offset, ...size, ...stride].every((v) => Number.isSafeInteger(v) && v >= 0)) {
    throw new CheckpointError(`${what}: invalid offset/size/stride (${offset}, ${fmt(size)}, ${fmt(stride)})`);
  }
  let n = 1;
  for (const d of size) n *= d;
  if (!Number.isSafeInteger(n)) throw new CheckpointError(`${what}: tensor of size ${fmt(size)} has too many elements`);
  let last = offset;
  for (let i = 0; i < size.length; i++) last += (size[i] - 1) * stride[i];
  if (n > 0 && last >= storageNumel) {
    throw new CheckpointError(
      `${what}: tensor of size ${fmt(size)} stride ${fmt(stride)} at offset ${offset} reaches element ${last}, but its storage has ${storageNumel}`,
    );
  }
  const contiguous = contiguousStrides(size).every((s, i) => s === stride[i] || size[i] === 1);
  if (contiguous || n === 0) {
    const d = n === 0 ? elems.subarray(0, 0) : elems.subarray(offset, offset + n);
    return elems instanceof BigInt64Array ? new Tensor(d as BigInt64Array, size, "int64") : new Tensor(d as Float32Array, size);
  }
  budget?.charge(n * (elems instanceof BigInt64Array ? 8 : 4), `${what}: strided tensor of size ${fmt(size)} stride ${fmt(stride)}`);
  if (elems instanceof BigInt64Array) {
    const out = new BigInt64Array(n);
    gather(elems, out, offset, size, stride);
    return new Tensor(out, size, "int64");
  }
  const out = new Float32Array(n);
  gather(elems, out, offset, size, stride);
  return new Tensor(out, size);
}

/**
 * Build a tensor from the bytes of a storage of `storageNumel` elements of `dtype`: the storage
 * materialised (`storageElements`), then viewed (`tensorView`).
 */
export function tensorFromStorage(
  bytes: Uint8Array,
  dtype: FileDType,
  storageNumel: number,
  offset: number,
  size: readonly number[],
  stride: readonly number[],
  what: string,
  budget?: ByteBudget,
): Tensor<DType> {
  return tensorView(storageElements(bytes, dtype, storageNumel, what, budget), offset, size, stride, what, budget);
}

/** Copy the strided elements of `src` into contiguous `dst` (an odometer over the dims). */
function gather<T extends Float32Array | BigInt64Array>(src: T, dst: T, offset: number, size: readonly number[], stride: readonly number[]): void {
  const d = size.length;
  const counter = new Array<number>(d).fill(0);
  const inner = size[d - 1];
  const innerStride = stride[d - 1];
  let pos = offset;
  for (let i = 0; i < dst.length; i += inner) {
    for (let j = 0, p = pos; j < inner; j++, p += innerStride) dst[i + j] = src[p];
    for (let k = d - 2; k >= 0; k--) {
      counter[k]++;
      pos += stride[k];
      if (counter[k] < size[k]) break;
      pos -= stride[k] * size[k];
      counter[k] = 0;
    }
  }
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
