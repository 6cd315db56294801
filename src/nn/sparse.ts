/**
 * Lookup-table layers (PyTorch: `torch/nn/modules/sparse.py`, `F.embedding`): `Embedding`, rows
 * of a `[numEmbeddings, embeddingDim]` table picked by int64 indices. Gradients flow to the picked
 * rows (PyTorch: `EmbeddingBackward0`), never to `paddingIdx`'s row.
 */
import { record, recording } from "../autograd/graph.js";
import { noGrad } from "../autograd/grad_mode.js";
import { AssertionError, IndexError, RuntimeError } from "../errors.js";
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
