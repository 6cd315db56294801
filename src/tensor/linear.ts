/**
 * Fully connected layer (PyTorch: `F.linear`).
 */
import { RuntimeError } from "../errors.js";
import { getBackend, gemmWithB, requireIntactData, sgemm } from "./gemm.js";
import { formatShape } from "./shape.js";
import { storageVersion, Tensor } from "./tensor.js";
import { packA, packedSize, wasmGemm } from "./wasm/gemm.js";
import { residentWeight } from "./wasm/resident.js";
import { linearWasm } from "./rowKernels.js";
import { allocFloat32 } from "./arena.js";

/**
 * `y = x·Wᵀ + b` for `x` `[*, in]`, `weight` `[out, in]`, `bias` `[out]` (PyTorch: `F.linear`).
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  requireIntactData("linear", [["input", x], ["weight", weight], ["bias", bias]]);
  if (weight.ndim !== 2) throw new RuntimeError(`linear: weight must be 2-D [out, in], got ${formatShape(weight.shape)}`);
  const [outF, inF] = weight.shape;
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== outF)) {
    throw new RuntimeError(`linear: bias of shape ${formatShape(bias.shape)} for a weight of shape ${formatShape(weight.shape)} (expected [${outF}])`);
  }
  const k = x.ndim === 0 ? 1 : x.shape[x.ndim - 1];
  const rows = x.ndim <= 1 ? 1 : x.numel() / Math.max(k, 1);
  if (x.ndim === 0 || k !== inF) {
    const lhs = x.ndim <= 1 ? `1x${k}` : `${rows}x${k}`;
    throw new RuntimeError(`mat1 and mat2 shapes cannot be multiplied (${lhs} and ${inF}x${outF})`);
  }
  const out = allocFloat32(rows * outF, true);
  const w = getBackend() === "wasm" && rows * outF * inF >= 16384 ? wasmGemm() : null;
  // A weight and bias that are their tensors' whole storage (parameters) stay resident, packed.
  const wd = weight.data;
  const bd = bias ? bias.data : null;
  const resident = wd === weight._storage && (!bias || bd === bias._storage);
  if (w && rows > 1 && resident && linearWasm(x.data, rows, inF, wd, outF, bd, out)) {
    return new Tensor(out, [...x.shape.slice(0, -1), outF]);
  }
  out.fill(0);
  if (w && rows > 1) {
    // y = x·Wᵀ with Wᵀ kept transposed (contiguous rows for the GEMM's B panels) and the output
    // written row-major: the same sums in the same order as W·xᵀ, without a transpose of y.
    const wt = transposedWeight(weight.data, outF, inF);
    const A = { data: x.data, offset: 0, rowStride: inF, colStride: 1 };
    gemmWithB(rows, outF, inF, A, inF * outF, outF, 1, (dst, at) => dst.set(wt, at), out, 0, outF);
  } else if (w) {
    // yᵀ = W·xᵀ with W kept resident and packed: the same sums in the same order as x·Wᵀ,
    // without re-reading the weight through a transposed view on every call.
    const packed = residentWeight(w, weight.data, "gemm", packedSize(outF, inF), (dst, at) => packA(weight.data, 0, outF, inF, dst, at));
    const yT = rows === 1 ? out : new Float32Array(outF * rows);
    const A = { data: weight.data, offset: 0, rowStride: inF, colStride: 1 };
    gemmWithB(outF, rows, inF, A, rows * inF, 1, inF, (dst, at) => dst.set(x.data.subarray(0, rows * inF), at), yT, 0, rows, false, 0, null, packed);
    if (rows > 1) for (let r = 0; r < rows; r++) for (let j = 0; j < outF; j++) out[r * outF + j] = yT[j * rows + r];
  } else {
    sgemm(
      rows, outF, inF,
      { data: x.data, offset: 0, rowStride: inF, colStride: 1 },
      { data: weight.data, offset: 0, rowStride: 1, colStride: inF },
      out, 0, outF,
    );
  }
  if (bias) {
    const b = bias.data;
    for (let r = 0; r < rows; r++) for (let j = 0; j < outF; j++) out[r * outF + j] += b[j];
  }
  return new Tensor(out, [...x.shape.slice(0, -1), outF]);
}


const transposed = new WeakMap<Float32Array, { version: number; data: Float32Array }>();

/** `weight` [out, in] transposed to [in, out], cached per storage version. */
function transposedWeight(weight: Float32Array, outF: number, inF: number): Float32Array {
  const version = storageVersion(weight);
  const hit = transposed.get(weight);
  if (hit && hit.version === version) return hit.data;
  const data = new Float32Array(outF * inF);
  for (let j = 0; j < outF; j++) for (let k = 0; k < inF; k++) data[k * outF + j] = weight[j * inF + k];
  transposed.set(weight, { version, data });
  return data;
}
