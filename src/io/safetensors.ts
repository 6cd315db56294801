/**
 * safetensors: `u64 LE header length`, a JSON header `{name: {dtype, shape, data_offsets}}` (plus
 * optional `__metadata__`), then the data; offsets are relative to the end of the header.
 */
import { CheckpointError } from "../errors.js";
import { contiguousStrides, numel, Tensor, type DType } from "../tensor/index.js";
import type { ByteBudget } from "./budget.js";
import { ITEMSIZE, storedBytes, tensorFromStorage, type FileDType } from "./dtypes.js";

const FROM_ST: Record<string, FileDType> = { F32: "float32", F16: "float16", BF16: "bfloat16", F64: "float64", I64: "int64" };
const TO_ST: Record<FileDType, string> = { float32: "F32", float16: "F16", bfloat16: "BF16", float64: "F64", int64: "I64" };
const MAX_HEADER = 100 * 1024 * 1024;

/** Whether bytes look like a safetensors file (plausible header length, then `{`). */
export function isSafetensors(b: Uint8Array): boolean {
  if (b.length < 10) return false;
  const n = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
  return n >= 2n && b[8] === 0x7b;
}

/** Parse a safetensors file; tensors come in data-offset order. */
export function readSafetensors(buf: Uint8Array, what: string, budget?: ByteBudget): { tensors: Map<string, Tensor<DType>>; metadata: Record<string, string> | null } {
  const fail = (msg: string): never => {
    throw new CheckpointError(`${what}: ${msg}`);
  };
  if (buf.length < 8) fail(`truncated: ${buf.length} bytes, no header length`);
  const n = new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(buf.length - 8)) fail(`header length ${n} exceeds the file (${buf.length - 8} bytes after the length field)`);
  if (n > BigInt(MAX_HEADER)) fail(`header length ${n} is over the 100 MB limit`);
  const hlen = Number(n);
  // JSON.parse builds every object before we could look at it: bound their number first (a header
  // lists at most three objects or arrays per tensor, in at least ~16 bytes).
  let nesting = 0;
  for (let i = 8; i < 8 + hlen; i++) if (buf[i] === 0x7b || buf[i] === 0x5b) nesting++;
  if (nesting > 10_000 + hlen / 16) fail(`header of ${hlen} bytes holds ${nesting} JSON objects/arrays, more than a tensor listing has`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(buf.subarray(8, 8 + hlen)));
  } catch (e) {
    fail(`header (bytes 8..${8 + hlen}) is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  if (!header || typeof header !== "object" || Array.isArray(header)) fail("header is not a JSON object");
  const data = buf.subarray(8 + hlen);
  let metadata: Record<string, string> | null = null;
  const found: { name: string; begin: number; t: Tensor<DType> }[] = [];
  for (const [name, info] of Object.entries(header as Record<string, any>)) {
    if (name === "__metadata__") {
      if (!info || typeof info !== "object" || Array.isArray(info) || !Object.values(info).every((v) => typeof v === "string")) {
        fail("__metadata__ must map strings to strings");
      }
      metadata = info;
      continue;
    }
    if (!info || typeof info !== "object") fail(`entry ${JSON.stringify(name)} is not an object`);
    const { dtype, shape, data_offsets: offs } = info;
    const dt = FROM_ST[dtype];
    if (!dt) fail(`tensor ${JSON.stringify(name)} has unsupported dtype ${JSON.stringify(dtype)} (supported: F32, F16, BF16, F64, I64)`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`tensor ${JSON.stringify(name)} has an invalid shape`);
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0) || offs[0] > offs[1]) {
      fail(`tensor ${JSON.stringify(name)} has invalid data_offsets ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    if (end > data.length) fail(`tensor ${JSON.stringify(name)}: data_offsets [${begin}, ${end}] lie outside the data (${data.length} bytes)`);
    const count = numel(shape);
    if (end - begin !== count * ITEMSIZE[dt]) {
      fail(`tensor ${JSON.stringify(name)}: ${end - begin} bytes for shape [${shape.join(", ")}] x ${dtype} (needs ${count * ITEMSIZE[dt]})`);
    }
    const t = tensorFromStorage(data.subarray(begin, end), dt, count, 0, shape, contiguousStrides(shape), `${what}: ${name}`, budget);
    found.push({ name, begin, t });
  }
  found.sort((a, b) => a.begin - b.begin || (a.name < b.name ? -1 : 1));
  return { tensors: new Map(found.map((f) => [f.name, f.t])), metadata };
}

/**
 * Serialise tensors as safetensors, in the map's order, header padded to 8 bytes; float tensors
 * are stored as `floatDType` (default float32), int64 as I64.
 */
export function writeSafetensors(tensors: Map<string, Tensor<DType>>, metadata?: Record<string, string> | null, floatDType: FileDType = "float32"): Uint8Array {
  const parts: string[] = [];
  if (metadata) parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    const { bytes, dtype } = storedBytes(t, floatDType);
    const end = offset + bytes.byteLength;
    parts.push(`${JSON.stringify(name)}:{"dtype":"${TO_ST[dtype]}","shape":[${t.shape.join(",")}],"data_offsets":[${offset},${end}]}`);
    blobs.push(bytes);
    offset = end;
  }
  let header = `{${parts.join(",")}}`;
  const enc = new TextEncoder();
  const pad = (8 - (enc.encode(header).length % 8)) % 8;
  header += " ".repeat(pad);
  const hb = enc.encode(header);
  const out = new Uint8Array(8 + hb.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let p = 8 + hb.length;
  for (const b of blobs) {
    out.set(b, p);
    p += b.byteLength;
  }
  return out;
}
