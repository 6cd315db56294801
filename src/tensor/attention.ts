/**
 * Scaled dot-product attention (PyTorch: `F.scaled_dot_product_attention`, and the core of
 * `F.multi_head_attention_forward`): `softmax(Q·Kᵀ·scale + mask)·V` per batch entry, with QKᵀ
 * and AV on the SGEMM (WebAssembly SIMD) and the scale, mask and softmax fused in one pass over
 * each row of scores. Heads and windows run as batched products (`batchedSgemm`).
 */
import { RuntimeError } from "../errors.js";
import { batchedSgemm, matmul } from "./matmul.js";
import { gradMode } from "../autograd/grad_mode.js";
import { softmax } from "./ops/reduce.js";
import { defaultGenerator } from "./random.js";
import { formatShape, numel } from "./shape.js";
import { Tensor, type DType } from "./tensor.js";
import { attentionWasm, softmaxRowsWasm } from "./rowKernels.js";
import { allocFloat32 } from "./arena.js";

/**
 * An additive mask over `[batch, L, S]` scores: entry `(b, l, s)` is
 * `data[b*batchStride + l*rowStride + s]` (stride 0 broadcasts).
 */
export interface AttentionMask {
  data: Float32Array;
  batchStride: number;
  rowStride: number;
}

/**
 * Attention over `batch` independent entries with contiguous operands: `q` `[batch, L, E]`, `k`
 * `[batch, S, E]`, `v` `[batch, S, Ev]`. Writes `out` `[batch, L, Ev]` and, when given, the
 * softmax weights `[batch, L, S]`. `dropout` (train mode) is applied to the weights in place
 * with scaling `1/(1-p)`, drawing from `random`.
 */
export function attentionKernel(
  batch: number,
  L: number,
  S: number,
  E: number,
  Ev: number,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  scale: number,
  mask: AttentionMask | null,
  out: Float32Array,
  weights: Float32Array | null,
  dropout: { p: number; random: () => number } | null = null,
): void {
  // Without dropout, all of it in the kernels' memory (scores never copied out unless asked for).
  if (!(dropout && dropout.p > 0) && attentionWasm(batch, L, S, E, Ev, q, k, v, scale, mask, out, weights)) return;
  // Batch entries go through in chunks of at most ~4M scores: QKᵀ for the chunk, softmax, AV.
  const chunk = weights ? batch : Math.max(1, Math.min(batch, Math.floor((1 << 22) / Math.max(1, L * S))));
  const scratch = weights ?? new Float32Array(chunk * L * S);
  const offsets = (n: number, first: number, size: number): Int32Array => Int32Array.from({ length: n }, (_, i) => (first + i) * size);
  for (let b0 = 0; b0 < batch; b0 += chunk) {
    const n = Math.min(chunk, batch - b0);
    const so = weights ? b0 * L * S : 0;
    const scores = scratch.subarray(so, so + n * L * S);
    batchedSgemm(L, S, E, q, offsets(n, b0, L * E), k, offsets(n, b0, S * E), scores, false, true);
    // The scale, mask and softmax in one WASM pass (float32, PyTorch's vectorized kernel), then
    // dropout in the loop's order of draws; else the loop below in double precision.
    const rowMask = mask ? { data: mask.data.subarray(b0 * mask.batchStride), batchStride: mask.batchStride, rowStride: mask.rowStride } : null;
    if (softmaxRowsWasm(scores, scores, n * L, S, { scale, mask: rowMask, L })) {
      if (dropout && dropout.p > 0) {
        const keep = 1 / (1 - dropout.p);
        for (let r = 0; r < n * L * S; r++) scores[r] = dropout.random() < dropout.p ? 0 : scores[r] * keep;
      }
    } else for (let i = 0; i < n; i++) {
      const b = b0 + i;
      for (let l = 0; l < L; l++) {
        const r = (i * L + l) * S;
        const mo = mask ? b * mask.batchStride + l * mask.rowStride : 0;
        let max = -Infinity;
        for (let s = 0; s < S; s++) {
          const x = Math.fround(scores[r + s] * scale) + (mask ? mask.data[mo + s] : 0);
          scores[r + s] = x;
          if (x > max || x !== x) max = x;
        }
        let sum = 0;
        for (let s = 0; s < S; s++) {
          const e = Math.exp(scores[r + s] - max);
          scores[r + s] = e;
          sum += e;
        }
        const inv = 1 / sum;
        for (let s = 0; s < S; s++) scores[r + s] *= inv;
        if (dropout && dropout.p > 0) {
          const keep = 1 / (1 - dropout.p);
          for (let s = 0; s < S; s++) scores[r + s] = dropout.random() < dropout.p ? 0 : scores[r + s] * keep;
        }
      }
    }
    batchedSgemm(L, Ev, S, scores, offsets(n, 0, L * S), v, offsets(n, b0, S * Ev), out.subarray(b0 * L * Ev, (b0 + n) * L * Ev));
  }
}

/** Values of `t` broadcast to `shape` (contiguous copy; `t` as float32, bool masks turned into 0/-inf). */
export function broadcastMask(t: Tensor<DType>, shape: readonly number[], invertBool: boolean): Float32Array {
  const n = numel(shape);
  const out = allocFloat32(n);
  const lead = shape.length - t.shape.length;
  if (lead < 0) throw new RuntimeError(`attn_mask of shape ${formatShape(t.shape)} cannot be broadcast to ${formatShape(shape)}`);
  const strides = new Array<number>(shape.length).fill(0);
  let st = 1;
  for (let i = t.shape.length - 1; i >= 0; i--) {
    const d = t.shape[i];
    if (d !== 1 && d !== shape[lead + i]) {
      throw new RuntimeError(`attn_mask of shape ${formatShape(t.shape)} cannot be broadcast to ${formatShape(shape)}`);
    }
    strides[lead + i] = d === 1 ? 0 : st;
    st *= d;
  }
  const src = t.data as ArrayLike<number | bigint>;
  const isFloat = t.dtype === "float32";
  const idx = new Array<number>(shape.length).fill(0);
  let off = 0;
  for (let i = 0; i < n; i++) {
    const v = src[off];
    if (isFloat) out[i] = v as number;
    else {
      const on = typeof v === "bigint" ? v !== 0n : v !== 0;
      // PyTorch ≥ 2.0 SDPA: a boolean mask says which positions take part (invertBool);
      // MultiheadAttention's boolean masks say which are masked out.
      out[i] = on !== invertBool ? -Infinity : 0;
    }
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d]++;
      off += strides[d];
      if (idx[d] < shape[d]) break;
      off -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

/** Options of `scaledDotProductAttention` (PyTorch's keyword arguments in camelCase). */
export interface SdpaOptions {
  /** Boolean (`true` = takes part, as PyTorch ≥ 2.0) or float (added) mask broadcastable to `[..., L, S]`. */
  attnMask?: Tensor<DType> | null;
  /** Dropout on the attention weights (applied whenever > 0, as PyTorch's functional form). */
  dropoutP?: number;
  /** Apply a lower-triangular (causal) mask; not allowed together with `attnMask`. */
  isCausal?: boolean;
  /** Score scale; default `1/sqrt(E)`. */
  scale?: number | null;
  /** Uniform [0, 1) source for dropout (default: tsnn's default generator, see `manualSeed`). */
  random?: () => number;
}

/**
 * `softmax(query·keyᵀ·scale + mask)·value` (PyTorch ≥ 2.0: `F.scaled_dot_product_attention`).
 * `query` `[..., L, E]`, `key` `[..., S, E]`, `value` `[..., S, Ev]` with equal leading dims;
 * returns `[..., L, Ev]`.
 */
export function scaledDotProductAttention(query: Tensor, key: Tensor, value: Tensor, opts: SdpaOptions = {}): Tensor {
  const { attnMask = null, dropoutP = 0, isCausal = false, scale = null } = opts;
  for (const [name, t] of [["query", query], ["key", key], ["value", value]] as const) {
    if (t.shape.length < 2) throw new RuntimeError(`scaled_dot_product_attention: ${name} must be at least 2-D, got ${formatShape(t.shape)}`);
    if (t.dtype !== "float32") throw new RuntimeError(`scaled_dot_product_attention: ${name} must be float32, got ${t.dtype}`);
  }
  const lead = query.shape.slice(0, -2);
  const [L, E] = query.shape.slice(-2);
  const [S, Ek] = key.shape.slice(-2);
  const [S2, Ev] = value.shape.slice(-2);
  const same = (a: number[]): boolean => a.length === lead.length && a.every((d, i) => d === lead[i]);
  if (!same(key.shape.slice(0, -2)) || !same(value.shape.slice(0, -2)) || Ek !== E || S2 !== S) {
    throw new RuntimeError(
      `scaled_dot_product_attention: shapes do not match: query ${formatShape(query.shape)}, key ${formatShape(key.shape)}, value ${formatShape(value.shape)}`,
    );
  }
  const batch = numel(lead);
  let mask: AttentionMask | null = null;
  if (isCausal) {
    if (attnMask) throw new RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True");
    const m = new Float32Array(L * S);
    for (let l = 0; l < L; l++) for (let s = l + 1; s < S; s++) m[l * S + s] = -Infinity;
    mask = { data: m, batchStride: 0, rowStride: S };
  } else if (attnMask) {
    mask = { data: broadcastMask(attnMask, [...lead, L, S], true), batchStride: L * S, rowStride: S };
  }
  const sc = scale ?? 1 / Math.sqrt(E);
  const drop = dropoutP > 0 ? { p: dropoutP, random: opts.random ?? (() => defaultGenerator.random()) } : null;
  if (gradMode.enabled && (query.requiresGrad || key.requiresGrad || value.requiresGrad || attnMask?.requiresGrad === true)) {
    return recordedAttention(query, key, value, attnMask, mask, sc, drop, [...lead, L, S]);
  }
  const out = allocFloat32(batch * L * Ev);
  attentionKernel(batch, L, S, E, Ev, query.data, key.data, value.data, sc, mask, out, null, drop);
  return new Tensor(out, [...lead, L, Ev]);
}

/**
 * The recording path of `scaledDotProductAttention` (PyTorch's math reference
 * `_scaled_dot_product_attention_math`): matmul, scale, mask, softmax, dropout and matmul as
 * ops that record, so gradients reach query, key, value and a float mask. Dropout draws in the
 * kernel's order (batch, row, column).
 */
function recordedAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  attnMask: Tensor<DType> | null,
  mask: AttentionMask | null,
  sc: number,
  drop: { p: number; random: () => number } | null,
  scoreShape: number[],
): Tensor {
  let scores = matmul(q, k.transpose(-2, -1)).mul(sc);
  if (attnMask && attnMask.dtype === "float32" && (attnMask as Tensor).requiresGrad) scores = scores.add(attnMask as Tensor);
  else if (mask) {
    const [L, S] = scoreShape.slice(-2);
    scores = scores.add(new Tensor(mask.data, mask.batchStride === 0 ? [L, S] : scoreShape));
  }
  let p = softmax(scores, -1);
  if (drop) {
    const keep = new Float32Array(numel(scoreShape));
    const scaleUp = 1 / (1 - drop.p);
    for (let i = 0; i < keep.length; i++) keep[i] = drop.random() < drop.p ? 0 : scaleUp;
    p = p.mul(new Tensor(keep, scoreShape));
  }
  return matmul(p, v);
}
