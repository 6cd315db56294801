/**
 * Gradients of a 2-D convolution with respect to its input and weight (PyTorch:
 * `convolution_backward`), on the same kernels as the forward:
 *
 * - **input**: for a stride-1 convolution, `dX` is itself a stride-1 convolution of `dY` with the
 *   weight flipped and its channel axes swapped (padding `(k-1)·d - p`), so it runs on the forward's
 *   fast paths (Winograd for 3x3, direct depthwise, threads). Strided convolutions multiply
 *   `Wᵀ · dY` for a chunk of images in one GEMM and scatter the columns back (col2im).
 * - **weight**: `dW = Σₙ dYₙ · colsₙᵀ` as one GEMM per chunk of images (the columns unfolded by the
 *   WASM im2col straight into the GEMM's memory), so the inner dimension is `images·oh·ow` even
 *   where one image's output is 4x4.
 *
 * `conv2dGradientsReference` (per image: im2col, two GEMMs, col2im) is the JS backend's path and
 * the oracle of the tests.
 */
import type { Pads } from "./conv.js";
import { conv2d } from "./conv.js";
import { getBackend, gemmWithB, sgemm } from "./gemm.js";
import { bumpStorageVersion, storageVersion, Tensor } from "./tensor.js";
import { splitRange, wasmGemm, type WasmGemm } from "./wasm/gemm.js";
import { namedJob } from "./wasm/registry.js";
import { getNumThreads, runParallel } from "./wasm/threads.js";

/** What `conv2dGradients` needs: the forward's operands (flat, contiguous) and resolved geometry. */
export interface Conv2dGradientArgs {
  /** The forward's input, `[N, C, H, W]` contiguous. */
  x: Float32Array;
  xShape: readonly [number, number, number, number];
  /** The forward's weight, `[Cout, C/groups, kh, kw]` contiguous. */
  weight: Float32Array;
  wShape: readonly [number, number, number, number];
  /** The gradient of the output, `[N, Cout, oh, ow]` contiguous. */
  gOut: Float32Array;
  oh: number;
  ow: number;
  stride: readonly [number, number];
  /** `[top, bottom, left, right]` */
  pads: Pads;
  dilation: readonly [number, number];
  groups: number;
  needInput: boolean;
  needWeight: boolean;
}

/** `dX` (`[N, C, H, W]`) and `dW` (`[Cout, C/groups, kh, kw]`) as flat arrays, null where not needed. */
export interface Conv2dGradients {
  gInput: Float32Array | null;
  gWeight: Float32Array | null;
}

/** Floats of im2col columns (or of `Wᵀ·dY`) per chunk of images: 16 MB. */
let CHUNK_FLOATS = 1 << 22;

/**
 * Staging buffers of one chunk (`dY` gathered per group, and `Wᵀ·dY`), kept from call to call:
 * fresh arrays of up to 16 MB per convolution cost their page faults and their collection on
 * every backward. Each call overwrites what it reads; calls never nest.
 */
const scratchBuffers: [Float32Array, Float32Array] = [new Float32Array(0), new Float32Array(0)];

function scratch(slot: 0 | 1, floats: number): Float32Array {
  if (scratchBuffers[slot].length < floats) scratchBuffers[slot] = new Float32Array(floats);
  return scratchBuffers[slot].subarray(0, floats);
}

/** @internal Tests: a smaller chunk, so that small batches take several chunks. */
export function _setConvBackwardChunkFloats(n: number): void {
  CHUNK_FLOATS = n;
}

/** Gradients of `y = conv2d(x, w)` for the input and the weight (see the file's header). */
export function conv2dGradients(a: Conv2dGradientArgs): Conv2dGradients {
  const wasm = getBackend() === "wasm" ? wasmGemm() : null;
  if (!wasm) return conv2dGradientsReference(a);
  const [N, C, H, W] = a.xShape;
  const [Cout, Cg, kh, kw] = a.wShape;
  const G = a.groups;
  const CoutG = Cout / G;
  const Kg = Cg * kh * kw;
  const P = a.oh * a.ow;
  const strided = a.stride[0] !== 1 || a.stride[1] !== 1;
  const gInput = a.needInput && !strided ? inputGradByConvolution(a) : a.needInput ? new Float32Array(N * C * H * W) : null;
  const gWeight = a.needWeight ? new Float32Array(Cout * Kg) : null;
  const gemmInput = a.needInput && strided;
  if (!gWeight && !gemmInput) return { gInput, gWeight };
  const chunk = Math.max(1, Math.min(N, Math.floor(CHUNK_FLOATS / Math.max(Kg * P, CoutG * P, 1))));
  const dY = scratch(0, CoutG * chunk * P);
  const dCols = gemmInput ? scratch(1, Kg * chunk * P) : null;
  const wT = gemmInput ? transposedPerGroup(a.weight, G, CoutG, Kg) : null;
  const planeFloats = Cg * H * W;
  for (let b0 = 0; b0 < N; b0 += chunk) {
    const nb = Math.min(chunk, N - b0);
    const NP = nb * P;
    for (let g = 0; g < G; g++) {
      // dY of this chunk and group as [CoutG, nb·P] (image j in columns j·P..).
      for (let j = 0; j < nb; j++) {
        for (let o = 0; o < CoutG; o++) {
          const src = ((b0 + j) * Cout + g * CoutG + o) * P;
          const dst = o * NP + j * P;
          if (P >= 64) dY.set(a.gOut.subarray(src, src + P), dst);
          else for (let p = 0; p < P; p++) dY[dst + p] = a.gOut[src + p]; // small planes: no view per plane
        }
      }
      const A = { data: dY, offset: 0, rowStride: NP, colStride: 1 };
      if (gWeight) {
        // dW_g += dY [CoutG, NP] · colsᵀ, cols [Kg, NP] unfolded in the kernels' memory (B read transposed).
        const fill = (dst: Float32Array, at: number, extraAt: number, w: WasmGemm | null): void => {
          unfoldChunk(a, w!, dst, at, extraAt, b0, nb, g, NP);
        };
        gemmWithB(CoutG, Kg, NP, A, Kg * NP, 1, NP, fill, gWeight, g * CoutG * Kg, Kg, b0 > 0, planeFloats);
      }
      if (gemmInput && dCols && wT && gInput) {
        // cols' gradient [Kg, NP] = W_gᵀ [Kg, CoutG] · dY [CoutG, NP], folded back per image.
        sgemm(Kg, NP, CoutG, { data: wT, offset: g * Kg * CoutG, rowStride: CoutG, colStride: 1 }, A, dCols, 0, NP);
        for (let j = 0; j < nb; j++) {
          col2im(dCols, j * P, NP, gInput, ((b0 + j) * C + g * Cg) * H * W, Cg, H, W, kh, kw, a.stride, a.dilation, a.pads, a.oh, a.ow);
        }
      }
    }
  }
  return { gInput, gWeight };
}

/** im2col of images b0..b0+nb (group g) into `dst[at..]` as [Kg, NP], image j at columns j·P. */
function unfoldChunk(a: Conv2dGradientArgs, w: WasmGemm, dst: Float32Array, at: number, extraAt: number, b0: number, nb: number, g: number, NP: number): void {
  const [, C, H, W] = a.xShape;
  const [, Cg, kh, kw] = a.wShape;
  const P = a.oh * a.ow;
  const Kg = Cg * kh * kw;
  const planeFloats = Cg * H * W;
  const rows = Kg * P >= 1 << 16 ? splitRange(Kg, getNumThreads(), 1) : [Kg];
  for (let j = 0; j < nb; j++) {
    const xOff = ((b0 + j) * C + g * Cg) * H * W;
    dst.set(a.x.subarray(xOff, xOff + planeFloats), extraAt);
    let r0 = 0;
    const jobs = rows.map((nr) => {
      const job = namedJob("im2col", {
        x: extraAt * 4, h: H, w: W, kh, kw, sh: a.stride[0], sw: a.stride[1], dh: a.dilation[0], dw: a.dilation[1],
        padTop: a.pads[0], padLeft: a.pads[2], oh: a.oh, ow: a.ow, dst: (at + j * P) * 4, ld: NP, r0, r1: r0 + nr,
      });
      r0 += nr;
      return job;
    });
    runParallel(w, jobs, "im2col");
  }
}

/** Per weight array: its flipped, channel-swapped copy for the input gradient, and the version it holds. */
const flippedCache = new WeakMap<Float32Array, { version: number; data: Float32Array }>();

/**
 * `dX` of a stride-1 convolution as the convolution of `dY` with `w'[g·Cg + c, o, i, j] =
 * w[g·CoutG + o, c, kh-1-i, kw-1-j]`, padded by `(k-1)·d - p` on each side (a forward padding
 * beyond `(k-1)·d` is cropped afterwards).
 */
function inputGradByConvolution(a: Conv2dGradientArgs): Float32Array {
  const [N, C, H, W] = a.xShape;
  const [Cout, Cg, kh, kw] = a.wShape;
  const G = a.groups;
  const CoutG = Cout / G;
  const [dh, dw] = a.dilation;
  const eh = (kh - 1) * dh;
  const ew = (kw - 1) * dw;
  const flipped = flippedWeight(a.weight, G, CoutG, Cg, kh, kw);
  const [top, bottom, left, right] = a.pads;
  // The full convolution covers rows -top..H+bottom-1 of the padded input; keep rows 0..H-1.
  const pads: Pads = [eh - top, eh - bottom, ew - left, ew - right];
  const crop = pads.some((p) => p < 0);
  const args = { stride: [1, 1] as [number, number], padding: crop ? pads.map((p) => Math.max(p, 0)) as Pads : pads, dilation: [dh, dw] as [number, number], groups: G };
  const y = conv2d(new Tensor(a.gOut, [N, Cout, a.oh, a.ow]), new Tensor(flipped, [C, CoutG, kh, kw]), null, args);
  if (!crop) return y.data as Float32Array;
  // A forward padding beyond the kernel's reach (p > (k-1)·d): padding the convolution by 0 there
  // starts its output r0 rows (c0 columns) into the input; rows it never reaches get gradient 0.
  const [, , YH, YW] = y.shape;
  const r0 = Math.max(0, -pads[0]);
  const c0 = Math.max(0, -pads[2]);
  const yd = y.data as Float32Array;
  const out = new Float32Array(N * C * H * W);
  for (let p = 0; p < N * C; p++) {
    for (let i = 0; i < H && i + r0 < YH; i++) {
      for (let j = 0; j < W && j + c0 < YW; j++) out[(p * H + i) * W + j] = yd[(p * YH + i + r0) * YW + j + c0];
    }
  }
  return out;
}

function flippedWeight(w: Float32Array, G: number, CoutG: number, Cg: number, kh: number, kw: number): Float32Array {
  const version = storageVersion(w);
  let hit = flippedCache.get(w);
  if (hit && hit.version === version) return hit.data;
  if (!hit) {
    hit = { version, data: new Float32Array(w.length) };
    flippedCache.set(w, hit);
  }
  const out = hit.data;
  const k = kh * kw;
  for (let g = 0; g < G; g++) {
    for (let o = 0; o < CoutG; o++) {
      for (let c = 0; c < Cg; c++) {
        const src = ((g * CoutG + o) * Cg + c) * k;
        const dst = ((g * Cg + c) * CoutG + o) * k;
        for (let t = 0; t < k; t++) out[dst + t] = w[src + k - 1 - t];
      }
    }
  }
  hit.version = version;
  // The convolution keeps its packed (or Winograd-transformed) copy until this array changes.
  bumpStorageVersion(out);
  return out;
}

/** Wᵀ per group: `[G][Kg][CoutG]`, so that the GEMM's A has unit column stride. */
function transposedPerGroup(w: Float32Array, G: number, CoutG: number, Kg: number): Float32Array {
  const wt = new Float32Array(G * Kg * CoutG);
  for (let g = 0; g < G; g++) for (let o = 0; o < CoutG; o++) for (let k = 0; k < Kg; k++) wt[(g * Kg + k) * CoutG + o] = w[(g * CoutG + o) * Kg + k];
  return wt;
}

/**
 * Per image and group: `dW += dY · colsᵀ`, `dCols = Wᵀ · dY` folded back by col2im (the JS
 * backend's path, and the oracle of `conv2dGradients`).
 */
export function conv2dGradientsReference(a: Conv2dGradientArgs): Conv2dGradients {
  const [N, C, H, W] = a.xShape;
  const [Cout, Cg, kh, kw] = a.wShape;
  const G = a.groups;
  const CoutG = Cout / G;
  const Kg = Cg * kh * kw;
  const P = a.oh * a.ow;
  const gInput = a.needInput ? new Float32Array(N * C * H * W) : null;
  const gWeight = a.needWeight ? new Float32Array(Cout * Kg) : null;
  const cols = new Float32Array(Kg * P);
  const gcols = gInput ? new Float32Array(Kg * P) : null;
  const wT = gInput ? transposedPerGroup(a.weight, G, CoutG, Kg) : null;
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < G; g++) {
      const goOff = (n * Cout + g * CoutG) * P;
      const dY = { data: a.gOut, offset: goOff, rowStride: P, colStride: 1 };
      if (gWeight) {
        im2col(a.x, (n * C + g * Cg) * H * W, Cg, H, W, kh, kw, a.stride, a.dilation, a.pads, a.oh, a.ow, cols);
        sgemm(CoutG, Kg, P, dY, { data: cols, offset: 0, rowStride: 1, colStride: P }, gWeight, g * CoutG * Kg, Kg, true);
      }
      if (gInput && gcols && wT) {
        sgemm(Kg, P, CoutG, { data: wT, offset: g * Kg * CoutG, rowStride: CoutG, colStride: 1 }, dY, gcols, 0, P, false);
        col2im(gcols, 0, P, gInput, (n * C + g * Cg) * H * W, Cg, H, W, kh, kw, a.stride, a.dilation, a.pads, a.oh, a.ow);
      }
    }
  }
  return { gInput, gWeight };
}

function im2col(
  x: Float32Array, off: number, C: number, H: number, W: number, kh: number, kw: number,
  stride: readonly [number, number], dilation: readonly [number, number], pads: Pads, oh: number, ow: number, cols: Float32Array,
): void {
  const [sh, sw] = stride;
  const [dh, dw] = dilation;
  const top = pads[0];
  const left = pads[2];
  const P = oh * ow;
  let r = 0;
  for (let c = 0; c < C; c++) {
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++, r++) {
        const row = r * P;
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy * sh - top + ky * dh;
          const o = row + oy * ow;
          if (iy < 0 || iy >= H) {
            cols.fill(0, o, o + ow);
            continue;
          }
          const src = off + (c * H + iy) * W;
          for (let ox = 0; ox < ow; ox++) {
            const ix = ox * sw - left + kx * dw;
            cols[o + ox] = ix >= 0 && ix < W ? x[src + ix] : 0;
          }
        }
      }
    }
  }
}

/**
 * @internal Add columns `cols[r·ld + col0 ..]` (one image's `[Kg, oh·ow]`) back onto its input
 * planes at `gx[off..]`, row by row of the columns (so each input element sums its terms in a
 * fixed order); each output column range is clipped to the input once per kernel column.
 */
export function col2im(
  cols: Float32Array, col0: number, ld: number, gx: Float32Array, off: number, C: number, H: number, W: number, kh: number, kw: number,
  stride: readonly [number, number], dilation: readonly [number, number], pads: Pads, oh: number, ow: number,
): void {
  const [sh, sw] = stride;
  const [dh, dw] = dilation;
  const top = pads[0];
  const left = pads[2];
  let r = 0;
  for (let c = 0; c < C; c++) {
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++, r++) {
        const row = r * ld + col0;
        // Output columns whose input column ix = ox·sw − left + kx·dw lies in [0, W).
        const shift = kx * dw - left;
        const ox0 = Math.max(0, Math.ceil(-shift / sw));
        const ox1 = Math.min(ow, Math.ceil((W - shift) / sw));
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy * sh - top + ky * dh;
          if (iy < 0 || iy >= H) continue;
          const dst = off + (c * H + iy) * W + shift;
          const o = row + oy * ow;
          for (let ox = ox0; ox < ox1; ox++) gx[dst + ox * sw] += cols[o + ox];
        }
      }
    }
  }
}
