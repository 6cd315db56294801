/**
 * Winograd F(2x2, 3x3) convolution for 3x3, stride-1, undilated, ungrouped convolutions on the
 * WebAssembly backend: 16 multiplications per 2x2 output tile and channel pair instead of 36,
 * so 2.25x less GEMM work. The filter transform `U = G g Gᵀ` is computed once per weight (in
 * double, rounded to float32) and cached until the weight's storage version changes; the input
 * and output transforms and the 16 GEMMs run in WASM over the thread pool (`wasm/winograd.ts`).
 *
 * Accuracy: the transforms add and subtract at most four terms (and halve), so results stay
 * within a few float32 ulps of the direct sum; tested against `conv2dReference`.
 *
 * Non-finite values: the transforms subtract, so one infinite input would meet its own negative
 * (Inf - Inf = NaN) and values near float32's limit would overflow in the sums, where a direct
 * convolution gives ±Inf or a finite result. `winogradSafe` scans each call's input (in WASM,
 * cheap next to the convolution) and each weight once per version, and sends anything that is
 * not finite or large enough to overflow to the im2col + GEMM path.
 */
import { TypeError_ } from "../errors.js";
import { stageEpilogue, type RowEpilogue } from "./gemm.js";
import { ensureMemory, packedSize, PANEL, splitRange, type WasmGemm } from "./wasm/gemm.js";
import { residentEnd, residentWeight } from "./wasm/resident.js";
import { wasmAddress } from "./arena.js";
import { getNumThreads, runParallel } from "./wasm/threads.js";
import { namedJob } from "./wasm/registry.js";
import { MAX_ABS_BLOCK, winoPlane } from "./wasm/winograd.js";
import { storageVersion } from "./tensor.js";

let enabled = process.env.TSNN_WINOGRAD !== "0";

/** Turn the Winograd path on or off (on by default; `TSNN_WINOGRAD=0` starts with it off). */
export function setWinograd(on: boolean): void {
  if (typeof on !== "boolean") throw new TypeError_(`setWinograd expects a boolean, got ${typeof on}`);
  enabled = on;
}

/** Whether 3x3 stride-1 convolutions use Winograd F(2x2, 3x3). */
export function getWinograd(): boolean {
  return enabled;
}

/** Fewer channels than this on either side: im2col + GEMM is as fast (the transforms dominate). */
const MIN_CHANNELS = 16;

/** Whether a convolution with this geometry takes the Winograd path. */
export function winogradApplies(
  cin: number, cout: number, kh: number, kw: number, sh: number, sw: number, dh: number, dw: number, groups: number,
): boolean {
  return enabled && kh === 3 && kw === 3 && sh === 1 && sw === 1 && dh === 1 && dw === 1 && groups === 1 &&
    cin >= MIN_CHANNELS && cout >= MIN_CHANNELS;
}

/**
 * `u[0..16) = G g Gᵀ` (row-major 4x4) for the 3x3 filter `w[g..g+9)`, in double:
 * G g has rows g₀, (g₀+g₁+g₂)/2, (g₀-g₁+g₂)/2, g₂ (gᵢ the filter's rows), and each row
 * [a b d] of it becomes [a, (a+b+d)/2, (a-b+d)/2, d].
 */
function transformFilter(w: Float32Array, g: number, u: Float64Array): void {
  for (let c = 0; c < 3; c++) {
    const a = w[g + c], b = w[g + 3 + c], d = w[g + 6 + c];
    gg[c] = a;
    gg[3 + c] = (a + b + d) / 2;
    gg[6 + c] = (a - b + d) / 2;
    gg[9 + c] = d;
  }
  for (let r = 0; r < 4; r++) {
    const a = gg[3 * r], b = gg[3 * r + 1], d = gg[3 * r + 2];
    u[4 * r] = a;
    u[4 * r + 1] = (a + b + d) / 2;
    u[4 * r + 2] = (a - b + d) / 2;
    u[4 * r + 3] = d;
  }
}

const gg = new Float64Array(12);
const u16 = new Float64Array(16);

/**
 * The transformed filters `U[ξ][co][ci] = (G g Gᵀ)[ξ]` for a `[cout, cin, 3, 3]` weight, as 16
 * row-major `[cout, cin]` matrices, G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1] (written `into` if given).
 */
export function winogradFilter(weight: Float32Array, cout: number, cin: number, into: Float32Array | null = null): Float32Array {
  const U = into ?? new Float32Array(16 * cout * cin);
  const plane = cout * cin;
  for (let at = 0; at < plane; at++) {
    transformFilter(weight, at * 9, u16);
    for (let xi = 0; xi < 16; xi++) U[xi * plane + at] = u16[xi];
  }
  return U;
}

/**
 * The transform of a `[cout, cin, 3, 3]` weight into the GEMM's packed-A layout at byte `uAt` of
 * the kernels' memory, by the WASM kernel over the threads (the same bits as
 * `packWinogradFilter`); the weight is staged above the resident regions.
 */
function transformFilterWasm(w: WasmGemm, weight: Float32Array, cout: number, cin: number, uAt: number): void {
  const xiFloats = packedSize(cout, cin);
  const wAt = residentEnd();
  ensureMemory(w, wAt + weight.length * 4);
  new Float32Array(w.memory.buffer).set(weight, wAt / 4);
  let co0 = 0;
  const threads = cout * cin >= 1 << 14 ? getNumThreads() : 1;
  runParallel(w, splitRange(xiFloats / cin, threads, 4).map((rows) => {
    const job = namedJob("winoFilter", { weight: wAt, cout, cin, u: uAt, xiFloats, co0, co1: co0 + rows });
    co0 += rows;
    return job;
  }), "winoFilter");
}

/** Test hook: the WASM filter transform's packed output, as a copy. @internal */
export function _winogradFilterPackedWasm(w: WasmGemm, weight: Float32Array, cout: number, cin: number): Float32Array {
  const floats = 16 * packedSize(cout, cin);
  // Above the weight, which `transformFilterWasm` stages at `residentEnd()`.
  const at = residentEnd() + Math.ceil((weight.length * 4) / 64) * 64 + 64;
  ensureMemory(w, at + floats * 4);
  transformFilterWasm(w, weight, cout, cin, at);
  return new Float32Array(w.memory.buffer).slice(at / 4, at / 4 + floats);
}

/**
 * `winogradFilter` written straight into the GEMM's packed-A layout (`packA`): the 16 matrices
 * `[cout, cin]` at `dst[at + ξ·xiFloats..]`, rows past `cout` zero. One pass, no temporaries;
 * the oracle of the WASM kernel that does this in the forward.
 */
export function packWinogradFilter(weight: Float32Array, cout: number, cin: number, dst: Float32Array, at: number, xiFloats: number): void {
  const Mp = Math.ceil(cout / 4) * 4;
  for (let co = 0; co < Mp; co++) {
    for (let pc = 0; pc < cin; pc += 256) {
      const kc = Math.min(256, cin - pc);
      const rowBase = at + pc * Mp + (co >> 2) * 4 * kc + (co & 3);
      for (let k = 0; k < kc; k++) {
        const o = rowBase + k * 4;
        if (co < cout) transformFilter(weight, (co * cin + pc + k) * 9, u16);
        for (let xi = 0; xi < 16; xi++) dst[o + xi * xiFloats] = co < cout ? u16[xi] : 0;
      }
    }
  }
}

/** The largest finite float32. */
const FLT_MAX = 3.4028234663852886e38;

/** `max |a[from..to)|`, or NaN if one is NaN. */
function maxAbsJs(a: Float32Array, from: number, to: number): number {
  let m = 0;
  for (let i = from; i < to; i++) {
    // Math.abs, not a sign test: random signs would mispredict a branch every other element.
    const abs = Math.abs(a[i]);
    if (!(abs <= m)) {
      if (abs !== abs) return NaN;
      m = abs;
    }
  }
  return m;
}

/** Lane-wise maxima from the WASM kernel reduced to one number (NaN wins). */
function reduceLanes(lanes: Float32Array, m: number): number {
  for (const v of lanes) {
    if (v !== v) return NaN;
    if (v > m) m = v;
  }
  return m;
}

/** `max |x|` of `x` (NaN if one is NaN): in WASM, over the threads, if `x` lives in the kernels' memory. */
function inputMaxAbs(w: WasmGemm, x: Float32Array): number {
  const at = wasmAddress(x);
  if (at < 0) return maxAbsJs(x, 0, x.length);
  const n = x.length;
  const body = n - (n % MAX_ABS_BLOCK);
  // About 20 us per 200K floats on one thread: only very large inputs are worth waking workers.
  const threads = body >= 1 << 21 ? getNumThreads() : 1;
  const out = Math.ceil(residentEnd() / 64) * 64;
  ensureMemory(w, out + 16 * threads);
  let done = 0;
  const parts = splitRange(body, threads, MAX_ABS_BLOCK);
  runParallel(w, parts.map((cnt, t) => {
    const job = namedJob("maxAbs", { x: at + done * 4, n: cnt, out: out + 16 * t });
    done += cnt;
    return job;
  }), "maxAbs");
  const mem = new Float32Array(w.memory.buffer);
  let m = maxAbsJs(mem, at / 4 + body, at / 4 + n);
  for (let t = 0; t < parts.length && m === m; t++) m = reduceLanes(mem.subarray(out / 4 + 4 * t, out / 4 + 4 * t + 4), m);
  return m;
}

const weightMax = new WeakMap<Float32Array, { version: number; max: number }>();

/** `max |weight|`, computed once per storage version of the weight. */
function weightMaxAbs(weight: Float32Array): number {
  const version = storageVersion(weight);
  const hit = weightMax.get(weight);
  if (hit && hit.version === version) return hit.max;
  const max = maxAbsJs(weight, 0, weight.length);
  weightMax.set(weight, { version, max });
  return max;
}

/**
 * Whether Winograd gives what a direct sum gives for this input and weight: everything finite
 * and no transform able to overflow. The transformed input is at most 4·max|x|, the transformed
 * filter 2.25·max|w|, each GEMM sum `cin` products of those, and an output tile at most 9 sums:
 * below float32's limit when 81·cin·max|x|·max|w| is. Otherwise (rare: inputs or weights near
 * 1e18 and beyond, or any ±Inf/NaN) the caller uses im2col + GEMM, whose sums are the direct ones.
 */
export function winogradSafe(w: WasmGemm, x: Float32Array, weight: Float32Array, cin: number): boolean {
  const mw = weightMaxAbs(weight);
  if (!(mw <= FLT_MAX / 2.25)) return false;
  const mx = inputMaxAbs(w, x);
  return mx <= FLT_MAX / 4 && 81 * cin * mx * mw < FLT_MAX;
}

/** Below this many multiply-adds one thread does it all. */
const PARALLEL_MIN_WORK = 1 << 21;
const KC = 256;
const MC = 64;

/**
 * `out[n, cout, oh, ow]` = the 3x3 stride-1 convolution of `x[n, cin, h, w]` (padding `padTop`,
 * `padLeft` before; the output size says how much after) with `weight` `[cout, cin, 3, 3]`,
 * whose transform is kept resident and pre-packed until the weight changes. `chunkFloats` bounds
 * the transformed-tile buffers per batch chunk; `epilogue` runs per output channel.
 */
export function winogradConv(
  w: WasmGemm, x: Float32Array, n: number, cin: number, h: number, wd: number, padTop: number, padLeft: number,
  weight: Float32Array, cout: number, oh: number, ow: number, out: Float32Array, chunkFloats: number,
  epilogue: RowEpilogue | null = null,
): void {
  const xiFloats = packedSize(cout, cin);
  const Mp = xiFloats / cin;
  const uAt = residentWeight(w, weight, "winograd", 16 * xiFloats, (_dst, at) => transformFilterWasm(w, weight, cout, cin, at * 4));
  const th = Math.ceil(oh / 2);
  const tw = Math.ceil(ow / 2);
  const tilesPerImage = th * tw;
  const chunk = Math.max(1, Math.min(n, Math.floor(chunkFloats / (16 * Math.max(cin, cout) * tilesPerImage))));
  const { hp, wp } = winoPlane(th, tw);
  const align = (v: number): number => Math.ceil(v / 64) * 64;
  for (let b0 = 0; b0 < n; b0 += chunk) {
    const nb = Math.min(chunk, n - b0);
    const T = nb * tilesPerImage;
    const LD = Math.ceil((T + 3) / 4) * 4;
    const work = 16 * cout * cin * T;
    const threads = work >= PARALLEL_MIN_WORK ? getNumThreads() : 1;
    const kc = Math.min(KC, cin);
    // Layout: staged input, V (16 x cin x LD), M (16 x cout x LD), output, per-thread scratch.
    // Input and output that are arena buffers are used where they are, without staging.
    const xIn = wasmAddress(x);
    const oIn = wasmAddress(out);
    const xFloats = nb * cin * h * wd;
    const oFloats = nb * cout * oh * ow;
    const xAt = xIn >= 0 ? xIn + b0 * cin * h * wd * 4 : align(residentEnd());
    const vAt = align(xIn >= 0 ? residentEnd() : xAt + xFloats * 4);
    const mAt = align(vAt + 16 * cin * LD * 4);
    const oStage = align(mAt + 16 * cout * LD * 4);
    const oAt = oIn >= 0 ? oIn + b0 * cout * oh * ow * 4 : oStage;
    const eAt = align(oIn >= 0 ? oStage : oStage + oFloats * 4);
    let p = align(eAt + (epilogue ? 16 * cout : 0));
    const scratch = Array.from({ length: threads }, () => {
      const plane = p;
      const spill = align(plane + hp * wp * 4);
      const pa = align(spill + 256);
      const pb = align(pa + MC * kc * 4);
      p = align(pb + Math.ceil(T / PANEL.NR) * PANEL.NR * kc * 4);
      return { plane, spill, pa, pb };
    });
    ensureMemory(w, p);
    const mem = new Float32Array(w.memory.buffer);
    if (epilogue) stageEpilogue(w, eAt, epilogue, cout);
    const residual = epilogue?.residual ?? null;
    if (residual) mem.set(residual.subarray(b0 * cout * oh * ow, (b0 + nb) * cout * oh * ow), oAt / 4);
    const epi = epilogue ? { scale: eAt, shift: eAt + cout * 8, relu: epilogue.relu ? 1 : 0, add: residual ? 1 : 0 } : { scale: 0, shift: 0, relu: 0, add: 0 };
    if (xIn < 0) mem.set(x.subarray(b0 * cin * h * wd, (b0 + nb) * cin * h * wd), xAt / 4);

    let c0 = 0;
    runParallel(w, splitRange(cin, threads, 1).map((cnt, t) => {
      const job = namedJob("winoIn", { x: xAt, nb, c: cin, h, w: wd, padTop, padLeft, th, tw, v: vAt, ld: LD, c0, c1: c0 + cnt, scratch: scratch[t].plane });
      c0 += cnt;
      return job;
    }), "winoIn");

    let xi0 = 0;
    runParallel(w, splitRange(16, threads, 1).map((cnt, t) => {
      const { pa, pb, spill } = scratch[t];
      const job = namedJob("winoGemm", {
        count: cnt, M: cout, N: T, K: cin,
        a: uAt + xi0 * xiFloats * 4, aStride: xiFloats * 4, lda: Mp,
        b: vAt + xi0 * cin * LD * 4, bStride: cin * LD * 4, ldb: LD,
        c: mAt + xi0 * cout * LD * 4, cStride: cout * LD * 4, ldc: LD,
        pa, pb, spill, packed: 1,
      });
      xi0 += cnt;
      return job;
    }), "winoGemm");

    c0 = 0;
    runParallel(w, splitRange(cout, threads, 1).map((cnt, t) => {
      const job = namedJob("winoOut", { m: mAt, ld: LD, nb, co: cout, th, tw, oh, ow, out: oAt, c0, c1: c0 + cnt, scratch: scratch[t].spill, ...epi });
      c0 += cnt;
      return job;
    }), "winoOut");
    if (oIn < 0) out.set(mem.subarray(oAt / 4, oAt / 4 + oFloats), b0 * cout * oh * ow);
  }
}
