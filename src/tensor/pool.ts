/**
 * Pooling kernels (PyTorch: `F.max_pool2d`, `F.adaptive_avg_pool2d`) on `[N, C, H, W]` or
 * `[C, H, W]` inputs.
 */
import { RuntimeError } from "../errors.js";
import { formatShape, poolOutSize } from "./shape.js";
import { getBackend } from "./gemm.js";
import { requireFloat } from "./args.js";
import { Tensor } from "./tensor.js";
import { ensureMemory, splitRange, wasmGemm } from "./wasm/gemm.js";
import { poolPlane } from "./wasm/pool.js";
import { allocFloat32, wasmAddress } from "./arena.js";
import { residentEnd } from "./wasm/resident.js";
import { getNumThreads, runParallel } from "./wasm/threads.js";
import { namedJob } from "./wasm/registry.js";

/** Max-pooling geometry, all as pairs. */
export interface MaxPool2dArgs {
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  ceilMode: boolean;
}

function planes(x: Tensor, op: string): { lead: number[]; planes: number; h: number; w: number } {
  if (x.ndim !== 3 && x.ndim !== 4) {
    throw new RuntimeError(`${op}: Expected 3D or 4D (batch mode) tensor for input, but got: ${formatShape(x.shape)}`);
  }
  requireFloat(op, x);
  const h = x.shape[x.ndim - 2];
  const w = x.shape[x.ndim - 1];
  if (h === 0 || w === 0) throw new RuntimeError(`${op}: expected non-empty spatial dims, got ${formatShape(x.shape)}`);
  return { lead: x.shape.slice(0, -2), planes: x.numel() / (h * w), h, w };
}

/**
 * Max pooling with implicit `-inf` padding; NaN propagates. Returns the output and (unless
 * `withIndices` is false) per output the int64 flat index `y*W + x` of the maximum in its plane.
 * `alloc` supplies the output's storage (e.g. an arena buffer) given its length.
 */
export function maxPool2d(x: Tensor, a: MaxPool2dArgs): { output: Tensor; indices: Tensor<"int64"> };
export function maxPool2d(x: Tensor, a: MaxPool2dArgs, withIndices: false, alloc?: ((n: number) => Float32Array) | null): { output: Tensor; indices: null };
export function maxPool2d(
  x: Tensor, a: MaxPool2dArgs, withIndices = true, alloc: ((n: number) => Float32Array) | null = null,
): { output: Tensor; indices: Tensor<"int64"> | null } {
  const { lead, planes: np, h, w } = planes(x, "max_pool2d");
  const [kh, kw] = a.kernel;
  const [sh, sw] = a.stride;
  const [ph, pw] = a.padding;
  const [dh, dw] = a.dilation;
  if (ph * 2 > kh || pw * 2 > kw) {
    throw new RuntimeError(
      `pad should be smaller than or equal to half of kernel size, but got padW = ${pw}, padH = ${ph}, kW = ${kw}, kH = ${kh}`,
    );
  }
  const oh = poolOutSize(h, kh, sh, ph, dh, a.ceilMode);
  const ow = poolOutSize(w, kw, sw, pw, dw, a.ceilMode);
  if (oh <= 0 || ow <= 0) {
    throw new RuntimeError(
      `Given input size: (${lead.at(-1)}x${h}x${w}). Calculated output size: (${lead.at(-1)}x${oh}x${ow}). Output size is too small`,
    );
  }
  const out = alloc ? alloc(np * oh * ow) : allocFloat32(np * oh * ow);
  if (!withIndices && np * oh * ow * kh * kw >= 1 << 16 && maxPoolWasm(x.data, out, np, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)) {
    return { output: new Tensor(out, [...lead, oh, ow]), indices: null };
  }
  const idx = withIndices ? new Int32Array(np * oh * ow) : null;
  const src = x.data;
  let o = 0;
  for (let p = 0; p < np; p++) {
    const base = p * h * w;
    for (let oy = 0; oy < oh; oy++) {
      const y0 = oy * sh - ph;
      for (let ox = 0; ox < ow; ox++, o++) {
        const x0 = ox * sw - pw;
        let best = -Infinity;
        let bi = -1;
        for (let ky = 0; ky < kh; ky++) {
          const iy = y0 + ky * dh;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = x0 + kx * dw;
            if (ix < 0 || ix >= w) continue;
            const v = src[base + iy * w + ix];
            if (v > best || v !== v || bi < 0) {
              best = v;
              bi = iy * w + ix;
              if (v !== v) break;
            }
          }
          if (best !== best) break;
        }
        out[o] = best;
        if (idx) idx[o] = bi;
      }
    }
  }
  const shape = [...lead, oh, ow];
  const indices = idx ? new Tensor(BigInt64Array.from(idx, (v) => BigInt(v)), shape, "int64") : null;
  return { output: new Tensor(out, shape), indices };
}

/** The WASM max pool over planes split across threads; false where WASM is off (JS then runs). */
function maxPoolWasm(
  src: Float32Array, out: Float32Array, np: number, h: number, w: number, kh: number, kw: number,
  sh: number, sw: number, ph: number, pw: number, dh: number, dw: number, oh: number, ow: number,
): boolean {
  const wasm = getBackend() === "wasm" ? wasmGemm() : null;
  if (!wasm) return false;
  // Arena buffers are read and written where they are; other arrays are staged.
  const srcAt = wasmAddress(src);
  const outAt = wasmAddress(out);
  const base = residentEnd();
  const dstStage = srcAt >= 0 ? base : base + np * h * w * 4;
  const dst = outAt >= 0 ? outAt : dstStage;
  const vector = sw <= 2;
  const { hp, wp } = poolPlane(kh, kw, sh, sw, dh, dw, oh, ow);
  const parts = splitRange(np, getNumThreads(), 1);
  const scratchAt = Math.ceil((dstStage + (outAt >= 0 ? 0 : np * oh * ow * 4)) / 64) * 64;
  const scratchBytes = Math.ceil(((hp * wp + 4) * 4) / 64) * 64;
  ensureMemory(wasm, scratchAt + (vector ? parts.length * scratchBytes : 0));
  const mem = new Float32Array(wasm.memory.buffer);
  if (srcAt < 0) mem.set(src, base / 4);
  let p0 = 0;
  const jobs = parts.map((n, t) => {
    const args = { x: srcAt >= 0 ? srcAt : base, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, dst, p0, p1: p0 + n };
    p0 += n;
    return vector ? namedJob("maxpoolV", { ...args, scratch: scratchAt + t * scratchBytes, hp, wp }) : namedJob("maxpool", args);
  });
  runParallel(wasm, jobs, vector ? "maxpoolV" : "maxpool");
  if (outAt < 0) out.set(mem.subarray(dst / 4, dst / 4 + np * oh * ow));
  return true;
}

/**
 * Adaptive average pooling to `[outH, outW]`: bin `i` averages input rows
 * `[floor(i*H/outH), ceil((i+1)*H/outH))` (and likewise for columns), as PyTorch.
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: [number, number]): Tensor {
  const { lead, planes: np, h, w } = planes(x, "adaptive_avg_pool2d");
  const [oh, ow] = outputSize;
  if (oh < 0 || ow < 0) throw new RuntimeError(`adaptive_avg_pool2d: invalid output size (${oh}, ${ow})`);
  const out = allocFloat32(np * oh * ow);
  const src = x.data;
  let p0 = 0;
  if (oh === 1 && ow === 1) {
    // Global pooling, four planes at a time: four independent sums (each in its plane's order, the
    // same bits) instead of one chain of dependent additions.
    const P = h * w;
    for (; p0 + 4 <= np; p0 += 4) {
      const a = p0 * P, b = a + P, c = b + P, d = c + P;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let i = 0; i < P; i++) {
        s0 += src[a + i];
        s1 += src[b + i];
        s2 += src[c + i];
        s3 += src[d + i];
      }
      out[p0] = s0 / P;
      out[p0 + 1] = s1 / P;
      out[p0 + 2] = s2 / P;
      out[p0 + 3] = s3 / P;
    }
  }
  for (let p = p0; p < np; p++) {
    const base = p * h * w;
    for (let oy = 0; oy < oh; oy++) {
      const y0 = Math.floor((oy * h) / oh);
      const y1 = Math.ceil(((oy + 1) * h) / oh);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = Math.floor((ox * w) / ow);
        const x1 = Math.ceil(((ox + 1) * w) / ow);
        let s = 0;
        for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) s += src[base + iy * w + ix];
        out[(p * oh + oy) * ow + ox] = s / ((y1 - y0) * (x1 - x0));
      }
    }
  }
  return new Tensor(out, [...lead, oh, ow]);
}

/** Average-pooling geometry (PyTorch: `F.avg_pool2d` arguments), sizes as pairs. */
export interface AvgPool2dArgs {
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  ceilMode: boolean;
  countIncludePad: boolean;
  divisorOverride: number | null;
}

/**
 * Average pooling over `[N, C, H, W]` or `[C, H, W]` (PyTorch: `F.avg_pool2d`). Each window's
 * divisor is `divisorOverride`, else its size clipped to the padded input
 * (`countIncludePad`), else the number of real input elements it covers; a window lying wholly
 * in the padding gives 0. Checks and their texts are ATen's.
 */
export function avgPool2d(x: Tensor, a: AvgPool2dArgs): Tensor {
  const [kh, kw] = a.kernel;
  const [sh, sw] = a.stride;
  const [ph, pw] = a.padding;
  if (sh === 0 || sw === 0) throw new RuntimeError("stride should not be zero");
  if (a.divisorOverride === 0) throw new RuntimeError("divisor must be not zero");
  if (kh <= 0 || kw <= 0) throw new RuntimeError(`kernel size should be greater than zero, but got kH: ${kh} kW: ${kw}`);
  if (sh < 0 || sw < 0) throw new RuntimeError(`stride should be greater than zero, but got dH: ${sh} dW: ${sw}`);
  if (ph < 0 || pw < 0) throw new RuntimeError(`pad must be non-negative, but got pad: ${ph < 0 ? ph : pw}`);
  if (ph > kh >> 1) throw new RuntimeError(`pad should be at most half of kernel size, but got pad=${ph} and kernel_size=${kh}`);
  if (pw > kw >> 1) throw new RuntimeError(`pad should be at most half of kernel size, but got pad=${pw} and kernel_size=${kw}`);
  if ((x.ndim !== 3 && x.ndim !== 4) || x.shape.slice(x.ndim - 3).some((d) => d === 0)) {
    throw new RuntimeError(`Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got:${formatShape(x.shape)}`);
  }
  const h = x.shape[x.ndim - 2];
  const w = x.shape[x.ndim - 1];
  const c = x.shape[x.ndim - 3];
  const np = x.numel() / (h * w);
  const oh = poolOutSize(h, kh, sh, ph, 1, a.ceilMode);
  const ow = poolOutSize(w, kw, sw, pw, 1, a.ceilMode);
  if (oh <= 0 || ow <= 0) {
    throw new RuntimeError(`Given input size: (${c}x${h}x${w}). Calculated output size: (${c}x${oh}x${ow}). Output size is too small`);
  }
  const src = x.data as Float32Array;
  const out = allocFloat32(np * oh * ow);
  for (let p = 0; p < np; p++) {
    const base = p * h * w;
    for (let oy = 0; oy < oh; oy++) {
      let y0 = oy * sh - ph;
      let y1 = Math.min(y0 + kh, h + ph);
      const spanY = y1 - y0;
      y0 = Math.max(y0, 0);
      y1 = Math.min(y1, h);
      for (let ox = 0; ox < ow; ox++) {
        let x0 = ox * sw - pw;
        let x1 = Math.min(x0 + kw, w + pw);
        const poolSize = spanY * (x1 - x0);
        x0 = Math.max(x0, 0);
        x1 = Math.min(x1, w);
        const o = (p * oh + oy) * ow + ox;
        if (y0 >= y1 || x0 >= x1) {
          out[o] = 0;
          continue;
        }
        let s = 0;
        for (let iy = y0; iy < y1; iy++) {
          const row = base + iy * w;
          for (let ix = x0; ix < x1; ix++) s += src[row + ix];
        }
        const div = a.divisorOverride !== null ? a.divisorOverride : a.countIncludePad ? poolSize : (y1 - y0) * (x1 - x0);
        out[o] = Math.fround(s) / div;
      }
    }
  }
  return new Tensor(out, [...x.shape.slice(0, -2), oh, ow]);
}

/**
 * Adaptive max pooling of `[N, C, H, W]` or `[C, H, W]` to `outputSize` (PyTorch:
 * `F.adaptive_max_pool2d`); bins `[floor(i*In/Out), ceil((i+1)*In/Out))`, NaN wins. Returns the
 * output and the int64 flat index `y*W + x` of each maximum within its plane (the last NaN, if any).
 */
export function adaptiveMaxPool2d(x: Tensor, outputSize: [number, number]): { output: Tensor; indices: Tensor<"int64"> } {
  requireFloat("adaptive_max_pool2d", x);
  if (x.ndim !== 3 && x.ndim !== 4) {
    throw new RuntimeError(`adaptive_max_pool2d(): Expected 3D or 4D tensor, but got: ${formatShape(x.shape)}`);
  }
  for (let d = 1; d < x.ndim; d++) {
    if (x.shape[d] === 0) {
      throw new RuntimeError(
        `adaptive_max_pool2d(): Expected input to have non-zero size for non-batch dimensions, but input has sizes ` +
          `${formatShape(x.shape)} with dimension ${d} being empty`,
      );
    }
  }
  const [oh, ow] = outputSize;
  if (oh < 0 || ow < 0) {
    throw new RuntimeError(`Trying to create tensor with negative dimension ${oh < 0 ? oh : ow}: ${formatShape([...x.shape.slice(0, -2), oh, ow])}`);
  }
  const h = x.shape[x.ndim - 2];
  const w = x.shape[x.ndim - 1];
  const np = x.numel() / (h * w);
  const src = x.data as Float32Array;
  const out = new Float32Array(np * oh * ow);
  const idx = new BigInt64Array(np * oh * ow);
  for (let p = 0; p < np; p++) {
    const base = p * h * w;
    for (let oy = 0; oy < oh; oy++) {
      const y0 = Math.floor((oy * h) / oh);
      const y1 = Math.ceil(((oy + 1) * h) / oh);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = Math.floor((ox * w) / ow);
        const x1 = Math.ceil(((ox + 1) * w) / ow);
        let best = -Infinity;
        let at = y0 * w + x0;
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) {
            const v = src[base + iy * w + ix];
            if (v > best || v !== v) {
              best = v;
              at = iy * w + ix;
            }
          }
        }
        const o = (p * oh + oy) * ow + ox;
        out[o] = best;
        idx[o] = BigInt(at);
      }
    }
  }
  const shape = [...x.shape.slice(0, -2), oh, ow];
  return { output: new Tensor(out, shape), indices: new Tensor(idx, shape, "int64") };
}
