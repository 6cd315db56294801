/**
 * Resampling kernels behind `F.interpolate` (PyTorch: ATen's `upsample_nearest{1,2}d`,
 * `_upsample_nearest_exact{1,2}d`, `upsample_bilinear2d`, `upsample_bicubic2d`, antialias off).
 * Source indices and weights follow ATen's formulas in float32, as its CPU kernels compute them
 * for float inputs; the weighted sums are accumulated in double and rounded once.
 */
import { RuntimeError } from "../errors.js";
import { requireFloat } from "./args.js";
import { Tensor } from "./tensor.js";

const fr = Math.fround;

/** Interpolation modes implemented here. */
export type InterpolateMode = "nearest" | "nearest-exact" | "bilinear" | "bicubic";

/**
 * ATen's `area_pixel_compute_scale`: the input step per output step. With `alignCorners` the
 * corner pixels map onto each other; otherwise a given scale factor `s` gives `1/s`, else
 * `in/out`.
 */
function pixelScale(inSize: number, outSize: number, alignCorners: boolean, scale: number | null): number {
  if (alignCorners) return outSize > 1 ? fr((inSize - 1) / (outSize - 1)) : 0;
  return scale !== null && scale > 0 ? fr(1 / scale) : fr(fr(inSize) / fr(outSize));
}

/** ATen's `area_pixel_compute_source_index` in float32. */
function sourceIndex(scale: number, dst: number, alignCorners: boolean, cubic: boolean): number {
  if (alignCorners) return fr(scale * dst);
  const src = fr(fr(scale * fr(dst + 0.5)) - 0.5);
  return !cubic && src < 0 ? 0 : src;
}

/** Nearest source index per output position (legacy `nearest` or `nearest-exact`). */
function nearestIndices(inSize: number, outSize: number, scale: number | null, exact: boolean): Int32Array {
  const idx = new Int32Array(outSize);
  const s = scale !== null && scale > 0 ? fr(1 / scale) : fr(fr(inSize) / fr(outSize));
  for (let o = 0; o < outSize; o++) {
    if (!exact && outSize === inSize) idx[o] = o;
    else if (!exact && outSize === 2 * inSize) idx[o] = o >> 1;
    else {
      const v = exact ? Math.floor(fr(fr(o + 0.5) * s)) : Math.floor(fr(o * s));
      idx[o] = Math.min(v, inSize - 1);
    }
  }
  return idx;
}

/** Per output position: two source indices and their weights (ATen's linear interpolation). */
function linearTaps(inSize: number, outSize: number, alignCorners: boolean, scale: number | null) {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const w0 = new Float32Array(outSize);
  const w1 = new Float32Array(outSize);
  const ratio = pixelScale(inSize, outSize, alignCorners, scale);
  for (let o = 0; o < outSize; o++) {
    if (outSize === inSize) {
      i0[o] = i1[o] = o;
      w0[o] = 1;
      w1[o] = 0;
      continue;
    }
    const real = sourceIndex(ratio, o, alignCorners, false);
    const lo = Math.trunc(real);
    i0[o] = lo;
    i1[o] = lo + (lo < inSize - 1 ? 1 : 0);
    w1[o] = fr(real - lo);
    w0[o] = fr(1 - w1[o]);
  }
  return { i0, i1, w0, w1 };
}

const CUBIC_A = -0.75;

/** Per output position: four clamped source indices and Keys' cubic weights (A = -0.75). */
function cubicTaps(inSize: number, outSize: number, alignCorners: boolean, scale: number | null) {
  const idx = new Int32Array(outSize * 4);
  const wts = new Float32Array(outSize * 4);
  const ratio = pixelScale(inSize, outSize, alignCorners, scale);
  const a = CUBIC_A;
  // Keys' kernel for |x| <= 1 and 1 < |x| < 2, in float32 as ATen evaluates it.
  const near = (x: number) => fr(fr(fr(fr(fr(fr(a + 2) * x) - fr(a + 3)) * x) * x) + 1);
  const far = (x: number) => fr(fr(fr(fr(fr(fr(a * x) - fr(5 * a)) * x) + fr(8 * a)) * x) - fr(4 * a));
  for (let o = 0; o < outSize; o++) {
    const real = sourceIndex(ratio, o, alignCorners, true);
    const base = Math.floor(real);
    const t = fr(real - base);
    const t1 = fr(1 - t);
    wts[o * 4] = far(fr(t + 1));
    wts[o * 4 + 1] = near(t);
    wts[o * 4 + 2] = near(t1);
    wts[o * 4 + 3] = far(fr(t1 + 1));
    for (let k = 0; k < 4; k++) idx[o * 4 + k] = Math.min(Math.max(base - 1 + k, 0), inSize - 1);
  }
  return { idx, wts };
}

/**
 * Resample the last one (`nearest`, `nearest-exact`) or two spatial dims of `x` to `size`.
 * `scales` are the user's scale factors (null when a size was given or `recompute_scale_factor`),
 * which ATen uses in place of `in/out` for the source positions.
 */
export function interpolate(
  x: Tensor, size: readonly number[], mode: InterpolateMode, alignCorners: boolean, scales: readonly (number | null)[],
): Tensor {
  requireFloat(`compute_indices_weights_${mode === "bilinear" ? "linear" : mode === "bicubic" ? "cubic" : "nearest"}`, x);
  const sp = size.length;
  const inSp = x.shape.slice(x.ndim - sp);
  if (inSp.some((d) => d <= 0) || size.some((d) => d <= 0)) {
    const names = sp === 1 ? ["W"] : ["H", "W"];
    const fmt = (v: readonly number[]) => v.map((d, i) => `${names[i]}: ${d}`).join(", ");
    const and = sp === 1 ? " and" : "";
    throw new RuntimeError(`Input and output sizes should be greater than 0, but got input (${fmt(inSp)})${and} output (${fmt(size)})`);
  }
  const planes = x.shape.slice(0, x.ndim - sp).reduce((a, b) => a * b, 1);
  const [ih, iw] = sp === 1 ? [1, inSp[0]] : inSp;
  const [oh, ow] = sp === 1 ? [1, size[0]] : size;
  const [sh, sw] = sp === 1 ? [null, scales[0]] : scales;
  const src = x.data as Float32Array;
  const out = new Float32Array(planes * oh * ow);
  if (mode === "nearest" || mode === "nearest-exact") {
    const exact = mode === "nearest-exact";
    const ys = sp === 1 ? new Int32Array(1) : nearestIndices(ih, oh, sh, exact);
    const xs = nearestIndices(iw, ow, sw, exact);
    for (let p = 0; p < planes; p++) {
      const ib = p * ih * iw;
      const ob = p * oh * ow;
      for (let y = 0; y < oh; y++) {
        const row = ib + ys[y] * iw;
        const o = ob + y * ow;
        for (let c = 0; c < ow; c++) out[o + c] = src[row + xs[c]];
      }
    }
  } else if (mode === "bilinear") {
    const ty = linearTaps(ih, oh, alignCorners, sh);
    const tx = linearTaps(iw, ow, alignCorners, sw);
    for (let p = 0; p < planes; p++) {
      const ib = p * ih * iw;
      const ob = p * oh * ow;
      for (let y = 0; y < oh; y++) {
        const r0 = ib + ty.i0[y] * iw;
        const r1 = ib + ty.i1[y] * iw;
        const wy0 = ty.w0[y];
        const wy1 = ty.w1[y];
        const o = ob + y * ow;
        for (let c = 0; c < ow; c++) {
          const a = tx.i0[c];
          const b = tx.i1[c];
          const wx0 = tx.w0[c];
          const wx1 = tx.w1[c];
          out[o + c] = wy0 * (wx0 * src[r0 + a] + wx1 * src[r0 + b]) + wy1 * (wx0 * src[r1 + a] + wx1 * src[r1 + b]);
        }
      }
    }
  } else if (mode === "bicubic") {
    const ty = cubicTaps(ih, oh, alignCorners, sh);
    const tx = cubicTaps(iw, ow, alignCorners, sw);
    for (let p = 0; p < planes; p++) {
      const ib = p * ih * iw;
      const ob = p * oh * ow;
      for (let y = 0; y < oh; y++) {
        const o = ob + y * ow;
        for (let c = 0; c < ow; c++) {
          let acc = 0;
          for (let ky = 0; ky < 4; ky++) {
            const row = ib + ty.idx[y * 4 + ky] * iw;
            let r = 0;
            for (let kx = 0; kx < 4; kx++) r += tx.wts[c * 4 + kx] * src[row + tx.idx[c * 4 + kx]];
            acc += ty.wts[y * 4 + ky] * r;
          }
          out[o + c] = acc;
        }
      }
    }
  } else {
    throw new RuntimeError(`interpolate: unsupported mode ${mode}`);
  }
  return new Tensor(out, [...x.shape.slice(0, x.ndim - sp), ...size]);
}

/**
 * The gradient of `interpolate` (bilinear or bicubic, over the last two dims) with respect to its
 * input (PyTorch: `upsample_bilinear2d_backward`, `upsample_bicubic2d_backward`): each output
 * gradient is spread back over the taps that produced it with the forward's weights (the
 * transpose of the resampling; clamped border taps accumulate), in float32 and output order as
 * ATen's CPU kernels. `g` is `[..., oh, ow]`; returns `[..., ih, iw]` for `inShape`.
 */
export function interpolateBackward(
  g: Tensor, inShape: readonly number[], mode: "bilinear" | "bicubic", alignCorners: boolean, scales: readonly (number | null)[],
): Tensor {
  const [ih, iw] = inShape.slice(-2);
  const [oh, ow] = g.shape.slice(-2);
  const planes = inShape.slice(0, -2).reduce((a, b) => a * b, 1);
  const [sh, sw] = scales;
  const src = g.contiguous().data as Float32Array;
  const gin = new Float32Array(planes * ih * iw);
  if (mode === "bilinear") {
    const ty = linearTaps(ih, oh, alignCorners, sh);
    const tx = linearTaps(iw, ow, alignCorners, sw);
    for (let p = 0; p < planes; p++) {
      const ib = p * ih * iw;
      const ob = p * oh * ow;
      for (let y = 0; y < oh; y++) {
        const r0 = ib + ty.i0[y] * iw;
        const r1 = ib + ty.i1[y] * iw;
        const wy0 = ty.w0[y];
        const wy1 = ty.w1[y];
        for (let c = 0; c < ow; c++) {
          const v = src[ob + y * ow + c];
          const a = tx.i0[c];
          const b = tx.i1[c];
          const wx0 = tx.w0[c];
          const wx1 = tx.w1[c];
          gin[r0 + a] += fr(fr(wy0 * wx0) * v);
          gin[r0 + b] += fr(fr(wy0 * wx1) * v);
          gin[r1 + a] += fr(fr(wy1 * wx0) * v);
          gin[r1 + b] += fr(fr(wy1 * wx1) * v);
        }
      }
    }
  } else {
    const ty = cubicTaps(ih, oh, alignCorners, sh);
    const tx = cubicTaps(iw, ow, alignCorners, sw);
    for (let p = 0; p < planes; p++) {
      const ib = p * ih * iw;
      const ob = p * oh * ow;
      for (let y = 0; y < oh; y++) {
        for (let c = 0; c < ow; c++) {
          const v = src[ob + y * ow + c];
          for (let ky = 0; ky < 4; ky++) {
            const row = ib + ty.idx[y * 4 + ky] * iw;
            const wy = ty.wts[y * 4 + ky];
            for (let kx = 0; kx < 4; kx++) gin[row + tx.idx[c * 4 + kx]] += fr(fr(v * wy) * tx.wts[c * 4 + kx]);
          }
        }
      }
    }
  }
  return new Tensor(gin, [...inShape]);
}
