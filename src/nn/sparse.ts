/**
 * Lookup-table layers (PyTorch: `torch/nn/modules/sparse.py`, `F.embedding`): `Embedding`, rows
 * of a `[numEmbeddings, embeddingDim]` table picked by int64 indices. Gradients flow to the picked
 * rows (PyTorch: `EmbeddingBackward0`), never to `paddingIdx`'s row.
 */
import { record, recording } from "../autograd/graph.js";
import { noGrad } from "../autograd/grad_mode.js";
import { AssertionError, IndexError, NotImplementedError, RuntimeError, ValueError } from "../errors.js";
import { Tensor, zeros, type DType } from "../tensor/index.js";
import { bindArgs } from "./args.js";
import { normal_ } from "./init.js";
import { Module, Parameter } from "./module.js";
import { pyFloat } from "./repr.js";
import { requireTensor } from "./utils.js";

/** Keyword arguments of `Embedding` (and `F.embedding`) in camelCase. */
export interface EmbeddingOptions {
  paddingIdx?: number | null;
  maxNorm?: number | null;
  normType?: number;
  scaleGradByFreq?: boolean;
  /** Accepted for PyTorch compatibility: tsnn's gradient is always a dense tensor. */
  sparse?: boolean;
  /** PyTorch's private `_weight`: an initial table of shape `[numEmbeddings, embeddingDim]`. */
  _weight?: Tensor | null;
}

const EMBEDDING_ARGS = [
  ["paddingIdx", null], ["maxNorm", null], ["normType", 2], ["scaleGradByFreq", false], ["sparse", false], ["_weight", null],
] as const;

/** PyTorch's checks of `indices` for an embedding lookup (int64, as `torch.LongTensor`). */
function indexValues(input: Tensor<DType>): BigInt64Array {
  if (input.dtype !== "int64") {
    const name = input.dtype === "float32" ? "torch.FloatTensor" : "torch.BoolTensor";
    throw new RuntimeError(
      `Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; but got ${name} instead (while checking arguments for embedding)`,
    );
  }
  return input.contiguous().data as BigInt64Array;
}

/**
 * Rescale, in place, each row of `weight` that `input` picks so that its `normType`-norm is at
 * most `maxNorm` (PyTorch: `torch.embedding_renorm_`: `scale = maxNorm / (norm + 1e-7)`).
 */
export function embeddingRenorm_(weight: Tensor, input: Tensor<DType>, maxNorm: number, normType = 2): Tensor {
  const idx = indexValues(input);
  const [rows, dim] = weight.shape;
  const w = weight.data;
  const seen = new Set<number>();
  for (let i = 0; i < idx.length; i++) {
    const r = Number(idx[i]);
    if (r < 0 || r >= rows) throw new IndexError("index out of range in self");
    if (seen.has(r)) continue;
    seen.add(r);
    let norm = 0;
    const o = r * dim;
    if (normType === Infinity) for (let j = 0; j < dim; j++) norm = Math.max(norm, Math.abs(w[o + j]));
    else if (normType === 1) for (let j = 0; j < dim; j++) norm += Math.abs(w[o + j]);
    else if (normType === 2) {
      for (let j = 0; j < dim; j++) norm += w[o + j] * w[o + j];
      norm = Math.sqrt(norm);
    } else {
      for (let j = 0; j < dim; j++) norm += Math.abs(w[o + j]) ** normType;
      norm = norm ** (1 / normType);
    }
    norm = Math.fround(norm);
    if (norm > maxNorm) {
      const scale = Math.fround(maxNorm / (norm + 1e-7));
      for (let j = 0; j < dim; j++) w[o + j] *= scale;
    }
  }
  weight._bumpVersion();
  return weight;
}

/**
 * `weight[input]`: an int64 `input` of any shape → `[...input.shape, embeddingDim]` (PyTorch:
 * `F.embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
 * scale_grad_by_freq=False, sparse=False)`). With `maxNorm` the picked rows of `weight` are
 * renormalised in place first, as PyTorch does. The gradient skips `paddingIdx`'s row and, with
 * `scaleGradByFreq`, divides each row's gradient by how often the row occurs in `input`.
 */
export function embedding(
  input: Tensor<DType>,
  weight: Tensor,
  ...args: [paddingIdx?: number | null, maxNorm?: number | null, normType?: number, scaleGradByFreq?: boolean, sparse?: boolean] | [opts: Omit<EmbeddingOptions, "_weight">]
): Tensor {
  requireTensor("embedding", input);
  const o = bindArgs<Required<Omit<EmbeddingOptions, "_weight">>>("embedding", args, EMBEDDING_ARGS.slice(0, 5), 2);
  if (weight.dim() !== 2) throw new RuntimeError(`'weight' must be 2-D`);
  const [rows, dim] = weight.shape;
  let paddingIdx = o.paddingIdx;
  if (paddingIdx !== null) {
    if (paddingIdx > 0 && paddingIdx >= rows) throw new AssertionError("Padding_idx must be within num_embeddings");
    if (paddingIdx < 0) {
      if (paddingIdx < -rows) throw new AssertionError("Padding_idx must be within weight.size(0)");
      paddingIdx = rows + paddingIdx;
    }
  }
  if (o.maxNorm !== null) noGrad(() => embeddingRenorm_(weight, input, o.maxNorm as number, o.normType));
  const idx = indexValues(input);
  const w = weight.contiguous().data;
  const out = new Float32Array(idx.length * dim);
  for (let i = 0; i < idx.length; i++) {
    const r = Number(idx[i]);
    if (r < 0 || r >= rows) throw new IndexError("index out of range in self");
    out.set(w.subarray(r * dim, (r + 1) * dim), i * dim);
  }
  const result = new Tensor(out, [...input.shape, dim]);
  if (recording(weight)) {
    const pad = paddingIdx;
    const scale = o.scaleGradByFreq;
    record("EmbeddingBackward0", [weight], [result], ([g]) => {
      const grad = zeros(rows, dim);
      const gd = grad.data;
      const gv = g!.contiguous().data;
      const count = new Map<number, number>();
      if (scale) for (let i = 0; i < idx.length; i++) count.set(Number(idx[i]), (count.get(Number(idx[i])) ?? 0) + 1);
      for (let i = 0; i < idx.length; i++) {
        const r = Number(idx[i]);
        if (r === pad) continue;
        const f = scale ? 1 / count.get(r)! : 1;
        for (let j = 0; j < dim; j++) gd[r * dim + j] += gv[i * dim + j] * f;
      }
      return [grad];
    });
  }
  return result;
}

/**
 * A `[numEmbeddings, embeddingDim]` table of learnable vectors indexed by int64 tensors (PyTorch:
 * `nn.Embedding(num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
 * scale_grad_by_freq=False, sparse=False, _weight=None)`). Init N(0, 1), `paddingIdx`'s row zero.
 * `sparse` is accepted and printed; tsnn's gradients are dense.
 */
export class Embedding extends Module<[Tensor<DType>], Tensor> {
  numEmbeddings: number;
  embeddingDim: number;
  paddingIdx: number | null;
  maxNorm: number | null;
  normType: number;
  scaleGradByFreq: boolean;
  sparse: boolean;
  declare weight: Parameter;

  constructor(
    numEmbeddings: number,
    embeddingDim: number,
    ...args:
      | [paddingIdx?: number | null, maxNorm?: number | null, normType?: number, scaleGradByFreq?: boolean, sparse?: boolean, _weight?: Tensor | null]
      | [opts: EmbeddingOptions]
  ) {
    super();
    const o = bindArgs<Required<EmbeddingOptions>>(`${new.target.name}.__init__`, args, EMBEDDING_ARGS, 3);
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    let paddingIdx = o.paddingIdx;
    if (paddingIdx !== null) {
      if (paddingIdx > 0 && !(paddingIdx < numEmbeddings)) throw new AssertionError("Padding_idx must be within num_embeddings");
      if (paddingIdx < 0) {
        if (!(paddingIdx >= -numEmbeddings)) throw new AssertionError("Padding_idx must be within num_embeddings");
        paddingIdx = numEmbeddings + paddingIdx;
      }
    }
    this.paddingIdx = paddingIdx;
    this.maxNorm = o.maxNorm;
    this.normType = o.normType;
    this.scaleGradByFreq = o.scaleGradByFreq;
    if (o._weight === null) {
      this.weight = new Parameter(zeros(numEmbeddings, embeddingDim));
      this.resetParameters();
    } else {
      const s = o._weight.shape;
      if (s.length !== 2 || s[0] !== numEmbeddings || s[1] !== embeddingDim) {
        throw new AssertionError("Shape of weight does not match num_embeddings and embedding_dim");
      }
      this.weight = o._weight instanceof Parameter ? o._weight : new Parameter(o._weight.contiguous());
    }
    this.sparse = o.sparse;
  }

  /** N(0, 1), then the padding row zero (PyTorch: `reset_parameters`). */
  resetParameters(): void {
    normal_(this.weight);
    this._fillPaddingIdxWithZero();
  }

  _fillPaddingIdxWithZero(): void {
    if (this.paddingIdx === null) return;
    const d = this.embeddingDim;
    this.weight.data.fill(0, this.paddingIdx * d, (this.paddingIdx + 1) * d);
    this.weight._bumpVersion();
  }

  override forward(input: Tensor<DType>): Tensor {
    return embedding(input, this.weight, this.paddingIdx, this.maxNorm, this.normType, this.scaleGradByFreq, this.sparse);
  }

  override extraRepr(): string {
    let s = `${this.numEmbeddings}, ${this.embeddingDim}`;
    if (this.paddingIdx !== null) s += `, padding_idx=${this.paddingIdx}`;
    if (this.maxNorm !== null) s += `, max_norm=${pyFloat(this.maxNorm)}`;
    if (this.normType !== 2) s += `, norm_type=${pyFloat(this.normType)}`;
    if (this.scaleGradByFreq) s += ", scale_grad_by_freq=True";
    if (this.sparse) s += ", sparse=True";
    return s;
  }

  /**
   * An `Embedding` whose table is `embeddings` (`[rows, cols]`, shared, not copied), frozen unless
   * `freeze: false` (PyTorch: `nn.Embedding.from_pretrained(embeddings, freeze=True,
   * padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False)`).
   */
  static fromPretrained(
    embeddings: Tensor,
    ...args:
      | [freeze?: boolean, paddingIdx?: number | null, maxNorm?: number | null, normType?: number, scaleGradByFreq?: boolean, sparse?: boolean]
      | [opts: Omit<EmbeddingOptions, "_weight"> & { freeze?: boolean }]
  ): Embedding {
    const o = bindArgs<Required<Omit<EmbeddingOptions, "_weight"> & { freeze: boolean }>>("from_pretrained", args, [["freeze", true], ...EMBEDDING_ARGS.slice(0, 5)], 2);
    if (embeddings.dim() !== 2) throw new AssertionError("Embeddings parameter is expected to be 2-dimensional");
    const [rows, cols] = embeddings.shape;
    const weight = new Parameter(embeddings.contiguous(), !o.freeze);
    return new this(rows, cols, { paddingIdx: o.paddingIdx, maxNorm: o.maxNorm, normType: o.normType, scaleGradByFreq: o.scaleGradByFreq, sparse: o.sparse, _weight: weight });
  }
}

// ---------------------------------------------------------------- bags of embeddings

/** Reduction of `EmbeddingBag`. */
export type EmbeddingBagMode = "sum" | "mean" | "max";

/** Keyword arguments of `F.embeddingBag` in camelCase. */
export interface EmbeddingBagFnOptions {
  offsets?: Tensor<DType> | null;
  maxNorm?: number | null;
  normType?: number;
  scaleGradByFreq?: boolean;
  mode?: EmbeddingBagMode;
  sparse?: boolean;
  perSampleWeights?: Tensor | null;
  includeLastOffset?: boolean;
  paddingIdx?: number | null;
}

const EMBEDDING_BAG_FN_ARGS = [
  ["offsets", null], ["maxNorm", null], ["normType", 2], ["scaleGradByFreq", false], ["mode", "mean"], ["sparse", false],
  ["perSampleWeights", null], ["includeLastOffset", false], ["paddingIdx", null],
] as const;

/**
 * Sums, means or maxima of bags of rows of `weight` without building the rows (PyTorch:
 * `F.embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
 * mode='mean', sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None)`).
 * A 2-D `input` `[B, L]` is B bags of L; a 1-D `input` is split into bags at `offsets`. Entries
 * equal to `paddingIdx` are left out (a mean divides by the rest); an empty bag gives zeros.
 * Records `EmbeddingBagBackward0` (weight and `perSampleWeights`).
 */
export function embeddingBag(input: Tensor<DType>, weight: Tensor, ...args: unknown[]): Tensor {
  requireTensor("embedding_bag", input);
  const o = bindArgs<Required<EmbeddingBagFnOptions>>("embedding_bag", args, EMBEDDING_BAG_FN_ARGS, 2);
  const psw = o.perSampleWeights;
  if (psw !== null && (psw.shape.length !== input.shape.length || psw.shape.some((s, i) => s !== input.shape[i]))) {
    throw new ValueError(
      `embedding_bag: If per_sample_weights (torch.Size([${psw.shape.join(", ")}])) is not None, then it must have the same shape as the input (torch.Size([${input.shape.join(", ")}]))`,
    );
  }
  let offsets: number[];
  if (input.dim() === 2) {
    if (o.offsets !== null) {
      throw new ValueError(
        "if input is 2D, then offsets has to be None, as input is treated is a mini-batch of fixed length sequences. However, found offsets of type <class 'torch.Tensor'>",
      );
    }
    const [B, L] = input.shape;
    offsets = Array.from({ length: B }, (_, b) => b * L);
  } else if (input.dim() === 1) {
    if (o.offsets === null) throw new ValueError("offsets has to be a 1D Tensor but got None");
    if (o.offsets.dim() !== 1) throw new ValueError("offsets has to be a 1D Tensor");
    offsets = Array.from(indexValues(o.offsets), Number);
  } else throw new ValueError(`input has to be 1D or 2D Tensor, but got Tensor of dimension ${input.dim()}`);
  const mode = o.mode;
  if (mode !== "sum" && mode !== "mean" && mode !== "max") throw new ValueError("mode has to be one of sum, mean or max");
  if (mode === "max" && o.scaleGradByFreq) throw new ValueError("max mode does not support scaling the gradient by the frequency");
  if (mode === "max" && o.sparse) throw new ValueError("max mode does not support sparse weights");
  if (o.maxNorm !== null) noGrad(() => embeddingRenorm_(weight, input, o.maxNorm as number, o.normType));
  if (psw !== null && mode !== "sum") {
    throw new NotImplementedError(
      `embedding_bag: per_sample_weights was not None. per_sample_weights is only supported for mode='sum' (got mode='${mode}'). Please open a feature request on GitHub.`,
    );
  }
  const idx = indexValues(input);
  const [rows, dim] = weight.shape;
  let pad = o.paddingIdx;
  if (pad !== null && pad < 0) pad += rows;
  const n = idx.length;
  const nBags = o.includeLastOffset ? Math.max(offsets.length - 1, 0) : offsets.length;
  const bounds = (b: number): [number, number] => [offsets[b], b + 1 < offsets.length ? offsets[b + 1] : n];
  const w = weight.contiguous().data;
  const pw = psw === null ? null : psw.contiguous().data;
  const out = new Float32Array(nBags * dim);
  const argmax = mode === "max" ? new Int32Array(nBags * dim).fill(-1) : null;
  const counts = new Int32Array(nBags);
  for (let b = 0; b < nBags; b++) {
    const [s, e] = bounds(b);
    const o_ = b * dim;
    for (let i = s; i < e; i++) {
      const r = Number(idx[i]);
      if (r < 0 || r >= rows) throw new IndexError("index out of range in self");
      if (r === pad) continue;
      counts[b]++;
      const ro = r * dim;
      if (argmax) {
        for (let j = 0; j < dim; j++) {
          if (argmax[o_ + j] < 0 || w[ro + j] > out[o_ + j]) {
            out[o_ + j] = w[ro + j];
            argmax[o_ + j] = r;
          }
        }
      } else {
        const f = pw === null ? 1 : pw[i];
        for (let j = 0; j < dim; j++) out[o_ + j] += pw === null ? w[ro + j] : f * w[ro + j];
      }
    }
    if (mode === "mean" && counts[b] > 0) for (let j = 0; j < dim; j++) out[o_ + j] /= counts[b];
  }
  const result = new Tensor(out, [nBags, dim]);
  if (recording(weight, psw)) {
    record("EmbeddingBagBackward0", [weight, psw], [result], ([g]) => {
      const gv = g!.contiguous().data;
      const gw = zeros(rows, dim);
      const gd = gw.data;
      const gp = pw === null ? null : new Float32Array(n);
      const freq = new Map<number, number>();
      if (o.scaleGradByFreq) for (let i = 0; i < n; i++) freq.set(Number(idx[i]), (freq.get(Number(idx[i])) ?? 0) + 1);
      for (let b = 0; b < nBags; b++) {
        const [s, e] = bounds(b);
        const go = b * dim;
        if (argmax) {
          for (let j = 0; j < dim; j++) if (argmax[go + j] >= 0) gd[argmax[go + j] * dim + j] += gv[go + j];
          continue;
        }
        for (let i = s; i < e; i++) {
          const r = Number(idx[i]);
          if (r === pad) continue;
          let f = mode === "mean" ? 1 / counts[b] : pw === null ? 1 : pw[i];
          if (o.scaleGradByFreq) f /= freq.get(r)!;
          for (let j = 0; j < dim; j++) gd[r * dim + j] += f * gv[go + j];
          if (gp) {
            let acc = 0;
            for (let j = 0; j < dim; j++) acc += gv[go + j] * w[r * dim + j];
            gp[i] = acc;
          }
        }
      }
      return [gw, gp === null ? null : new Tensor(gp, psw!.shape)];
    });
  }
  return result;
}

/** Keyword arguments of `EmbeddingBag` in camelCase. */
export interface EmbeddingBagOptions {
  maxNorm?: number | null;
  normType?: number;
  scaleGradByFreq?: boolean;
  mode?: EmbeddingBagMode;
  sparse?: boolean;
  _weight?: Tensor | null;
  includeLastOffset?: boolean;
  paddingIdx?: number | null;
}

const EMBEDDING_BAG_ARGS = [
  ["maxNorm", null], ["normType", 2], ["scaleGradByFreq", false], ["mode", "mean"], ["sparse", false], ["_weight", null],
  ["includeLastOffset", false], ["paddingIdx", null],
] as const;

/**
 * Sums, means (default) or maxima of bags of embeddings (PyTorch: `nn.EmbeddingBag(num_embeddings,
 * embedding_dim, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, mode='mean',
 * sparse=False, _weight=None, include_last_offset=False, padding_idx=None)`).
 * `forward(input, offsets?, perSampleWeights?)` → `[bags, embeddingDim]`.
 */
export class EmbeddingBag extends Module {
  numEmbeddings: number;
  embeddingDim: number;
  maxNorm: number | null;
  normType: number;
  scaleGradByFreq: boolean;
  paddingIdx: number | null;
  mode: EmbeddingBagMode;
  sparse: boolean;
  includeLastOffset: boolean;
  declare weight: Parameter;

  constructor(numEmbeddings: number, embeddingDim: number, ...args: unknown[]) {
    super();
    const o = bindArgs<Required<EmbeddingBagOptions>>(`${new.target.name}.__init__`, args, EMBEDDING_BAG_ARGS, 3);
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    this.maxNorm = o.maxNorm;
    this.normType = o.normType;
    this.scaleGradByFreq = o.scaleGradByFreq;
    let paddingIdx = o.paddingIdx;
    if (paddingIdx !== null) {
      if (paddingIdx > 0 && !(paddingIdx < numEmbeddings)) throw new AssertionError("padding_idx must be within num_embeddings");
      if (paddingIdx < 0) {
        if (!(paddingIdx >= -numEmbeddings)) throw new AssertionError("padding_idx must be within num_embeddings");
        paddingIdx = numEmbeddings + paddingIdx;
      }
    }
    this.paddingIdx = paddingIdx;
    if (o._weight === null) {
      this.weight = new Parameter(zeros(numEmbeddings, embeddingDim));
      normal_(this.weight);
      if (paddingIdx !== null) this.weight.data.fill(0, paddingIdx * embeddingDim, (paddingIdx + 1) * embeddingDim);
    } else {
      const s = o._weight.shape;
      if (s.length !== 2 || s[0] !== numEmbeddings || s[1] !== embeddingDim) {
        throw new AssertionError("Shape of weight does not match num_embeddings and embedding_dim");
      }
      this.weight = o._weight instanceof Parameter ? o._weight : new Parameter(o._weight.contiguous());
    }
    this.mode = o.mode;
    this.sparse = o.sparse;
    this.includeLastOffset = o.includeLastOffset;
  }

  override forward(input: Tensor<DType>, offsets: Tensor<DType> | null = null, perSampleWeights: Tensor | null = null): Tensor {
    return embeddingBag(input, this.weight, {
      offsets, maxNorm: this.maxNorm, normType: this.normType, scaleGradByFreq: this.scaleGradByFreq, mode: this.mode,
      sparse: this.sparse, perSampleWeights, includeLastOffset: this.includeLastOffset, paddingIdx: this.paddingIdx,
    });
  }

  override extraRepr(): string {
    let s = `${this.numEmbeddings}, ${this.embeddingDim}`;
    if (this.maxNorm !== null) s += `, max_norm=${pyFloat(this.maxNorm)}`;
    if (this.normType !== 2) s += `, norm_type=${pyFloat(this.normType)}`;
    if (this.scaleGradByFreq) s += ", scale_grad_by_freq=True";
    s += `, mode=${this.mode}`;
    if (this.paddingIdx !== null) s += `, padding_idx=${this.paddingIdx}`;
    return s;
  }

  /**
   * An `EmbeddingBag` over `embeddings` (frozen unless `freeze: false`) (PyTorch:
   * `nn.EmbeddingBag.from_pretrained(embeddings, freeze=True, max_norm=None, norm_type=2.0,
   * scale_grad_by_freq=False, mode='mean', sparse=False, include_last_offset=False, padding_idx=None)`).
   */
  static fromPretrained(embeddings: Tensor, opts: Omit<EmbeddingBagOptions, "_weight"> & { freeze?: boolean } = {}): EmbeddingBag {
    if (embeddings.dim() !== 2) throw new AssertionError("Embeddings parameter is expected to be 2-dimensional");
    const { freeze = true, ...rest } = opts;
    const [rows, cols] = embeddings.shape;
    return new this(rows, cols, { ...rest, _weight: new Parameter(embeddings.contiguous(), !freeze) });
  }
}
