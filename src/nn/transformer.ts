/**
 * Attention layers (PyTorch: `nn.MultiheadAttention` in `torch/nn/modules/activation.py`,
 * `nn.TransformerEncoderLayer` / `nn.TransformerEncoder` in `torch/nn/modules/transformer.py`,
 * and `F.multi_head_attention_forward`). Parameter layout, init, printouts, masks and shapes are
 * PyTorch's; the attention itself runs batched over (batch × heads) on the SGEMM
 * (`src/tensor/attention.ts`).
 */
import { isGradEnabled, noGrad, record, recording } from "../autograd/index.js";
import { AssertionError, RuntimeError } from "../errors.js";
import { attentionKernel, linear, sgemm, Tensor, zeros, defaultGenerator, type AttentionMask, type DType } from "../tensor/index.js";
import { bindArgs } from "./args.js";
import { ReLU, GELU } from "./activation.js";
import { ModuleList } from "./container.js";
import { Dropout } from "./dropout.js";
import * as F from "./functional.js";
import { calculateFanInAndFanOut, constant_, normal_, uniform_, xavierNormal_, xavierUniform_ } from "./init.js";
import { Linear } from "./linear.js";
import { Module, Parameter } from "./module.js";
import { LayerNorm } from "./normalization.js";
import { full } from "../tensor/index.js";
import { allocFloat32 } from "../tensor/arena.js";

/**
 * A `Linear` under another name, used for `MultiheadAttention.out_proj` (PyTorch:
 * `torch.nn.modules.linear.NonDynamicallyQuantizableLinear`); prints as
 * `NonDynamicallyQuantizableLinear(in_features=…, out_features=…, bias=True)`.
 */
export class NonDynamicallyQuantizableLinear extends Linear {}

/**
 * `table[index]` for a 1-D int64 `index` of rows (PyTorch: advanced indexing, `IndexBackward0`):
 * the relative position bias gather of Swin and MaxViT. Recorded for autograd (the gradient of
 * each picked row is added back to its row of `table`).
 */
export function indexRows(table: Tensor, index: Tensor<"int64">): Tensor {
  const out = noGrad(() => table.get(index));
  if (recording(table)) {
    const rows = table.shape[0];
    const width = table.numel() / Math.max(rows, 1);
    const idx = index.contiguous().data;
    record("IndexBackward0", [table], [out], ([g]) => {
      const grad = zeros(table.shape);
      const d = grad.data;
      const src = g!.contiguous().data as Float32Array;
      for (let k = 0; k < idx.length; k++) {
        const r = Number(idx[k]);
        for (let j = 0; j < width; j++) d[r * width + j] += src[k * width + j];
      }
      return [grad];
    });
  }
  return out;
}

/** Options of `MultiheadAttention` (PyTorch's keyword arguments in camelCase). */
export interface MultiheadAttentionOptions {
  dropout?: number;
  bias?: boolean;
  addBiasKv?: boolean;
  addZeroAttn?: boolean;
  kdim?: number | null;
  vdim?: number | null;
  batchFirst?: boolean;
}

/** Options of `MultiheadAttention.forward` (PyTorch's keyword arguments in camelCase). */
export interface MultiheadAttentionForwardOptions {
  /** `[N, S]` (or `[S]` unbatched): boolean (`true` = ignore that key) or float (added). */
  keyPaddingMask?: Tensor<DType> | null;
  /** Return the attention weights (default `true`). */
  needWeights?: boolean;
  /** `[L, S]` or `[N·numHeads, L, S]`: boolean (`true` = not allowed) or float (added). */
  attnMask?: Tensor<DType> | null;
  /** Average the returned weights over heads (default `true`). */
  averageAttnWeights?: boolean;
  /** A hint that `attnMask` is the causal mask (PyTorch ≥ 2.0); it requires `attnMask`. */
  isCausal?: boolean;
}

const isFloat = (t: Tensor<DType>): boolean => t.dtype === "float32";

/** Mask values as additive floats: boolean/integer masks → `-inf` where set, float masks as they are. */
function additive(t: Tensor<DType>): Float32Array {
  if (isFloat(t)) return (t as Tensor).data;
  const src = t.data as ArrayLike<number | bigint>;
  const out = allocFloat32(src.length);
  for (let i = 0; i < src.length; i++) if (src[i] !== 0 && src[i] !== 0n) out[i] = -Infinity;
  return out;
}

/**
 * Multi-head attention (PyTorch: `nn.MultiheadAttention`): `out_proj(concat_h softmax(Q_h K_hᵀ /
 * √d_h + mask) V_h)` with Q, K, V projected by `in_proj_weight`/`in_proj_bias` (or
 * `q/k/v_proj_weight` when `kdim`/`vdim` differ from `embedDim`).
 *
 * ```ts
 * const mha = new nn.MultiheadAttention(64, 8, { batchFirst: true });
 * const [out, weights] = mha.call(x, x, x, { keyPaddingMask, needWeights: false });
 * ```
 */
export class MultiheadAttention extends Module {
  embedDim: number;
  kdim: number;
  vdim: number;
  _qkvSameEmbedDim: boolean;
  numHeads: number;
  dropout: number;
  batchFirst: boolean;
  headDim: number;
  addZeroAttn: boolean;
  declare in_proj_weight: Parameter | null;
  declare q_proj_weight: Parameter | null;
  declare k_proj_weight: Parameter | null;
  declare v_proj_weight: Parameter | null;
  declare in_proj_bias: Parameter | null;
  declare out_proj: NonDynamicallyQuantizableLinear;
  declare bias_k: Parameter | null;
  declare bias_v: Parameter | null;

  constructor(
    embedDim: number,
    numHeads: number,
    ...args:
      | [dropout?: number, bias?: boolean, addBiasKv?: boolean, addZeroAttn?: boolean, kdim?: number | null, vdim?: number | null, batchFirst?: boolean]
      | [opts: MultiheadAttentionOptions]
  ) {
    super();
    const o = bindArgs<Required<MultiheadAttentionOptions>>("MultiheadAttention.__init__", args, [
      ["dropout", 0.0], ["bias", true], ["addBiasKv", false], ["addZeroAttn", false], ["kdim", null], ["vdim", null], ["batchFirst", false],
    ]);
    this.embedDim = embedDim;
    this.kdim = o.kdim ?? embedDim;
    this.vdim = o.vdim ?? embedDim;
    this._qkvSameEmbedDim = this.kdim === embedDim && this.vdim === embedDim;
    this.numHeads = numHeads;
    this.dropout = o.dropout;
    this.batchFirst = o.batchFirst;
    this.headDim = Math.floor(embedDim / numHeads);
    if (this.headDim * numHeads !== embedDim) throw new AssertionError("embed_dim must be divisible by num_heads");
    if (!this._qkvSameEmbedDim) {
      this.q_proj_weight = new Parameter(zeros(embedDim, embedDim));
      this.k_proj_weight = new Parameter(zeros(embedDim, this.kdim));
      this.v_proj_weight = new Parameter(zeros(embedDim, this.vdim));
      this.registerParameter("in_proj_weight", null);
    } else {
      this.in_proj_weight = new Parameter(zeros(3 * embedDim, embedDim));
      this.registerParameter("q_proj_weight", null);
      this.registerParameter("k_proj_weight", null);
      this.registerParameter("v_proj_weight", null);
    }
    if (o.bias) this.in_proj_bias = new Parameter(zeros(3 * embedDim));
    else this.registerParameter("in_proj_bias", null);
    this.out_proj = new NonDynamicallyQuantizableLinear(embedDim, embedDim, { bias: o.bias });
    if (o.addBiasKv) {
      this.bias_k = new Parameter(zeros(1, 1, embedDim));
      this.bias_v = new Parameter(zeros(1, 1, embedDim));
    } else {
      this.bias_k = null;
      this.bias_v = null;
    }
    this.addZeroAttn = o.addZeroAttn;
    this._resetParameters();
  }

  /** xavier_uniform_ projections, zero biases, xavier_normal_ bias_k/bias_v (PyTorch: `_reset_parameters`). */
  _resetParameters(): void {
    if (this._qkvSameEmbedDim) xavierUniform_(this.in_proj_weight!);
    else for (const w of [this.q_proj_weight, this.k_proj_weight, this.v_proj_weight]) xavierUniform_(w!);
    if (this.in_proj_bias) {
      constant_(this.in_proj_bias, 0);
      constant_(this.out_proj.bias!, 0);
    }
    if (this.bias_k) xavierNormal_(this.bias_k);
    if (this.bias_v) xavierNormal_(this.bias_v);
  }

  /**
   * `query` `[L, N, E]` (`[N, L, E]` with `batchFirst`, `[L, E]` unbatched), `key` `[S, N, kdim]`,
   * `value` `[S, N, vdim]` → `[output, weights]`: output shaped as `query`; weights `[N, L, S]`
   * averaged over heads, `[N, numHeads, L, S]` with `averageAttnWeights: false` (unbatched: without
   * `N`), or `null` with `needWeights: false`.
   */
  override forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    ...args:
      | [keyPaddingMask?: Tensor<DType> | null, needWeights?: boolean, attnMask?: Tensor<DType> | null, averageAttnWeights?: boolean, isCausal?: boolean]
      | [opts: MultiheadAttentionForwardOptions]
  ): [Tensor, Tensor | null] {
    const o = bindArgs<Required<MultiheadAttentionForwardOptions>>("MultiheadAttention.forward", args, [
      ["keyPaddingMask", null], ["needWeights", true], ["attnMask", null], ["averageAttnWeights", true], ["isCausal", false],
    ]);
    // Recording (grad mode on and an input, mask or parameter requires grad): PyTorch's
    // F.multi_head_attention_forward out of ops that record. Otherwise the fused kernel.
    if (isGradEnabled() && [query, key, value, o.keyPaddingMask, o.attnMask, ...this.parameters()].some((t) => t !== null && t.requiresGrad)) {
      return this._recordedForward(query, key, value, o);
    }
    return multiHeadAttentionForward(this, query, key, value, o);
  }

  /** The recording forward (PyTorch's `forward` calling `F.multi_head_attention_forward`). */
  _recordedForward(query: Tensor, key: Tensor, value: Tensor, o: Required<MultiheadAttentionForwardOptions>): [Tensor, Tensor | null] {
    if (o.isCausal && !o.attnMask) {
      throw new RuntimeError(
        "Need attn_mask if specifying the is_causal hint. You may use the Transformer module method `generate_square_subsequent_mask` to create this mask.",
      );
    }
    const swap = this.batchFirst && query.ndim === 3;
    if (swap) {
      // Transposed to sequence-first, keeping which of query/key/value are the same tensor.
      const kv = key === value;
      const qk = query === key;
      query = query.transpose(1, 0);
      key = qk ? query : key.transpose(1, 0);
      value = kv ? key : value.transpose(1, 0);
    }
    const [out, w] = F.multiHeadAttentionForward(
      query, key, value, this.numHeads, this.in_proj_weight, this.in_proj_bias, this.bias_k, this.bias_v, this.addZeroAttn, this.dropout,
      this.out_proj.weight, this.out_proj.bias, {
        training: this.training, keyPaddingMask: o.keyPaddingMask, needWeights: o.needWeights, attnMask: o.attnMask,
        averageAttnWeights: o.averageAttnWeights, qProjWeight: this.q_proj_weight, kProjWeight: this.k_proj_weight, vProjWeight: this.v_proj_weight,
        embedDimToCheck: this.embedDim,
      },
    );
    return [swap ? out.transpose(1, 0) : out, w];
  }
}

/** The forward of `MultiheadAttention` (PyTorch: `F.multi_head_attention_forward` on the module's tensors). */
function multiHeadAttentionForward(
  m: MultiheadAttention,
  query: Tensor,
  key: Tensor,
  value: Tensor,
  o: Required<MultiheadAttentionForwardOptions>,
): [Tensor, Tensor | null] {
  const H = m.numHeads;
  let { keyPaddingMask: kpm, attnMask } = o;
  const qd = query.shape.length;
  if (qd !== 2 && qd !== 3) {
    throw new AssertionError(`query should be unbatched 2D or batched 3D tensor but received ${qd}-D query tensor`);
  }
  const batched = qd === 3;
  const want = batched ? 3 : 2;
  if (key.shape.length !== want || value.shape.length !== want) {
    throw new AssertionError(
      batched
        ? `For batched (3-D) \`query\`, expected \`key\` and \`value\` to be 3-D but found ${key.shape.length}-D and ${value.shape.length}-D tensors respectively`
        : `For unbatched (2-D) \`query\`, expected \`key\` and \`value\` to be 2-D but found ${key.shape.length}-D and ${value.shape.length}-D tensors respectively`,
    );
  }
  if (kpm && kpm.shape.length !== (batched ? 2 : 1)) {
    throw new AssertionError(
      batched
        ? `For batched (3-D) \`query\`, expected \`key_padding_mask\` to be \`None\` or 2-D but found ${kpm.shape.length}-D tensor instead`
        : `For unbatched (2-D) \`query\`, expected \`key_padding_mask\` to be \`None\` or 1-D but found ${kpm.shape.length}-D tensor instead`,
    );
  }
  if (attnMask && attnMask.shape.length !== 2 && attnMask.shape.length !== 3) {
    throw new AssertionError(
      `For ${batched ? "batched (3-D)" : "unbatched (2-D)"} \`query\`, expected \`attn_mask\` to be \`None\`, 2-D or 3-D but found ${attnMask.shape.length}-D tensor instead`,
    );
  }
  if (o.isCausal && !attnMask) {
    throw new RuntimeError(
      "Need attn_mask if specifying the is_causal hint. You may use the Transformer module method `generate_square_subsequent_mask` to create this mask.",
    );
  }
  // Layout: rows of the flat [*, E] inputs are (l, n) pairs; seq-first puts n innermost.
  const seqFirst = batched && !m.batchFirst;
  const N = batched ? query.shape[m.batchFirst ? 0 : 1] : 1;
  const L = query.shape[batched && m.batchFirst ? 1 : 0];
  const S = key.shape[batched && m.batchFirst ? 1 : 0];
  const E = query.shape[qd - 1];
  if (E !== m.embedDim) throw new AssertionError(`was expecting embedding dimension of ${m.embedDim}, but got ${E}`);
  if (!batched && attnMask && attnMask.shape.length === 3) {
    const exp = [H, L, S];
    if (attnMask.shape.some((d, i) => d !== exp[i])) {
      throw new AssertionError(`Expected \`attn_mask\` shape to be (${exp.join(", ")}) but got torch.Size([${attnMask.shape.join(", ")}])`);
    }
  }
  const kvBatch = key.shape.slice(0, 2).join();
  if (m._qkvSameEmbedDim) {
    if (key.shape.join() !== value.shape.join()) {
      throw new AssertionError(`key shape torch.Size([${key.shape.join(", ")}]) does not match value shape torch.Size([${value.shape.join(", ")}])`);
    }
  } else if (kvBatch !== value.shape.slice(0, 2).join()) {
    throw new AssertionError(
      `key's sequence and batch dims torch.Size([${key.shape.slice(0, 2).join(", ")}]) do not match value's torch.Size([${value.shape.slice(0, 2).join(", ")}])`,
    );
  }
  const dh = m.headDim;
  // A key batch other than the query's: PyTorch fails in the bias_k cat or the per-head view.
  const Nk = batched ? key.shape[m.batchFirst ? 0 : 1] : 1;
  if (Nk !== N) {
    if (m.bias_k && m.bias_v) throw new RuntimeError(`Sizes of tensors must match except in dimension 0. Expected size ${Nk} but got size ${N} for tensor number 1 in the list.`);
    throw new RuntimeError(`shape '[${S}, ${N * H}, ${dh}]' is invalid for input of size ${S * Nk * E}`);
  }
  const rowOf = (n: number, l: number, len: number): number => (seqFirst ? l * N + n : n * len + l);

  // In-projection: q, k, v as [rows, E] in the input's row order.
  const bias = m.in_proj_bias;
  let q: Float32Array, k: Float32Array, v: Float32Array;
  let qStride = E, kStride = E, vStride = E, qOff = 0, kOff = 0, vOff = 0;
  if (m._qkvSameEmbedDim) {
    const W = m.in_proj_weight!;
    if (query === key && key === value) {
      const qkv = linear(query.reshape(-1, E), W, bias).data;
      q = k = v = qkv;
      qStride = kStride = vStride = 3 * E;
      kOff = E;
      vOff = 2 * E;
    } else {
      q = project(query.data, L * N, E, W.data, 0, E, bias?.data ?? null, 0);
      if (key === value) {
        k = v = project(key.data, S * N, E, W.data, E * E, 2 * E, bias?.data ?? null, E);
        kStride = vStride = 2 * E;
        vOff = E;
      } else {
        k = project(key.data, S * N, E, W.data, E * E, E, bias?.data ?? null, E);
        v = project(value.data, S * N, E, W.data, 2 * E * E, E, bias?.data ?? null, 2 * E);
      }
    }
  } else {
    const b = bias?.data ?? null;
    q = project(query.data, L * N, E, m.q_proj_weight!.data, 0, E, b, 0);
    k = project(key.data, S * N, m.kdim, m.k_proj_weight!.data, 0, E, b, E);
    v = project(value.data, S * N, m.vdim, m.v_proj_weight!.data, 0, E, b, 2 * E);
  }

  // Keys gain one position for bias_k/bias_v and one for add_zero_attn; masks gain zero columns.
  const extraBias = m.bias_k && m.bias_v ? 1 : 0;
  const extraZero = m.addZeroAttn ? 1 : 0;
  const Sx = S + extraBias + extraZero;
  const B = N * H;
  const qh = new Float32Array(B * L * dh);
  const kh = new Float32Array(B * Sx * dh);
  const vh = new Float32Array(B * Sx * dh);
  for (let n = 0; n < N; n++) {
    for (let h = 0; h < H; h++) {
      const b = n * H + h;
      for (let l = 0; l < L; l++) {
        const src = rowOf(n, l, L) * qStride + qOff + h * dh;
        qh.set(q.subarray(src, src + dh), (b * L + l) * dh);
      }
      for (let s = 0; s < S; s++) {
        const r = rowOf(n, s, S);
        kh.set(k.subarray(r * kStride + kOff + h * dh, r * kStride + kOff + h * dh + dh), (b * Sx + s) * dh);
        vh.set(v.subarray(r * vStride + vOff + h * dh, r * vStride + vOff + h * dh + dh), (b * Sx + s) * dh);
      }
      if (extraBias) {
        kh.set(m.bias_k!.data.subarray(h * dh, h * dh + dh), (b * Sx + S) * dh);
        vh.set(m.bias_v!.data.subarray(h * dh, h * dh + dh), (b * Sx + S) * dh);
      }
    }
  }

  // Masks → one additive mask over [B or 1, L or 1, Sx].
  let mask: AttentionMask | null = null;
  let attn: Float32Array | null = null;
  let attnBatched = false;
  if (attnMask) {
    const ad = attnMask.shape.length;
    const exp = ad === 2 ? [L, S] : [B, L, S];
    if (attnMask.shape.length !== exp.length || attnMask.shape.some((d, i) => d !== exp[i])) {
      throw new RuntimeError(`The shape of the ${ad}D attn_mask is torch.Size([${attnMask.shape.join(", ")}]), but should be (${exp.join(", ")}).`);
    }
    attnBatched = ad === 3;
    const src = additive(attnMask);
    const count = attnBatched ? B : 1;
    attn = new Float32Array(count * L * Sx);
    for (let r = 0; r < count * L; r++) attn.set(src.subarray(r * S, r * S + S), r * Sx);
  }
  if (kpm) {
    const exp = batched ? [N, S] : [S];
    if (kpm.shape.some((d, i) => d !== exp[i])) {
      throw new AssertionError(`expecting key_padding_mask shape of (${N}, ${Sx}), but got torch.Size([${kpm.shape.join(", ")}])`);
    }
    const src = additive(kpm);
    const full = new Float32Array(B * L * Sx);
    for (let b = 0; b < B; b++) {
      const n = Math.floor(b / H);
      for (let l = 0; l < L; l++) {
        const at = (b * L + l) * Sx;
        const am = attn ? (attnBatched ? (b * L + l) * Sx : l * Sx) : -1;
        for (let s = 0; s < S; s++) full[at + s] = src[n * S + s] + (am >= 0 ? attn![am + s] : 0);
        for (let s = S; s < Sx; s++) full[at + s] = am >= 0 ? attn![am + s] : 0;
      }
    }
    mask = { data: full, batchStride: L * Sx, rowStride: Sx };
  } else if (attn) {
    mask = { data: attn, batchStride: attnBatched ? L * Sx : 0, rowStride: Sx };
  }

  const drop = m.training && m.dropout > 0 ? { p: m.dropout, random: () => defaultGenerator.random() } : null;
  const weights = o.needWeights ? new Float32Array(B * L * Sx) : null;
  const outH = new Float32Array(B * L * dh);
  attentionKernel(B, L, Sx, dh, dh, qh, kh, vh, 1 / Math.sqrt(dh), mask, outH, weights, drop);

  // Heads back to [rows, E] in the query's row order, then out_proj.
  const merged = allocFloat32(L * N * E);
  for (let b = 0; b < B; b++) {
    const n = Math.floor(b / H);
    const h = b % H;
    for (let l = 0; l < L; l++) {
      merged.set(outH.subarray((b * L + l) * dh, (b * L + l + 1) * dh), rowOf(n, l, L) * E + h * dh);
    }
  }
  const out = linear(new Tensor(merged, [L * N, E]), m.out_proj.weight, m.out_proj.bias);
  const output = out.reshape(query.shape);
  if (!weights) return [output, null];
  let w: Tensor;
  if (o.averageAttnWeights) {
    const avg = new Float32Array(N * L * Sx);
    for (let n = 0; n < N; n++) {
      for (let h = 0; h < H; h++) {
        const src = weights.subarray((n * H + h) * L * Sx, (n * H + h + 1) * L * Sx);
        for (let i = 0; i < L * Sx; i++) avg[n * L * Sx + i] += src[i];
      }
    }
    for (let i = 0; i < avg.length; i++) avg[i] /= H;
    w = new Tensor(avg, batched ? [N, L, Sx] : [L, Sx]);
  } else {
    w = new Tensor(weights, batched ? [N, H, L, Sx] : [H, L, Sx]);
  }
  return [output, w];
}

/**
 * `x·W[rows wOff..]ᵀ + b[bOff..]` for `rows` rows of `inF` values and `outF` outputs, where the
 * weight block starts `wOff` floats into `W` (PyTorch: `linear(x, w_q, b_q)` on a split of
 * `in_proj_weight`; a strided view instead of a split copy).
 */
function project(x: Float32Array, rows: number, inF: number, W: Float32Array, wOff: number, outF: number, b: Float32Array | null, bOff: number): Float32Array {
  const out = allocFloat32(rows * outF);
  sgemm(rows, outF, inF, { data: x, offset: 0, rowStride: inF, colStride: 1 }, { data: W, offset: wOff, rowStride: 1, colStride: inF }, out, 0, outF);
  if (b) for (let r = 0; r < rows; r++) for (let j = 0; j < outF; j++) out[r * outF + j] += b[bOff + j];
  return out;
}

/** An activation given by name or as a function/module (PyTorch: `activation="relu"` or a callable). */
export type TransformerActivation = "relu" | "gelu" | ((x: Tensor) => Tensor) | Module;

/** Options of `TransformerEncoderLayer` (PyTorch's keyword arguments in camelCase). */
export interface TransformerEncoderLayerOptions {
  dimFeedforward?: number;
  dropout?: number;
  activation?: TransformerActivation;
  layerNormEps?: number;
  batchFirst?: boolean;
  normFirst?: boolean;
}

/** Options of `TransformerEncoderLayer.forward`. */
export interface TransformerEncoderLayerForwardOptions {
  srcMask?: Tensor<DType> | null;
  srcKeyPaddingMask?: Tensor<DType> | null;
  isCausal?: boolean;
}

const reluActivation = (x: Tensor): Tensor => F.relu(x);
const geluActivation = (x: Tensor): Tensor => F.gelu(x);
/** The functions `activation: "relu" | "gelu"` stand for (they keep no tensor). @internal */
export const transformerActivations = [reluActivation, geluActivation];

function activationFn(a: TransformerActivation): TransformerActivation {
  if (a === "relu") return reluActivation;
  if (a === "gelu") return geluActivation;
  if (typeof a === "string") throw new RuntimeError(`activation should be relu/gelu, not ${a}`);
  return a;
}

/**
 * Self-attention then a feed-forward block, each with a residual connection and LayerNorm, after
 * (default) or before (`normFirst`) the block (PyTorch: `nn.TransformerEncoderLayer`).
 */
export class TransformerEncoderLayer extends Module {
  declare self_attn: MultiheadAttention;
  declare linear1: Linear;
  declare dropout: Dropout;
  declare linear2: Linear;
  normFirst: boolean;
  declare norm1: LayerNorm;
  declare norm2: LayerNorm;
  declare dropout1: Dropout;
  declare dropout2: Dropout;
  declare activation: ((x: Tensor) => Tensor) | Module;
  /** 1 for ReLU, 2 for GELU, 0 for any other activation (PyTorch: `activation_relu_or_gelu`). */
  activationReluOrGelu: number;

  constructor(
    dModel: number,
    nhead: number,
    ...args:
      | [dimFeedforward?: number, dropout?: number, activation?: TransformerActivation, layerNormEps?: number, batchFirst?: boolean, normFirst?: boolean]
      | [opts: TransformerEncoderLayerOptions]
  ) {
    super();
    const o = bindArgs<Required<TransformerEncoderLayerOptions>>("TransformerEncoderLayer.__init__", args, [
      ["dimFeedforward", 2048], ["dropout", 0.1], ["activation", "relu"], ["layerNormEps", 1e-5], ["batchFirst", false], ["normFirst", false],
    ]);
    this.self_attn = new MultiheadAttention(dModel, nhead, { dropout: o.dropout, batchFirst: o.batchFirst });
    this.linear1 = new Linear(dModel, o.dimFeedforward);
    this.dropout = new Dropout(o.dropout);
    this.linear2 = new Linear(o.dimFeedforward, dModel);
    this.normFirst = o.normFirst;
    this.norm1 = new LayerNorm(dModel, { eps: o.layerNormEps });
    this.norm2 = new LayerNorm(dModel, { eps: o.layerNormEps });
    this.dropout1 = new Dropout(o.dropout);
    this.dropout2 = new Dropout(o.dropout);
    const a = o.activation;
    this.activationReluOrGelu = a === "relu" || a instanceof ReLU ? 1 : a === "gelu" || a instanceof GELU ? 2 : 0;
    this.activation = activationFn(a) as ((x: Tensor) => Tensor) | Module;
  }

  /** `src` `[S, N, E]` (`[N, S, E]` with `batchFirst`, `[S, E]` unbatched) → same shape. */
  override forward(
    src: Tensor,
    ...args: [srcMask?: Tensor<DType> | null, srcKeyPaddingMask?: Tensor<DType> | null, isCausal?: boolean] | [opts: TransformerEncoderLayerForwardOptions]
  ): Tensor {
    const o = bindArgs<Required<TransformerEncoderLayerForwardOptions>>("TransformerEncoderLayer.forward", args, [
      ["srcMask", null], ["srcKeyPaddingMask", null], ["isCausal", false],
    ]);
    let x = src;
    if (this.normFirst) {
      x = x.add(this._saBlock(this.norm1.call(x), o));
      x = x.add(this._ffBlock(this.norm2.call(x)));
    } else {
      x = this.norm1.call(x.add(this._saBlock(x, o)));
      x = this.norm2.call(x.add(this._ffBlock(x)));
    }
    return x;
  }

  /** Self-attention block (PyTorch: `_sa_block`). */
  _saBlock(x: Tensor, o: Required<TransformerEncoderLayerForwardOptions>): Tensor {
    const [y] = this.self_attn.call(x, x, x, { attnMask: o.srcMask, keyPaddingMask: o.srcKeyPaddingMask, needWeights: false, isCausal: o.isCausal });
    return this.dropout1.call(y);
  }

  /** Feed-forward block (PyTorch: `_ff_block`). */
  _ffBlock(x: Tensor): Tensor {
    const act = this.activation;
    const h = this.linear1.call(x);
    const a = act instanceof Module ? act.call(h) : act(h);
    return this.dropout2.call(this.linear2.call(this.dropout.call(a)));
  }
}

/** Options of `TransformerEncoder`. */
export interface TransformerEncoderOptions {
  norm?: Module | null;
  enableNestedTensor?: boolean;
  maskCheck?: boolean;
}

/**
 * A stack of `numLayers` deep copies of `encoderLayer`, then an optional `norm` (PyTorch:
 * `nn.TransformerEncoder`). The copies start with the same weights, as `copy.deepcopy` gives.
 */
export class TransformerEncoder extends Module {
  declare layers: ModuleList;
  numLayers: number;
  declare norm: Module | null;
  enableNestedTensor: boolean;
  maskCheck: boolean;

  constructor(
    encoderLayer: Module,
    numLayers: number,
    ...args: [norm?: Module | null, enableNestedTensor?: boolean, maskCheck?: boolean] | [opts: TransformerEncoderOptions]
  ) {
    super();
    const o = bindArgs<Required<TransformerEncoderOptions>>("TransformerEncoder.__init__", args, [
      ["norm", null], ["enableNestedTensor", true], ["maskCheck", true],
    ]);
    this.layers = new ModuleList(Array.from({ length: numLayers }, () => deepCopy(encoderLayer)));
    this.numLayers = numLayers;
    this.norm = o.norm;
    this.enableNestedTensor = o.enableNestedTensor;
    this.maskCheck = o.maskCheck;
  }

  /** Runs the layers in turn with the same masks, then `norm`. */
  override forward(
    src: Tensor,
    ...args: [mask?: Tensor<DType> | null, srcKeyPaddingMask?: Tensor<DType> | null, isCausal?: boolean] | [opts: { mask?: Tensor<DType> | null; srcKeyPaddingMask?: Tensor<DType> | null; isCausal?: boolean }]
  ): Tensor {
    const o = bindArgs<{ mask: Tensor<DType> | null; srcKeyPaddingMask: Tensor<DType> | null; isCausal: boolean }>("TransformerEncoder.forward", args, [
      ["mask", null], ["srcKeyPaddingMask", null], ["isCausal", false],
    ]);
    let out = src;
    for (const layer of this.layers) out = layer.call(out, { srcMask: o.mask, srcKeyPaddingMask: o.srcKeyPaddingMask, isCausal: o.isCausal });
    if (o.srcKeyPaddingMask && this._nestedPath(src, o.mask, o.srcKeyPaddingMask)) out = zeroPadded(out, o.srcKeyPaddingMask);
    if (this.norm) out = this.norm.call(out);
    return out;
  }

  /**
   * Whether PyTorch (1.13-2.x) would run this call on nested tensors (its inference fast path):
   * then the padded positions of the layers' output are zeros, before `norm`. The conditions are
   * PyTorch's, grad mode included: under `noGrad` (or with no tensor requiring grad) only.
   */
  _nestedPath(src: Tensor, mask: Tensor<DType> | null, kpm: Tensor<DType>): boolean {
    const first = this.layers.at(0);
    if (!(first instanceof TransformerEncoderLayer) || first.normFirst || first.training) return false;
    const sa = first.self_attn;
    if (!sa.batchFirst || !sa._qkvSameEmbedDim || first.activationReluOrGelu === 0) return false;
    if (first.norm1.eps !== first.norm2.eps || src.dim() !== 3 || !this.enableNestedTensor || mask !== null) return false;
    if (sa.numHeads % 2 === 1) return false;
    // Not while autograd records (PyTorch: grad enabled and one of these tensors requires grad).
    const tensors = [
      src, sa.in_proj_weight, sa.in_proj_bias, sa.out_proj.weight, sa.out_proj.bias, first.norm1.weight, first.norm1.bias,
      first.norm2.weight, first.norm2.bias, first.linear1.weight, first.linear1.bias, first.linear2.weight, first.linear2.bias,
    ];
    if (isGradEnabled() && tensors.some((t) => t !== null && (t as { requiresGrad?: boolean }).requiresGrad === true)) return false;
    // The key padding mask must keep a prefix of each row (PyTorch: `_nested_tensor_from_mask_left_aligned`).
    if (this.maskCheck) {
      const [N, S] = kpm.shape;
      const m = kpm.data as ArrayLike<number | bigint | boolean>;
      for (let n = 0; n < N; n++) {
        let padded = false;
        for (let s = 0; s < S; s++) {
          const p = m[n * S + s] !== 0 && m[n * S + s] !== 0n && m[n * S + s] !== false;
          if (padded && !p) return false;
          padded = p;
        }
      }
    }
    return true;
  }
}

/** `x` `[N, S, E]` with the rows the key padding mask sets replaced by zeros. */
function zeroPadded(x: Tensor, kpm: Tensor<DType>): Tensor {
  const [N, S, E] = x.shape;
  const out = x.contiguous().clone();
  const d = out.data;
  const m = kpm.data as ArrayLike<number | bigint | boolean>;
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) if (m[n * S + s] !== 0 && m[n * S + s] !== 0n && m[n * S + s] !== false) d.fill(0, (n * S + s) * E, (n * S + s + 1) * E);
  }
  return out;
}

function copyValue(v: unknown, memo: Map<unknown, unknown>): unknown {
  if (v instanceof Module) return deepCopy(v, memo);
  if (v instanceof Parameter) return new Parameter(v.clone(), v.requiresGrad);
  if (v instanceof Tensor) return v.clone();
  if (Array.isArray(v)) return v.map((x) => copyValue(x, memo));
  return v;
}

/**
 * A deep copy of a module: same class, hyper-parameters, children, and fresh copies of every
 * parameter and buffer (PyTorch: `copy.deepcopy(module)`). Modules shared inside the tree stay
 * shared in the copy. The subclass constructor does not run (no re-initialisation).
 */
export function deepCopy<T extends Module>(module: T, memo: Map<unknown, unknown> = new Map()): T {
  if (memo.has(module)) return memo.get(module) as T;
  const c = Reflect.construct(Module, [], module.constructor) as T;
  memo.set(module, c);
  for (const [name, p] of module._parameters) c.registerParameter(name, p === null ? null : (copyValue(p, memo) as Parameter));
  for (const [name, b] of module._buffers) {
    c.registerBuffer(name, b === null ? null : b.clone(), { persistent: !module._nonPersistentBuffers.has(name) });
  }
  for (const [name, child] of module._modules) c.registerModule(name, child === null ? null : deepCopy(child, memo));
  for (const key of Object.keys(module)) {
    if (module._parameters.has(key) || module._buffers.has(key) || module._modules.has(key)) continue;
    (c as any)[key] = copyValue((module as any)[key], memo);
  }
  if (!module.training) c.eval();
  return c;
}


// ---------------------------------------------------------------- decoder and the full Transformer

/** Options of `TransformerDecoderLayer` (PyTorch's keyword arguments in camelCase). */
export type TransformerDecoderLayerOptions = TransformerEncoderLayerOptions;

/** Options of `TransformerDecoderLayer.forward` / `TransformerDecoder.forward`. */
export interface TransformerDecoderForwardOptions {
  tgtMask?: Tensor<DType> | null;
  memoryMask?: Tensor<DType> | null;
  tgtKeyPaddingMask?: Tensor<DType> | null;
  memoryKeyPaddingMask?: Tensor<DType> | null;
}

type DecoderForwardArgs =
  | [tgtMask?: Tensor<DType> | null, memoryMask?: Tensor<DType> | null, tgtKeyPaddingMask?: Tensor<DType> | null, memoryKeyPaddingMask?: Tensor<DType> | null]
  | [opts: TransformerDecoderForwardOptions];

const DECODER_FORWARD_ARGS = [["tgtMask", null], ["memoryMask", null], ["tgtKeyPaddingMask", null], ["memoryKeyPaddingMask", null]] as const;

/**
 * Self-attention over the target, cross-attention to the encoder's `memory`, then a feed-forward
 * block, each with a residual connection and LayerNorm after (default) or before (`normFirst`)
 * the block (PyTorch: `nn.TransformerDecoderLayer(d_model, nhead, dim_feedforward=2048,
 * dropout=0.1, activation=relu, layer_norm_eps=1e-05, batch_first=False, norm_first=False)`).
 */
export class TransformerDecoderLayer extends Module {
  declare self_attn: MultiheadAttention;
  declare multihead_attn: MultiheadAttention;
  declare linear1: Linear;
  declare dropout: Dropout;
  declare linear2: Linear;
  normFirst: boolean;
  declare norm1: LayerNorm;
  declare norm2: LayerNorm;
  declare norm3: LayerNorm;
  declare dropout1: Dropout;
  declare dropout2: Dropout;
  declare dropout3: Dropout;
  declare activation: ((x: Tensor) => Tensor) | Module;

  constructor(
    dModel: number,
    nhead: number,
    ...args:
      | [dimFeedforward?: number, dropout?: number, activation?: TransformerActivation, layerNormEps?: number, batchFirst?: boolean, normFirst?: boolean]
      | [opts: TransformerDecoderLayerOptions]
  ) {
    super();
    const o = bindArgs<Required<TransformerDecoderLayerOptions>>("TransformerDecoderLayer.__init__", args, [
      ["dimFeedforward", 2048], ["dropout", 0.1], ["activation", "relu"], ["layerNormEps", 1e-5], ["batchFirst", false], ["normFirst", false],
    ], 3);
    this.self_attn = new MultiheadAttention(dModel, nhead, { dropout: o.dropout, batchFirst: o.batchFirst });
    this.multihead_attn = new MultiheadAttention(dModel, nhead, { dropout: o.dropout, batchFirst: o.batchFirst });
    this.linear1 = new Linear(dModel, o.dimFeedforward);
    this.dropout = new Dropout(o.dropout);
    this.linear2 = new Linear(o.dimFeedforward, dModel);
    this.normFirst = o.normFirst;
    this.norm1 = new LayerNorm(dModel, { eps: o.layerNormEps });
    this.norm2 = new LayerNorm(dModel, { eps: o.layerNormEps });
    this.norm3 = new LayerNorm(dModel, { eps: o.layerNormEps });
    this.dropout1 = new Dropout(o.dropout);
    this.dropout2 = new Dropout(o.dropout);
    this.dropout3 = new Dropout(o.dropout);
    this.activation = activationFn(o.activation) as ((x: Tensor) => Tensor) | Module;
  }

  /** `tgt` `[T, N, E]` (`[N, T, E]` with `batchFirst`, `[T, E]` unbatched), `memory` `[S, N, E]` → `tgt`'s shape. */
  override forward(tgt: Tensor, memory: Tensor, ...args: DecoderForwardArgs): Tensor {
    const o = bindArgs<Required<TransformerDecoderForwardOptions>>("TransformerDecoderLayer.forward", args, DECODER_FORWARD_ARGS, 3);
    let x = tgt;
    if (this.normFirst) {
      x = x.add(this._saBlock(this.norm1.call(x), o.tgtMask, o.tgtKeyPaddingMask));
      x = x.add(this._mhaBlock(this.norm2.call(x), memory, o.memoryMask, o.memoryKeyPaddingMask));
      x = x.add(this._ffBlock(this.norm3.call(x)));
    } else {
      x = this.norm1.call(x.add(this._saBlock(x, o.tgtMask, o.tgtKeyPaddingMask)));
      x = this.norm2.call(x.add(this._mhaBlock(x, memory, o.memoryMask, o.memoryKeyPaddingMask)));
      x = this.norm3.call(x.add(this._ffBlock(x)));
    }
    return x;
  }

  /** Self-attention block (PyTorch: `_sa_block`). */
  _saBlock(x: Tensor, attnMask: Tensor<DType> | null, keyPaddingMask: Tensor<DType> | null): Tensor {
    const [y] = this.self_attn.call(x, x, x, { attnMask, keyPaddingMask, needWeights: false });
    return this.dropout1.call(y);
  }

  /** Cross-attention block (PyTorch: `_mha_block`). */
  _mhaBlock(x: Tensor, mem: Tensor, attnMask: Tensor<DType> | null, keyPaddingMask: Tensor<DType> | null): Tensor {
    const [y] = this.multihead_attn.call(x, mem, mem, { attnMask, keyPaddingMask, needWeights: false });
    return this.dropout2.call(y);
  }

  /** Feed-forward block (PyTorch: `_ff_block`). */
  _ffBlock(x: Tensor): Tensor {
    const act = this.activation;
    const h = this.linear1.call(x);
    const a = act instanceof Module ? act.call(h) : act(h);
    return this.dropout3.call(this.linear2.call(this.dropout.call(a)));
  }
}

/**
 * A stack of `numLayers` deep copies of `decoderLayer`, then an optional `norm` (PyTorch:
 * `nn.TransformerDecoder(decoder_layer, num_layers, norm=None)`).
 */
export class TransformerDecoder extends Module {
  declare layers: ModuleList;
  numLayers: number;
  declare norm: Module | null;

  constructor(decoderLayer: Module, numLayers: number, ...args: [norm?: Module | null] | [opts: { norm?: Module | null }]) {
    super();
    const o = bindArgs<{ norm: Module | null }>("TransformerDecoder.__init__", args, [["norm", null]], 3);
    this.layers = new ModuleList(Array.from({ length: numLayers }, () => deepCopy(decoderLayer)));
    this.numLayers = numLayers;
    this.norm = o.norm;
  }

  /** Runs the layers in turn against the same `memory` and masks, then `norm`. */
  override forward(tgt: Tensor, memory: Tensor, ...args: DecoderForwardArgs): Tensor {
    const o = bindArgs<Required<TransformerDecoderForwardOptions>>("TransformerDecoder.forward", args, DECODER_FORWARD_ARGS, 3);
    let out = tgt;
    for (const layer of this.layers) out = layer.call(out, memory, o);
    if (this.norm) out = this.norm.call(out);
    return out;
  }
}

/** Options of `Transformer` (PyTorch's keyword arguments in camelCase). */
export interface TransformerOptions {
  dModel?: number;
  nhead?: number;
  numEncoderLayers?: number;
  numDecoderLayers?: number;
  dimFeedforward?: number;
  dropout?: number;
  activation?: TransformerActivation;
  customEncoder?: Module | null;
  customDecoder?: Module | null;
  layerNormEps?: number;
  batchFirst?: boolean;
  normFirst?: boolean;
}

/** Options of `Transformer.forward`. */
export interface TransformerForwardOptions {
  srcMask?: Tensor<DType> | null;
  tgtMask?: Tensor<DType> | null;
  memoryMask?: Tensor<DType> | null;
  srcKeyPaddingMask?: Tensor<DType> | null;
  tgtKeyPaddingMask?: Tensor<DType> | null;
  memoryKeyPaddingMask?: Tensor<DType> | null;
}

/**
 * The encoder-decoder Transformer of "Attention Is All You Need" (PyTorch: `nn.Transformer(
 * d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6, dim_feedforward=2048,
 * dropout=0.1, activation=relu, custom_encoder=None, custom_decoder=None, layer_norm_eps=1e-05,
 * batch_first=False, norm_first=False)`): encoder and decoder stacks with a final LayerNorm each;
 * every parameter with more than one dim is re-initialised with `xavier_uniform_`.
 */
export class Transformer extends Module {
  declare encoder: Module;
  declare decoder: Module;
  dModel: number;
  nhead: number;
  batchFirst: boolean;

  constructor(
    ...args:
      | [dModel?: number, nhead?: number, numEncoderLayers?: number, numDecoderLayers?: number, dimFeedforward?: number, dropout?: number,
        activation?: TransformerActivation, customEncoder?: Module | null, customDecoder?: Module | null, layerNormEps?: number, batchFirst?: boolean, normFirst?: boolean]
      | [opts: TransformerOptions]
  ) {
    super();
    const o = bindArgs<Required<TransformerOptions>>("Transformer.__init__", args, [
      ["dModel", 512], ["nhead", 8], ["numEncoderLayers", 6], ["numDecoderLayers", 6], ["dimFeedforward", 2048], ["dropout", 0.1],
      ["activation", "relu"], ["customEncoder", null], ["customDecoder", null], ["layerNormEps", 1e-5], ["batchFirst", false], ["normFirst", false],
    ]);
    const layerArgs = [o.dimFeedforward, o.dropout, o.activation, o.layerNormEps, o.batchFirst, o.normFirst] as const;
    if (o.customEncoder !== null) this.encoder = o.customEncoder;
    else {
      const layer = new TransformerEncoderLayer(o.dModel, o.nhead, ...layerArgs);
      this.encoder = new TransformerEncoder(layer, o.numEncoderLayers, new LayerNorm(o.dModel, { eps: o.layerNormEps }));
    }
    if (o.customDecoder !== null) this.decoder = o.customDecoder;
    else {
      const layer = new TransformerDecoderLayer(o.dModel, o.nhead, ...layerArgs);
      this.decoder = new TransformerDecoder(layer, o.numDecoderLayers, new LayerNorm(o.dModel, { eps: o.layerNormEps }));
    }
    this._resetParameters();
    this.dModel = o.dModel;
    this.nhead = o.nhead;
    this.batchFirst = o.batchFirst;
  }

  /**
   * `src` `[S, N, E]` and `tgt` `[T, N, E]` (`batchFirst`: `[N, S, E]`, `[N, T, E]`; unbatched
   * `[S, E]`, `[T, E]`) → `[T, N, E]`: `decoder(tgt, encoder(src))` with the masks.
   */
  override forward(
    src: Tensor,
    tgt: Tensor,
    ...args:
      | [srcMask?: Tensor<DType> | null, tgtMask?: Tensor<DType> | null, memoryMask?: Tensor<DType> | null, srcKeyPaddingMask?: Tensor<DType> | null,
        tgtKeyPaddingMask?: Tensor<DType> | null, memoryKeyPaddingMask?: Tensor<DType> | null]
      | [opts: TransformerForwardOptions]
  ): Tensor {
    const o = bindArgs<Required<TransformerForwardOptions>>("Transformer.forward", args, [
      ["srcMask", null], ["tgtMask", null], ["memoryMask", null], ["srcKeyPaddingMask", null], ["tgtKeyPaddingMask", null], ["memoryKeyPaddingMask", null],
    ], 3);
    const batched = src.dim() === 3;
    if (batched && src.shape[this.batchFirst ? 0 : 1] !== tgt.shape[this.batchFirst ? 0 : 1]) {
      throw new RuntimeError("the batch number of src and tgt must be equal");
    }
    if (src.shape[src.dim() - 1] !== this.dModel || tgt.shape[tgt.dim() - 1] !== this.dModel) {
      throw new RuntimeError("the feature number of src and tgt must be equal to d_model");
    }
    const memory = this.encoder.call(src, { mask: o.srcMask, srcKeyPaddingMask: o.srcKeyPaddingMask });
    return this.decoder.call(tgt, memory, {
      tgtMask: o.tgtMask, memoryMask: o.memoryMask, tgtKeyPaddingMask: o.tgtKeyPaddingMask, memoryKeyPaddingMask: o.memoryKeyPaddingMask,
    });
  }

  /**
   * A `[sz, sz]` float mask with `-inf` above the diagonal and `0` elsewhere: position i attends to
   * positions ≤ i (PyTorch: `nn.Transformer.generate_square_subsequent_mask(sz)`).
   */
  static generateSquareSubsequentMask(sz: number): Tensor {
    return full([sz, sz], -Infinity).triu(1);
  }

  /** `xavier_uniform_` on every parameter with more than one dim (PyTorch: `_reset_parameters`). */
  _resetParameters(): void {
    for (const p of this.parameters()) if (p.dim() > 1) xavierUniform_(p);
  }
}
