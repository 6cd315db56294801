/**
 * N-d padding (PyTorch: `F.pad`): `pad` lists `(before, after)` pairs starting from the last dim.
 * Constant mode pads any number of trailing dims and crops where a pad is negative; reflect,
 * replicate and circular pad the last 1, 2 or 3 dims of a 2-5-D input, with ATen's checks.
 */
import { NotImplementedError, RuntimeError } from "../errors.js";
import { formatShape } from "./shape.js";
import { requireFloat } from "./args.js";
import { Tensor } from "./tensor.js";
import { allocFloat32 } from "./arena.js";

/** Padding modes of `F.pad`. */
export type PadNdMode = "constant" | "reflect" | "replicate" | "circular";

/**
 * Source index along one dim for every output position (`-1`: the constant value), for an input
 * of `n` elements padded by `before`/`after`.
 */
function indexMap(n: number, before: number, after: number, mode: PadNdMode): Int32Array {
  const len = n + before + after;
  const map = new Int32Array(len);
  for (let o = 0; o < len; o++) {
    let i = o - before;
    if (mode === "constant") {
      if (i < 0 || i >= n) i = -1;
    } else if (mode === "reflect") {
      if (i < 0) i = -i;
      else if (i >= n) i = 2 * (n - 1) - i;
    } else if (mode === "replicate") {
      i = i < 0 ? 0 : i >= n ? n - 1 : i;
    } else {
      // PyTorch 1.13 crops by negative pads first, then wraps around the cropped range.
      const lo = Math.max(-before, 0);
      const m = n - lo - Math.max(-after, 0);
      const j = o - Math.max(before, 0);
      i = lo + (((j % m) + m) % m);
    }
    map[o] = i;
  }
  return map;
}

function checkNonConstant(x: Tensor, pad: readonly number[], mode: PadNdMode): void {
  const nd = x.ndim;
  const k = pad.length / 2;
  if (!((k === 1 && (nd === 2 || nd === 3)) || (k === 2 && (nd === 3 || nd === 4)) || (k === 3 && (nd === 4 || nd === 5)))) {
    throw new NotImplementedError("Only 2D, 3D, 4D, 5D padding with non-constant padding are supported for now");
  }
  if (mode === "reflect") {
    // ATen's reflection_pad{1,2,3}d messages, including their varying way of naming the input.
    for (let j = 0; j < k; j++) {
      const dim = nd - 1 - j;
      const n = x.shape[dim];
      const [b, a] = [pad[2 * j], pad[2 * j + 1]];
      if (b >= n || a >= n) {
        const input = k === 2 ? String(nd) : formatShape(x.shape);
        throw new RuntimeError(
          `Argument #${4 + 2 * j}: Padding size should be less than the corresponding input dimension, but got: ` +
            `padding (${b}, ${a}) at dimension ${dim} of input ${input}`,
        );
      }
    }
  }
  if (mode === "circular") {
    for (let j = 0; j < k; j++) {
      const n = x.shape[nd - 1 - j];
      if (pad[2 * j] > n || pad[2 * j + 1] > n) throw new RuntimeError("Padding value causes wrapping around more than once.");
    }
  }
  if (mode === "replicate" || mode === "reflect") {
    for (let j = 0; j < k; j++) {
      if (x.shape[nd - 1 - j] === 0) {
        throw new RuntimeError(
          `Expected ${k + 1}D or ${k + 2}D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions ` +
            `for input, but got: ${formatShape(x.shape)}`,
        );
      }
    }
  }
}

/**
 * Pad `x` by `pad = [lastBefore, lastAfter, prevBefore, prevAfter, ...]` (PyTorch:
 * `F.pad(input, pad, mode, value)`); `value` fills constant padding.
 */
export function padNd(x: Tensor, pad: readonly number[], mode: PadNdMode = "constant", value = 0): Tensor {
  if (pad.length % 2 !== 0) throw new RuntimeError("Padding length must be divisible by 2");
  if (pad.length / 2 > x.ndim) {
    throw new RuntimeError(
      mode === "constant"
        ? "Padding length too large"
        : "Only 2D, 3D, 4D, 5D padding with non-constant padding are supported for now",
    );
  }
  if (mode !== "constant" && mode !== "reflect" && mode !== "replicate" && mode !== "circular") {
    throw new NotImplementedError(`Unrecognised padding mode ${mode}`);
  }
  const n = pad.length / 2;
  if (mode === "reflect") requireFloat(`reflection_pad${n}d${n === 3 ? "_cpu" : ""}`, x);
  if (mode === "replicate") requireFloat(`replication_pad${n}d_cpu`, x);
  if (mode !== "constant") checkNonConstant(x, pad, mode);
  const nd = x.ndim;
  const k = pad.length / 2;
  if (pad.every((p) => p === 0)) {
    // Nothing to add (also Swin's window padding at 224 px): PyTorch still returns a new tensor.
    const c = x.contiguous();
    return new Tensor(c === x ? c.data.slice() : c.data, x.shape, x.dtype);
  }
  const outShape = [...x.shape];
  const maps: Int32Array[] = [];
  for (let j = 0; j < k; j++) {
    const dim = nd - 1 - j;
    const n = x.shape[dim];
    const size = n + pad[2 * j] + pad[2 * j + 1];
    if (size < 0) {
      throw new RuntimeError(
        `The input size ${n}, plus negative padding ${pad[2 * j]} and ${pad[2 * j + 1]} resulted in a negative ` +
          `output size, which is invalid. Check dimension ${dim} of your input.`,
      );
    }
    outShape[dim] = size;
  }
  // Padded dims, outermost first, with their maps and input strides.
  const first = nd - k;
  for (let dim = first; dim < nd; dim++) maps.push(indexMap(x.shape[dim], pad[2 * (nd - 1 - dim)], pad[2 * (nd - 1 - dim) + 1], mode));
  const inStrides = new Array<number>(nd);
  let s = 1;
  for (let d = nd - 1; d >= 0; d--) {
    inStrides[d] = s;
    s *= x.shape[d];
  }
  const outer = x.shape.slice(0, first).reduce((a, b) => a * b, 1);
  const inBlock = inStrides[first] * x.shape[first];
  const outBlock = outShape.slice(first).reduce((a, b) => a * b, 1);
  const out = allocFloat32(outer * outBlock);
  const src = x.data as Float32Array;
  const fill = Math.fround(value);
  if (outBlock === 0 || outer === 0) return new Tensor(out, outShape);
  const lastMap = maps[k - 1];
  const rowLen = lastMap.length;
  const rows = outBlock / rowLen;
  const counters = new Array<number>(k - 1).fill(0);
  for (let b = 0; b < outer; b++) {
    const inBase = b * inBlock;
    counters.fill(0);
    for (let r = 0; r < rows; r++) {
      // Source offset of this output row from the outer padded dims (or -1: a padding row).
      let off = inBase;
      for (let j = 0; j < k - 1; j++) {
        const i = maps[j][counters[j]];
        if (i < 0) {
          off = -1;
          break;
        }
        off += i * inStrides[first + j];
      }
      const o = (b * rows + r) * rowLen;
      if (off < 0) out.fill(fill, o, o + rowLen);
      else {
        for (let c = 0; c < rowLen; c++) {
          const i = lastMap[c];
          out[o + c] = i < 0 ? fill : src[off + i];
        }
      }
      for (let j = k - 2; j >= 0; j--) {
        if (++counters[j] < maps[j].length) break;
        counters[j] = 0;
      }
    }
  }
  return new Tensor(out, outShape);
}
