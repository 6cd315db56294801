/**
 * Shared test helpers: fixture loading, tensor decoding, one `expectClose` for all numeric
 * comparisons, the deterministic-weights generator shared with scripts/make_fixtures.py, and a
 * factory that builds layers from the fixture specs (PyTorch kwargs → tsnn options).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { nn, Tensor, type DType } from "../src/index.js";

const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));

/** Parse `test/fixtures/<name>`. */
export function fixture<T = any>(name: string): T {
  return JSON.parse(readFileSync(FIXTURES + name, "utf8")) as T;
}

/** A tensor as the fixture script encodes it. */
export interface EncTensor {
  shape: number[];
  dtype: "float32" | "int64";
  data: number[];
}

/** Decode a fixture tensor. */
export function dec(e: EncTensor): Tensor<DType> {
  if (e.dtype === "int64") return new Tensor(BigInt64Array.from(e.data.map((v) => BigInt(v))), e.shape, "int64");
  return new Tensor(Float32Array.from(e.data), e.shape);
}

/** A tensor's values as plain numbers (int64 included). */
export function values(t: Tensor<DType>): number[] {
  return Array.from(t.data as ArrayLike<number | bigint>, Number);
}

/** Decode a fixture state dict (`[[key, tensor], ...]`) into an ordered Map. */
export function decStateDict(entries: [string, EncTensor][]): Map<string, Tensor<DType>> {
  return new Map(entries.map(([k, v]) => [k, dec(v)]));
}

/**
 * Assert `|actual - expected| <= atol + rtol·|expected|` elementwise with equal shapes; the
 * failure message names the worst element.
 */
export function expectClose(actual: Tensor<DType>, expected: Tensor<DType>, tol: { rtol: number; atol: number }, what = ""): void {
  expect(actual.shape, `${what} shape`).toEqual(expected.shape);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.numel(); i++) {
    const a = Number(actual.data[i]);
    const e = Number(expected.data[i]);
    if (Object.is(a, e)) continue;
    const excess = Math.abs(a - e) - (tol.atol + tol.rtol * Math.abs(e));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    throw new Error(
      `${what}: element ${worst} is ${Number(actual.data[worst])}, expected ${Number(expected.data[worst])} ` +
        `(|diff| ${Math.abs(Number(actual.data[worst]) - Number(expected.data[worst]))}, tol atol=${tol.atol} rtol=${tol.rtol})`,
    );
  }
}

/** Largest absolute difference between two same-shaped tensors. */
export function maxAbsDiff(a: Tensor<DType>, b: Tensor<DType>): number {
  let m = 0;
  for (let i = 0; i < a.numel(); i++) m = Math.max(m, Math.abs(Number(a.data[i]) - Number(b.data[i])));
  return m;
}

/** One `det_uniform` value: the lowbias32 hash of `i`, mapped to [-1, 1). */
function detUniformAt(i: number): number {
  let x = i >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x ^= x >>> 16;
  return ((x >>> 0) / 4294967296) * 2 - 1;
}

/** The fixture script's `det_uniform`: lowbias32 hash of `offset + i`, mapped to [-1, 1). */
export function detUniform(offset: number, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = detUniformAt(offset + i);
  return out;
}

/** The fixture script's `det_tensor`. */
export function detTensor(offset: number, shape: number[], scale = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const u = detUniform(offset, n);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = u[i] * scale;
  return new Tensor(d, shape);
}

/** The fixture script's `det_state_dict`: fill a model's float tensors deterministically. */
export function detStateDict(model: nn.Module, seed = 12345): void {
  let offset = seed;
  for (const [key, t] of model.stateDict()) {
    if (t.dtype !== "float32") continue;
    const n = t.numel();
    // The scale and shift `det_state_dict` applies to this entry's det_uniform values.
    let scale: number;
    let shift: number;
    if (t.ndim === 4) [scale, shift] = [Math.sqrt(6.0 / (t.shape[1] * t.shape[2] * t.shape[3])), 0];
    else if (t.ndim === 2) [scale, shift] = [Math.sqrt(1.0 / t.shape[1]), 0];
    else if (key.endsWith("running_var")) [scale, shift] = [0.5, 1.0];
    else if (key.endsWith("running_mean") || key.endsWith("bias")) [scale, shift] = [0.1, 0];
    else [scale, shift] = [0.2, 1.0];
    // Written in place (no n-element Float64Array for the big weights); same doubles, same bits.
    const d = t.data as Float32Array;
    for (let i = 0; i < n; i++) {
      const u = detUniformAt(offset + i);
      d[i] = shift === 0 ? u * scale : shift + scale * u;
    }
    offset += n;
    (t as { _bumpVersion?: () => void })._bumpVersion?.();
  }
}

const CAMEL: Record<string, string> = {
  padding_mode: "paddingMode",
  track_running_stats: "trackRunningStats",
  return_indices: "returnIndices",
  ceil_mode: "ceilMode",
};

/** Build a layer from a fixture spec: PyTorch class name, positional args, keyword args. */
export function buildLayer(type: string, args: any[], kwargs: Record<string, any>): nn.Module {
  const opts: Record<string, any> = {};
  for (const [k, v] of Object.entries(kwargs)) opts[CAMEL[k] ?? k] = v;
  switch (type) {
    case "Conv2d":
      return new nn.Conv2d(args[0], args[1], args[2], opts);
    case "BatchNorm2d":
      return new nn.BatchNorm2d(args[0], opts);
    case "Linear":
      return new nn.Linear(args[0], args[1], opts);
    case "ReLU":
      return new nn.ReLU(opts);
    case "Identity":
      return new nn.Identity(...args, opts);
    case "MaxPool2d":
      return new nn.MaxPool2d(args[0], opts);
    case "AdaptiveAvgPool2d":
      return new nn.AdaptiveAvgPool2d(args[0]);
  }
  throw new Error(`unknown layer type ${type}`);
}

/** A short spec label for test names, e.g. `Conv2d(3, 4, 3, stride=2)`. */
export function specLabel(type: string, args: any[], kwargs: Record<string, any>): string {
  const parts = [...args.map((a) => JSON.stringify(a)), ...Object.entries(kwargs).map(([k, v]) => `${k}=${JSON.stringify(v)}`)];
  return `${type}(${parts.join(", ")})`;
}

/**
 * Rebuild a full ResNet-18 checkpoint written by PyTorch from its skeleton: PyTorch's exact file
 * bytes with each storage payload replaced by the state-dict key whose deterministic values it
 * holds (see scripts/make_weight_fixtures.py).
 */
export function fromSkeleton(name: string, model: nn.Module): Uint8Array {
  const sk = fixture<{ size: number; segments: ({ b64: string } | { tensor: string; bytes: number })[] }>(`weights/${name}`);
  detStateDict(model);
  const sd = model.stateDict();
  const out = new Uint8Array(sk.size);
  let p = 0;
  for (const seg of sk.segments) {
    let b: Uint8Array;
    if ("b64" in seg) b = Buffer.from(seg.b64, "base64");
    else {
      const t = sd.get(seg.tensor)!;
      b = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      if (b.length !== seg.bytes) throw new Error(`skeleton ${name}: ${seg.tensor} has ${b.length} bytes, expected ${seg.bytes}`);
    }
    out.set(b, p);
    p += b.length;
  }
  if (p !== sk.size) throw new Error(`skeleton ${name}: rebuilt ${p} bytes, expected ${sk.size}`);
  return out;
}
