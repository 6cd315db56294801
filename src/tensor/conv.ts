/**
 * 2-D convolution (PyTorch: `F.conv2d`) and padding (`F.pad` for 4-D inputs). `conv2d` lowers to
 * im2col (written straight into the GEMM's memory) + GEMM; a 1x1 stride-1 unpadded convolution is
 * a plain GEMM. `conv2dReference` is the direct seven-loop oracle it is tested against.
 */
import { RuntimeError, ValueError } from "../errors.js";
import { applyRowEpilogue, gemmWithB, getBackend, requireIntactData, type RowEpilogue } from "./gemm.js";
import { ensureMemory, packA, packedSize, splitRange, wasmGemm, type WasmGemm } from "./wasm/gemm.js";
import { residentEnd, residentWeight } from "./wasm/resident.js";
import { winogradApplies, winogradConv, winogradSafe } from "./winograd.js";
import { depthwiseApplies, depthwiseConv } from "./depthwise.js";
import { groupedApplies, groupedConv } from "./grouped.js";
import { allocFloat32, wasmAddress } from "./arena.js";
import { getNumThreads, runParallel } from "./wasm/threads.js";
import { namedJob } from "./wasm/registry.js";
import { convOutSize, formatShape } from "./shape.js";
import { relu, Tensor } from "./tensor.js";

/** Largest unfolded-input or output block (floats) one GEMM handles: 64 Mi floats = 256 MB. */
let CHUNK_FLOATS = 64 * 1024 * 1024;

/** Test hook: shrink the per-GEMM block to force batch chunking. @internal */
export function _setConvChunkFloats(n: number): void {
  CHUNK_FLOATS = n;
}

/** Receives each convolution's weight, wall time (ms) and multiply-adds (for benchmarks). */
export type ConvProfiler = (weight: Tensor, ms: number, macs: number) => void;

let profiler: ConvProfiler | null = null;

/** Time every `conv2d` call into `fn` (null: stop); how `bench/` breaks a forward down by layer. */
export function setConvProfiler(fn: ConvProfiler | null): void {
  profiler = fn;
}

/** Paddings on the four sides: `[top, bottom, left, right]`. */
export type Pads = [number, number, number, number];

/**
 * A per-channel epilogue applied in place to the convolution output: `y = y·scale[c] + shift[c]`
 * (computed as BatchNorm does, in double, rounded to float32), then `max(y, 0)` if `relu`.
 */
export type ConvEpilogue = RowEpilogue;

/** Options of the functional convolution, sizes already as pairs. */
export interface Conv2dArgs {
  stride?: [number, number];
  /** A pair (symmetric), explicit `[top, bottom, left, right]`, `"same"` or `"valid"`. */
  padding?: [number, number] | Pads | "same" | "valid";
  dilation?: [number, number];
  groups?: number;
}

/**
 * Resolve a padding spec to four sides. `"same"` puts `floor(total/2)` before and the rest after
 * (the extra row/column of an even kernel goes bottom/right, as PyTorch).
 */
export function resolvePads(
  padding: Conv2dArgs["padding"],
  kernel: [number, number],
  dilation: [number, number],
): Pads {
  if (padding === undefined || padding === "valid") return [0, 0, 0, 0];
  if (padding === "same") {
    const th = dilation[0] * (kernel[0] - 1);
    const tw = dilation[1] * (kernel[1] - 1);
    return [th >> 1, th - (th >> 1), tw >> 1, tw - (tw >> 1)];
  }
  if (padding.length === 4) return [...padding] as Pads;
  return [padding[0], padding[0], padding[1], padding[1]];
}

interface ConvGeometry {
  n: number; cin: number; h: number; w: number;
  cout: number; kh: number; kw: number;
  sh: number; sw: number; dh: number; dw: number;
  pads: Pads; groups: number; oh: number; ow: number;
  unbatched: boolean;
}

function geometry(x: Tensor, weight: Tensor, bias: Tensor | null, args: Conv2dArgs): ConvGeometry {
  requireIntactData("conv2d", [["input", x], ["weight", weight], ["bias", bias]]);
  const unbatched = x.ndim === 3;
  if (x.ndim !== 3 && x.ndim !== 4) {
    throw new RuntimeError(
      `Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: ${formatShape(x.shape)}`,
    );
  }
  if (weight.ndim !== 4) throw new RuntimeError(`conv2d: weight must be 4-D [out, in/groups, kH, kW], got ${formatShape(weight.shape)}`);
  const [n, cin, h, w] = unbatched ? [1, ...x.shape] : x.shape;
  const [cout, cinG, kh, kw] = weight.shape;
  const groups = args.groups ?? 1;
  const [sh, sw] = args.stride ?? [1, 1];
  const [dh, dw] = args.dilation ?? [1, 1];
  if (groups < 1 || !Number.isInteger(groups)) throw new RuntimeError("non-positive groups is not supported");
  if (cinG * groups !== cin) {
    throw new RuntimeError(
      `Given groups=${groups}, weight of size ${formatShape(weight.shape)}, expected input${formatShape(x.shape)} ` +
        `to have ${cinG * groups} channels, but got ${cin} channels instead`,
    );
  }
  if (cout % groups !== 0) {
    throw new RuntimeError(`Given groups=${groups}, expected weight to be divisible by ${groups} at dimension 0, but got weight of size ${formatShape(weight.shape)} instead`);
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== cout)) {
    throw new RuntimeError(`Given weight of size ${formatShape(weight.shape)}, expected bias to be 1-dimensional with ${cout} elements, but got bias of size ${formatShape(bias.shape)} instead`);
  }
  if (sh < 1 || sw < 1) throw new RuntimeError("non-positive stride is not supported");
  if (args.padding === "same" && (sh !== 1 || sw !== 1)) {
    throw new RuntimeError("padding='same' is not supported for strided convolutions");
  }
  const pads = resolvePads(args.padding, [kh, kw], [dh, dw]);
  if (pads.some((p) => p < 0)) throw new RuntimeError("negative padding is not supported");
  const ph = h + pads[0] + pads[1];
  const pw = w + pads[2] + pads[3];
  const ekh = dh * (kh - 1) + 1;
  const ekw = dw * (kw - 1) + 1;
  if (ph < ekh || pw < ekw) {
    throw new RuntimeError(
      `Calculated padded input size per channel: (${ph} x ${pw}). Kernel size: (${ekh} x ${ekw}). ` +
        "Kernel size can't be greater than actual input size",
    );
  }
  const oh = convOutSize(h, kh, sh, pads[0], pads[1], dh);
  const ow = convOutSize(w, kw, sw, pads[2], pads[3], dw);
  return { n, cin, h, w, cout, kh, kw, sh, sw, dh, dw, pads, groups, oh, ow, unbatched };
}

function outTensor(g: ConvGeometry, data: Float32Array): Tensor {
  return new Tensor(data, g.unbatched ? [g.cout, g.oh, g.ow] : [g.n, g.cout, g.oh, g.ow]);
}

/**
 * Convolution of `x` `[N, C, H, W]` (or unbatched `[C, H, W]`) with `weight`
 * `[out, C/groups, kH, kW]` and optional `bias` `[out]` (PyTorch: `F.conv2d`).
 */
export function conv2d(
  x: Tensor, weight: Tensor, bias: Tensor | null, args: Conv2dArgs = {}, epilogue: ConvEpilogue | null = null,
  outBuffer: Float32Array | null = null,
): Tensor {
  if (!profiler) return conv2dImpl(x, weight, bias, args, epilogue, outBuffer);
  const t0 = performance.now();
  const y = conv2dImpl(x, weight, bias, args, epilogue, outBuffer);
  profiler(weight, performance.now() - t0, y.numel() * (weight.numel() / weight.shape[0]));
  return y;
}

function conv2dImpl(
  x: Tensor, weight: Tensor, bias: Tensor | null, args: Conv2dArgs, epilogue: ConvEpilogue | null, outBuffer: Float32Array | null,
): Tensor {
  const g = geometry(x, weight, bias, args);
  const { n, cin, h, w, cout, kh, kw, sh, sw, dh, dw, pads, groups, oh, ow } = g;
  const cinG = cin / groups;
  const coutG = cout / groups;
  const P = oh * ow;
  const Kg = cinG * kh * kw;
  if (outBuffer && outBuffer.length !== n * cout * P) {
    throw new RuntimeError(`conv2d: output buffer of ${outBuffer.length} elements for an output of ${formatShape([n, cout, oh, ow])}`);
  }
  const out = outBuffer ?? allocFloat32(n * cout * P);
  if (depthwiseApplies(cin, cout, groups)) {
    depthwiseConv(g, x.data, weight.data, bias?.data ?? null, epilogue, out);
    return outTensor(g, out);
  }
  // Arena buffers are read and written in place by the WASM kernels.
  const xAddr = wasmAddress(x.data);
  const outAddr = wasmAddress(out);
  const xd = x.data;
  const wd = weight.data;
  const direct = kh === 1 && kw === 1 && sh === 1 && sw === 1 && pads.every((p) => p === 0);
  // One GEMM per group over a chunk of images: B is [Kg, nb*P] (image b in columns b*P..), so the
  // weights are packed once per chunk and N is large enough to split across threads. Chunks keep
  // B and C under ~256 MB each, far below the kernel memory's limit, whatever the batch size.
  const perImage = Math.max(Kg, coutG) * P;
  const chunk = Math.max(1, Math.min(n, Math.floor(CHUNK_FLOATS / Math.max(perImage, 1))));
  const planeFloats = cinG * h * w;
  const wasm = getBackend() === "wasm" ? wasmGemm() : null;
  // Winograd only where its transforms cannot turn ±Inf/NaN or huge values into other results.
  const wino = wasm !== null && winogradApplies(cin, cout, kh, kw, sh, sw, dh, dw, groups) && winogradSafe(wasm, xd, wd, cin);
  // The epilogue runs inside the kernels (per output channel) unless a bias comes first; a
  // residual is added inside the Winograd and the one-image GEMM kernels (elsewhere after, then
  // the ReLU).
  const residual = epilogue?.residual ?? null;
  if (residual && residual.length !== out.length) {
    throw new RuntimeError(`conv2d: residual of ${residual.length} elements for an output of ${formatShape([n, cout, oh, ow])}`);
  }
  const grouped = !wino && wasm !== null && groupedApplies(cin, cout, groups, kh, kw, oh, ow);
  // The GEMM's epilogue adds a residual too, for one image and one group (its output is C itself).
  const residualInside = wino || (wasm !== null && !grouped && groups === 1 && n === 1);
  const inner = bias || !epilogue ? null : residual && !residualInside ? { ...epilogue, relu: false, residual: null, act: 0 } : epilogue;
  if (wino) {
    winogradConv(wasm, xd, n, cin, h, w, pads[0], pads[2], wd, cout, oh, ow, out, CHUNK_FLOATS, inner);
  } else if (grouped) {
    groupedConv(wasm, g, xd, wd, out, inner);
  } else if (wasm && n === 1 && groups === 1 && P === 1 && !inner) {
    // One output pixel (squeeze-excitation's 1x1 convolutions): a matrix-vector product with the
    // GEMM's bits; bias and epilogue after, as below.
    const packedAt = residentWeight(wasm, wd, "gemm", packedSize(cout, Kg), (dst, at) => packA(wd, 0, cout, Kg, dst, at));
    gemvConv(wasm, packedAt, cout, Kg, direct ? xd : im2colOne(xd, cin, h, w, kh, kw, dh, dw, pads[0], pads[2]), out);
  } else {
    // The weights stay in the kernels' memory, packed per group, while unchanged.
    const groupFloats = packedSize(coutG, Kg);
    const packedAt = wasm
      ? residentWeight(wasm, wd, "gemm", groups * groupFloats, (dst, at) => {
          for (let g = 0; g < groups; g++) packA(wd, g * coutG * Kg, coutG, Kg, dst, at + g * groupFloats);
        })
      : null;
    for (let b0 = 0; b0 < n; b0 += chunk) {
      const nb = Math.min(chunk, n - b0);
      const NP = nb * P;
      const C = n === 1 ? out : new Float32Array(coutG * NP);
      for (let gi = 0; gi < groups; gi++) {
        const A = { data: wd, offset: gi * coutG * Kg, rowStride: Kg, colStride: 1 };
        const fill = (dst: Float32Array, at: number, extraAt: number, wasm: WasmGemm | null): void => {
          for (let j = 0; j < nb; j++) {
            const xOff = ((b0 + j) * cin + gi * cinG) * h * w;
            if (direct) {
              for (let r = 0; r < Kg; r++) dst.set(xd.subarray(xOff + r * P, xOff + r * P + P), at + r * NP + j * P);
            } else if (wasm) {
              // Stage this image's channels in WASM memory and unfold them there.
              const X = xAddr >= 0 ? xAddr + xOff * 4 : extraAt * 4;
              if (xAddr < 0) dst.set(xd.subarray(xOff, xOff + planeFloats), extraAt);
              const rows = Kg * P >= 1 << 16 ? splitRange(Kg, getNumThreads(), 1) : [Kg];
              let r0 = 0;
              const jobs = rows.map((nr) => {
                const job = namedJob("im2col", { x: X, h, w, kh, kw, sh, sw, dh, dw, padTop: pads[0], padLeft: pads[2], oh, ow, dst: (at + j * P) * 4, ld: NP, r0, r1: r0 + nr });
                r0 += nr;
                return job;
              });
              runParallel(wasm, jobs, "im2col");
            } else {
              im2col(xd, xOff, cinG, h, w, kh, kw, sh, sw, dh, dw, pads[0], pads[2], oh, ow, dst, at + j * P, NP);
            }
          }
        };
        const rows = inner && {
          scale: inner.scale.subarray(gi * coutG, (gi + 1) * coutG),
          shift: inner.shift.subarray(gi * coutG, (gi + 1) * coutG),
          relu: inner.relu,
          residual: inner.residual ?? null,
          act: inner.act ?? 0,
          actDone: false,
        };
        const packed = packedAt === null ? null : packedAt + gi * groupFloats * 4;
        const cAddr = n === 1 && outAddr >= 0 ? outAddr + gi * coutG * P * 4 : -1;
        // A 1x1 convolution of one image in the kernels' memory reads its input there as B.
        const bAddr = direct && n === 1 && xAddr >= 0 ? xAddr + gi * cinG * P * 4 : -1;
        gemmWithB(coutG, NP, Kg, A, Kg * NP, NP, 1, fill, C, n === 1 ? gi * coutG * P : 0, NP, false, direct || xAddr >= 0 ? 0 : planeFloats, rows, packed, cAddr, bAddr);
        if (rows?.actDone && inner === epilogue) epilogue!.actDone = true;
        if (n > 1) {
          for (let j = 0; j < nb; j++) {
            for (let co = 0; co < coutG; co++) {
              out.set(C.subarray(co * NP + j * P, co * NP + j * P + P), ((b0 + j) * cout + gi * coutG + co) * P);
            }
          }
        }
      }
    }
  }
  if (bias) addChannelBias(out, bias.data, n, cout, P);
  if (epilogue && !inner) {
    const affine = { ...epilogue, relu: epilogue.relu && !residual };
    for (let b = 0; b < n; b++) applyRowEpilogue(out, b * cout * P, P, cout, P, affine);
  }
  if (residual && inner !== epilogue) {
    for (let i = 0; i < out.length; i++) out[i] += residual[i];
    if (epilogue!.relu) relu(new Tensor(out, [out.length]), true);
  }
  return outTensor(g, out);
}

/** `out` = A·x for the resident packed A at `packedAt` (M x K) and an input vector x of K floats. */
function gemvConv(w: WasmGemm, packedAt: number, M: number, K: number, x: Float32Array, out: Float32Array): void {
  const Mp = Math.ceil(M / 4) * 4;
  const xAddr = wasmAddress(x);
  const outAddr = wasmAddress(out);
  const base = Math.ceil(residentEnd() / 64) * 64;
  const xAt = xAddr >= 0 ? xAddr : base;
  const yAt = outAddr >= 0 ? outAddr : base + Math.ceil((K * 4) / 64) * 64;
  const spill = base + Math.ceil((K * 4) / 64) * 64 + Math.ceil((Mp * 4) / 64) * 64;
  ensureMemory(w, spill + 64);
  if (xAddr < 0) new Float32Array(w.memory.buffer, xAt, K).set(x.subarray(0, K));
  w.exports.gemv(packedAt, Mp, M, K, xAt, yAt, spill);
  if (outAddr < 0) out.set(new Float32Array(w.memory.buffer, yAt, M));
}

/** The one column of im2col for a convolution with a single output pixel (window at the top left). */
function im2colOne(x: Float32Array, c: number, h: number, w: number, kh: number, kw: number, dh: number, dw: number, padTop: number, padLeft: number): Float32Array {
  const col = new Float32Array(c * kh * kw);
  im2col(x, 0, c, h, w, kh, kw, 1, 1, dh, dw, padTop, padLeft, 1, 1, col, 0, 1);
  return col;
}

/** `out[n, c, :] += bias[c]` over an NC(P) buffer. */
export function addChannelBias(out: Float32Array, bias: Float32Array, n: number, c: number, plane: number): void {
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const v = bias[ch];
      const o = (b * c + ch) * plane;
      for (let i = 0; i < plane; i++) out[o + i] += v;
    }
  }
}

function im2col(
  x: Float32Array, xOff: number, c: number, h: number, w: number,
  kh: number, kw: number, sh: number, sw: number, dh: number, dw: number,
  padTop: number, padLeft: number, oh: number, ow: number, col: Float32Array, colOff = 0, ldCol = oh * ow,
): void {
  let row = 0;
  for (let ci = 0; ci < c; ci++) {
    const plane = xOff + ci * h * w;
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++, row++) {
        let o = colOff + row * ldCol;
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy * sh - padTop + ky * dh;
          if (iy < 0 || iy >= h) {
            col.fill(0, o, o + ow);
            o += ow;
            continue;
          }
          const rowBase = plane + iy * w;
          let ix = kx * dw - padLeft;
          if (sw === 1 && ow >= 16) {
            // Contiguous: zeros where the window hangs over the left/right edge, a copy between.
            const lo = Math.min(ow, Math.max(0, -ix));
            const hi = Math.max(lo, Math.min(ow, w - ix));
            if (lo > 0) col.fill(0, o, o + lo);
            if (hi > lo) col.set(x.subarray(rowBase + ix + lo, rowBase + ix + hi), o + lo);
            if (hi < ow) col.fill(0, o + hi, o + ow);
            o += ow;
            continue;
          }
          for (let ox = 0; ox < ow; ox++, ix += sw) col[o++] = ix >= 0 && ix < w ? x[rowBase + ix] : 0;
        }
      }
    }
  }
}

/** The direct-loop convolution (double accumulation): the oracle for `conv2d`. */
export function conv2dReference(x: Tensor, weight: Tensor, bias: Tensor | null, args: Conv2dArgs = {}): Tensor {
  const g = geometry(x, weight, bias, args);
  const { n, cin, h, w, cout, kh, kw, sh, sw, dh, dw, pads, groups, oh, ow } = g;
  const cinG = cin / groups;
  const coutG = cout / groups;
  const out = new Float32Array(n * cout * oh * ow);
  for (let b = 0; b < n; b++) {
    for (let co = 0; co < cout; co++) {
      const gi = Math.floor(co / coutG);
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          let s = bias ? bias.data[co] : 0;
          for (let ci = 0; ci < cinG; ci++) {
            for (let ky = 0; ky < kh; ky++) {
              const iy = oy * sh - pads[0] + ky * dh;
              if (iy < 0 || iy >= h) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ix = ox * sw - pads[2] + kx * dw;
                if (ix < 0 || ix >= w) continue;
                s += x.data[((b * cin + gi * cinG + ci) * h + iy) * w + ix] *
                  weight.data[((co * cinG + ci) * kh + ky) * kw + kx];
              }
            }
          }
          out[((b * cout + co) * oh + oy) * ow + ox] = s;
        }
      }
    }
  }
  return outTensor(g, out);
}

/** Padding modes of `F.pad` (and `Conv2d`'s `padding_mode`, where `"zeros"` is `"constant"`). */
export type PadMode = "constant" | "reflect" | "replicate" | "circular";

/**
 * Pad the last two dims of a 3-D/4-D tensor by `[left, right, top, bottom]` (PyTorch: `F.pad`).
 */
export function pad2d(x: Tensor, pad: [number, number, number, number], mode: PadMode = "constant", value = 0): Tensor {
  if (x.ndim !== 3 && x.ndim !== 4) throw new RuntimeError(`pad2d: expected 3D or 4D input, got ${formatShape(x.shape)}`);
  const [l, r, t, bt] = pad;
  const h = x.shape[x.ndim - 2];
  const w = x.shape[x.ndim - 1];
  const planes = x.numel() / (h * w);
  if (mode === "reflect" && (l >= w || r >= w || t >= h || bt >= h)) {
    throw new RuntimeError(
      `Argument #4: Padding size should be less than the corresponding input dimension, but got: ` +
        `padding (${l}, ${r}) at dimension ${x.ndim - 1} of input ${formatShape(x.shape)}`,
    );
  }
  if (mode === "circular" && (l > w || r > w || t > h || bt > h)) {
    throw new RuntimeError("Padding value causes wrapping around more than once.");
  }
  if (mode === "replicate" && (h === 0 || w === 0)) throw new RuntimeError("replicate padding of an empty input");
  const H = h + t + bt;
  const W = w + l + r;
  if (H <= 0 || W <= 0) throw new RuntimeError(`pad2d: padding gives an empty output from ${formatShape(x.shape)}`);
  const out = allocFloat32(planes * H * W);
  const src = x.data;
  const map = (i: number, n: number): number => {
    if (i >= 0 && i < n) return i;
    if (mode === "reflect") return i < 0 ? -i : 2 * (n - 1) - i;
    if (mode === "replicate") return i < 0 ? 0 : n - 1;
    if (mode === "circular") return ((i % n) + n) % n;
    return -1;
  };
  for (let p = 0; p < planes; p++) {
    for (let y = 0; y < H; y++) {
      const sy = map(y - t, h);
      for (let xx = 0; xx < W; xx++) {
        const sx = map(xx - l, w);
        out[(p * H + y) * W + xx] = sy < 0 || sx < 0 ? value : src[(p * h + sy) * w + sx];
      }
    }
  }
  const shape = [...x.shape];
  shape[x.ndim - 2] = H;
  shape[x.ndim - 1] = W;
  return new Tensor(out, shape);
}

/** Validate conv hyper-parameters shared by the module and the functional form. */
export function checkPositive(what: string, values: readonly number[]): void {
  if (values.some((v) => !Number.isInteger(v) || v <= 0)) {
    throw new ValueError(`${what} must be positive integers, got (${values.join(", ")})`);
  }
}
