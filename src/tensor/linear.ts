/**
 * Fully connected layer (PyTorch: `F.linear`).
 */
import { RuntimeError } from "../errors.js";
import { sgemm } from "./gemm.js";
import { Tensor } from "./tensor.js";

/**
 * `y = x·Wᵀ + b` for `x` `[*, in]`, `weight` `[out, in]`, `bias` `[out]` (PyTorch: `F.linear`).
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  const [outF, inF] = weight.shape;
  const k = x.ndim === 0 ? 1 : x.shape[x.ndim - 1];
  const rows = x.ndim <= 1 ? 1 : x.size / Math.max(k, 1);
  if (x.ndim === 0 || k !== inF) {
    const lhs = x.ndim <= 1 ? `1x${k}` : `${rows}x${k}`;
    throw new RuntimeError(`mat1 and mat2 shapes cannot be multiplied (${lhs} and ${inF}x${outF})`);
  }
  const out = new Float32Array(rows * outF);
  sgemm(
    rows, outF, inF,
    { data: x.data, offset: 0, rowStride: inF, colStride: 1 },
    { data: weight.data, offset: 0, rowStride: 1, colStride: inF },
    out, 0, outF,
  );
  if (bias) {
    const b = bias.data;
    for (let r = 0; r < rows; r++) for (let j = 0; j < outF; j++) out[r * outF + j] += b[j];
  }
  return new Tensor(out, [...x.shape.slice(0, -1), outF]);
}

