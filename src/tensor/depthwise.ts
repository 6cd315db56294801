/**
 * Depthwise convolution (PyTorch: `F.conv2d` with `groups == in_channels`, `out_channels` a
 * multiple of it): each output channel reads one input channel, so there is no reduction over
 * channels for a GEMM to exploit. A direct kernel instead: WebAssembly SIMD (`wasm/depthwise.ts`,
 * strides 1 and 2) or plain JS (any stride). `conv2dReference` is the oracle for both.
 */
import { RuntimeError } from "../errors.js";
import { applyRowEpilogue, getBackend, type RowEpilogue } from "./gemm.js";
import { ensureMemory, splitRange, wasmGemm, type WasmGemm } from "./wasm/gemm.js";
import { DW_BLOCK, dwScratch, type DwParams } from "./wasm/depthwise.js";
import { residentEnd, residentWeight } from "./wasm/resident.js";
import { namedJob } from "./wasm/registry.js";
import { getNumThreads, runParallel } from "./wasm/threads.js";
import { allocFloat32, wasmAddress } from "./arena.js";
import { convOutSize, formatShape } from "./shape.js";
import type { Conv2dArgs, Pads } from "./conv.js";
import { Tensor } from "./tensor.js";

/** The sizes of one depthwise convolution (as `conv2d` resolves them). */
export interface DepthwiseGeometry {
  n: number; cin: number; h: number; w: number;
  cout: number; kh: number; kw: number;
  sh: number; sw: number; dh: number; dw: number;
  pads: Pads; oh: number; ow: number;
}

/** Whether `conv2d` with these channels and groups is depthwise (`groups == cin > 1`, `cout` a multiple of `cin`). */
export function depthwiseApplies(cin: number, cout: number, groups: number): boolean {
  return groups > 1 && groups === cin && cout % cin === 0;
}

/** Below this many multiply-adds one thread wins (waking a worker costs tens of microseconds). */
const PARALLEL_MIN_WORK = 1 << 18;

/**
 * Depthwise convolution of `x` `[N, C, H, W]` with `weight` `[C·m, 1, kH, kW]` and optional
 * `bias`, then the optional per-channel epilogue (`ConvEpilogue`: BatchNorm's affine step in
 * double, a residual, ReLU). PyTorch: `F.conv2d(x, weight, bias, stride, padding, dilation, groups=C)`.
 */
export function depthwiseConv2d(
  x: Tensor, weight: Tensor, bias: Tensor | null, args: Conv2dArgs = {}, epilogue: RowEpilogue | null = null, outBuffer: Float32Array | null = null,
): Tensor {
  if (x.ndim !== 4 || weight.ndim !== 4) throw new RuntimeError(`depthwiseConv2d: expected 4-D input and weight, got ${formatShape(x.shape)} and ${formatShape(weight.shape)}`);
  const [n, cin, h, w] = x.shape;
  const [cout, one, kh, kw] = weight.shape;
  if (one !== 1 || cout % cin !== 0 || (args.groups ?? cin) !== cin) {
    throw new RuntimeError(`depthwiseConv2d: weight ${formatShape(weight.shape)} is not depthwise for ${cin} input channels`);
  }
  const [sh, sw] = args.stride ?? [1, 1];
  const [dh, dw] = args.dilation ?? [1, 1];
  const p = args.padding ?? [0, 0];
  if (typeof p === "string") throw new RuntimeError("depthwiseConv2d: resolve 'same'/'valid' padding first (conv2d does)");
  const pads: Pads = p.length === 4 ? [...p] : [p[0], p[0], p[1], p[1]];
  const oh = convOutSize(h, kh, sh, pads[0], pads[1], dh);
  const ow = convOutSize(w, kw, sw, pads[2], pads[3], dw);
  const g = { n, cin, h, w, cout, kh, kw, sh, sw, dh, dw, pads, oh, ow };
  const out = outBuffer ?? allocFloat32(n * cout * oh * ow);
  if (out.length !== n * cout * oh * ow) throw new RuntimeError(`depthwiseConv2d: output buffer of ${out.length} elements for an output of ${formatShape([n, cout, oh, ow])}`);
  depthwiseConv(g, x.data as Float32Array, weight.data as Float32Array, bias ? (bias.data as Float32Array) : null, epilogue, out);
  return new Tensor(out, [n, cout, oh, ow]);
}

/**
 * The kernel behind `depthwiseConv2d` (and `conv2d`'s depthwise case), on flat NCHW arrays;
 * `out` may be an arena buffer (written in place), as may `x` (read in place).
 */
export function depthwiseConv(
  g: DepthwiseGeometry, x: Float32Array, weight: Float32Array, bias: Float32Array | null, epilogue: RowEpilogue | null, out: Float32Array,
): void {
  const residual = epilogue?.residual ?? null;
  if (residual && residual.length !== out.length) {
    throw new RuntimeError(`conv2d: residual of ${residual.length} elements for an output of ${formatShape([g.n, g.cout, g.oh, g.ow])}`);
  }
  const wasm = getBackend() === "wasm" && (g.sw === 1 || g.sw === 2) && out.length > 0 ? wasmGemm() : null;
  if (wasm) depthwiseWasm(wasm, g, x, weight, bias, epilogue, out);
  else depthwiseJs(g, x, weight, bias, epilogue, out);
}

/** The direct loop in JS (double accumulation, bias first), then the epilogue as `conv2d` applies it. */
export function depthwiseJs(
  g: DepthwiseGeometry, x: Float32Array, weight: Float32Array, bias: Float32Array | null, epilogue: RowEpilogue | null, out: Float32Array,
): void {
  const { n, cin, h, w, cout, kh, kw, sh, sw, dh, dw, pads, oh, ow } = g;
  const mult = cout / cin;
  const P = oh * ow;
  for (let b = 0; b < n; b++) {
    for (let co = 0; co < cout; co++) {
      const xp = (b * cin + Math.floor(co / mult)) * h * w;
      const wp = co * kh * kw;
      const op = (b * cout + co) * P;
      const b0 = bias ? bias[co] : 0;
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          let s = b0;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh - pads[0] + ky * dh;
            if (iy < 0 || iy >= h) continue;
            const row = xp + iy * w;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw - pads[2] + kx * dw;
              if (ix >= 0 && ix < w) s += x[row + ix] * weight[wp + ky * kw + kx];
            }
          }
          out[op + oy * ow + ox] = s;
        }
      }
    }
  }
  if (!epilogue) return;
  const residual = epilogue.residual ?? null;
  const affine = { ...epilogue, relu: epilogue.relu && !residual };
  for (let b = 0; b < n; b++) applyRowEpilogue(out, b * cout * P, P, cout, P, affine);
  if (residual) {
    for (let i = 0; i < out.length; i++) out[i] += residual[i];
    if (epilogue.relu) {
      for (let i = 0; i < out.length; i++) {
        const v = out[i];
        out[i] = v < 0 ? 0 : v;
      }
    }
  }
}

const align = (v: number): number => Math.ceil(v / 64) * 64;

function depthwiseWasm(
  w: WasmGemm, g: DepthwiseGeometry, x: Float32Array, weight: Float32Array, bias: Float32Array | null, epilogue: RowEpilogue | null, out: Float32Array,
): void {
  const { n, cin, h, w: width, cout, kh, kw, sh, sw, dh, dw, pads, oh, ow } = g;
  // Resident first: it may move the scratch area's start.
  const wAt = residentWeight(w, weight, "depthwise", weight.length, (dst, at) => dst.set(weight, at));
  const planes = n * cout;
  const work = planes * oh * ow * kh * kw;
  const threads = work >= PARALLEL_MIN_WORK ? getNumThreads() : 1;
  const parts = splitRange(planes, threads, 1);
  const scratch = dwScratch(kh, kw, sh, sw, dh, dw, oh, ow);
  const xAddr = wasmAddress(x);
  const outAddr = wasmAddress(out);
  const residual = epilogue?.residual ?? null;
  const resAddr = residual ? wasmAddress(residual) : -1;
  let p = align(residentEnd());
  const take = (bytes: number): number => {
    const at = p;
    p = align(p + bytes);
    return at;
  };
  const paramsAt = take(DW_BLOCK.bytes);
  const xAt = xAddr >= 0 ? xAddr : take(x.length * 4);
  const outAt = outAddr >= 0 ? outAddr : take(out.length * 4 + 16);
  const biasAt = bias ? take(cout * 4) : 0;
  const epiAt = epilogue ? take(16 * cout) : 0;
  const resAt = residual ? (resAddr >= 0 ? resAddr : take(residual.length * 4 + 16)) : 0;
  const scratchAt = parts.map(() => take(scratch.floats * 4));
  // (+16: the last vector of a row may read a residual's 12 bytes past its end.)
  ensureMemory(w, Math.max(p, resAt + (residual ? residual.length * 4 + 16 : 0)));
  const mem = new Float32Array(w.memory.buffer);
  if (xAddr < 0) mem.set(x, xAt / 4);
  if (bias) mem.set(bias, biasAt / 4);
  if (epilogue) {
    const f64 = new Float64Array(w.memory.buffer, epiAt, 2 * cout);
    f64.set(epilogue.scale.subarray(0, cout));
    f64.set(epilogue.shift.subarray(0, cout), cout);
  }
  if (residual && resAddr < 0) mem.set(residual, resAt / 4);
  const params: DwParams = {
    x: xAt, weight: wAt, bias: biasAt, out: outAt, cout, cin, mult: cout / cin, h, w: width, kh, kw, sh, sw, dh, dw,
    padTop: pads[0], padLeft: pads[2], oh, ow, hp: scratch.hp, wp: scratch.wp,
    scale: epiAt, shift: epiAt + 8 * cout, relu: epilogue?.relu ? 1 : 0, residual: resAt, act: epilogue?.act ?? 0,
  };
  DW_BLOCK.write(w.memory.buffer, paramsAt, params);
  let q0 = 0;
  const jobs = parts.map((size, t) => {
    const job = namedJob("dwconv", { params: paramsAt, q0, q1: q0 + size, scratch: scratchAt[t] });
    q0 += size;
    return job;
  });
  runParallel(w, jobs, "dwconv");
  if (epilogue?.act) epilogue.actDone = true;
  if (outAddr < 0) out.set(new Float32Array(w.memory.buffer, outAt, out.length));
}
