/**
 * Per-element activation kernels over flat float32 buffers (PyTorch: the CPU kernels behind
 * `F.relu6`, `F.silu`, `F.gelu`, ...). Each is a plain function `(src, dst, n, ...params)` that
 * writes `dst[i] = f(src[i])` for `i < n`; `dst` may be `src` (in place). They carry no tensor or
 * module knowledge, so a fusion planner can run them on a convolution's output buffer.
 *
 * Formulas are PyTorch's; the arithmetic is done in double and rounded once to float32, which
 * is within an ulp or two of PyTorch's float32 vector code. SiLU, sigmoid, hardswish,
 * hardsigmoid and (erf) GELU run in WebAssembly SIMD where available (`simdActivation.ts`), in
 * float32 with PyTorch's own vectorized formulas (a float32 exp), within PyTorch's own error of
 * these loops, which stay as the oracle and the JS backend's kernels.
 */
import { simdActivation, simdGeluFast } from "./simdActivation.js";

/** `max(x, 0)`, NaN and -0.0 kept (PyTorch: `relu`). */
export function reluKernel(src: Float32Array, dst: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = src[i];
    dst[i] = v < 0 ? 0 : v;
  }
}

/** `min(max(x, 0), 6)`, NaN kept (PyTorch: `relu6` = `hardtanh(x, 0, 6)`). */
export function relu6Kernel(src: Float32Array, dst: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = src[i];
    dst[i] = v < 0 ? 0 : v > 6 ? 6 : v;
  }
}

/** `x > 0 ? x : x * negativeSlope` (PyTorch: `leaky_relu`). */
export function leakyReluKernel(src: Float32Array, dst: Float32Array, n: number, negativeSlope: number): void {
  const s = Math.fround(negativeSlope);
  for (let i = 0; i < n; i++) {
    const v = src[i];
    dst[i] = v > 0 ? v : v * s;
  }
}

/**
 * `x > 0 ? x : alpha * (exp(x) - 1)` (PyTorch: `elu` with scale 1, input_scale 1). `exp` is
 * rounded to float32 before subtracting 1, as PyTorch's float kernel does (so `elu(-1e-8)` is 0).
 */
export function eluKernel(src: Float32Array, dst: Float32Array, n: number, alpha: number): void {
  const a = Math.fround(alpha);
  for (let i = 0; i < n; i++) {
    const v = src[i];
    dst[i] = v > 0 ? v : a * (Math.fround(Math.exp(v)) - 1);
  }
}

/**
 * `1 / (1 + exp(-x))` with `exp` in float32 (so it saturates to exactly 0 below -88) (PyTorch:
 * `sigmoid`); on the WASM backend in float32 throughout (`sigmoidFast`), for any n.
 */
export function sigmoidKernel(src: Float32Array, dst: Float32Array, n: number): void {
  if (simdActivation("sigmoidFast", src, dst, n)) return;
  for (let i = 0; i < n; i++) dst[i] = 1 / (1 + Math.fround(Math.exp(-src[i])));
}

/** `tanh(x)` (PyTorch: `tanh`). */
export function tanhKernel(src: Float32Array, dst: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) dst[i] = Math.tanh(src[i]);
}

/**
 * `x / (1 + exp(-x))` with `exp` in float32 (PyTorch: `silu`, a.k.a. swish); on the WASM backend
 * in float32 throughout (`siluFast`), for any n.
 */
export function siluKernel(src: Float32Array, dst: Float32Array, n: number): void {
  if (simdActivation("siluFast", src, dst, n)) return;
  for (let i = 0; i < n; i++) {
    const v = src[i];
    dst[i] = v / (1 + Math.fround(Math.exp(-v)));
  }
}

/** `x * min(max(x + 3, 0), 6) / 6` (PyTorch: `hardswish`); on the WASM backend in float32 (`hardswishFast`), for any n. */
export function hardswishKernel(src: Float32Array, dst: Float32Array, n: number): void {
  if (simdActivation("hardswishFast", src, dst, n)) return;
  for (let i = 0; i < n; i++) {
    const v = src[i];
    const r = v + 3;
    dst[i] = (v * (r < 0 ? 0 : r > 6 ? 6 : r)) / 6;
  }
}

/** `min(max(x + 3, 0), 6) / 6` (PyTorch: `hardsigmoid`); on the WASM backend in float32 (`hardsigmoidFast`), for any n. */
export function hardsigmoidKernel(src: Float32Array, dst: Float32Array, n: number): void {
  if (simdActivation("hardsigmoidFast", src, dst, n)) return;
  for (let i = 0; i < n; i++) {
    const r = src[i] + 3;
    dst[i] = (r < 0 ? 0 : r > 6 ? 6 : r) / 6;
  }
}

const SQRT1_2 = Math.SQRT1_2;
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/**
 * GELU (PyTorch: `gelu`): `"none"` is `x/2 + x/2 * erf(x/√2)` (summed in that order, as
 * PyTorch's fused vector code does, so that `gelu(-0)` and `gelu(-40)` are +0), `"tanh"` is
 * `x/2 * (1 + tanh(√(2/π) * (x + 0.044715 x³)))`.
 */
export function geluKernel(src: Float32Array, dst: Float32Array, n: number, approximate: "none" | "tanh" = "none"): void {
  if (approximate === "tanh") {
    for (let i = 0; i < n; i++) {
      const v = src[i];
      dst[i] = 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)));
    }
  } else {
    // On the WASM backend: float32 with PyTorch's own vectorized formula (`geluFast`), within
    // its error rather than this loop's double-precision bits.
    if (simdGeluFast(src, dst, n)) return;
    for (let i = 0; i < n; i++) {
      const v = src[i];
      const h = 0.5 * v;
      dst[i] = h + h * erf(v * SQRT1_2);
    }
  }
}

// erf in double precision: the classic fdlibm rational approximations (Sun Microsystems, 1993,
// freely redistributable), rewritten for JS. Error below one double ulp.
const ERX = 8.45062911510467529297e-01;
const EFX = 1.28379167095512586316e-01;
const PP = [1.28379167095512558561e-01, -3.25042107247001499370e-01, -2.84817495755985104766e-02, -5.77027029648944159157e-03, -2.37630166566501626084e-05];
const QQ = [3.97917223959155352819e-01, 6.50222499887672944485e-02, 5.08130628187576562776e-03, 1.32494738004321644526e-04, -3.96022827877536812320e-06];
const PA = [-2.36211856075265944077e-03, 4.14856118683748331666e-01, -3.72207876035701323847e-01, 3.18346619901161753674e-01, -1.10894694282396677476e-01, 3.54783043256182359371e-02, -2.16637559486879084300e-03];
const QA = [1.06420880400844228286e-01, 5.40397917702171048937e-01, 7.18286544141962662868e-02, 1.26171219808761642112e-01, 1.36370839120290507362e-02, 1.19844998467991074170e-02];
const RA = [-9.86494403484714822705e-03, -6.93858572707181764372e-01, -1.05586262253232909814e01, -6.23753324503260060396e01, -1.62396669462573470355e02, -1.84605092906711035994e02, -8.12874355063065934246e01, -9.81432934416914548592e00];
const SA = [1.96512716674392571292e01, 1.37657754143519042600e02, 4.34565877475229228821e02, 6.45387271733267880336e02, 4.29008140027567833386e02, 1.08635005541779435134e02, 6.57024977031928170135e00, -6.04244152148580987438e-02];
const RB = [-9.86494292470009928597e-03, -7.99283237680523006574e-01, -1.77579549177547519889e01, -1.60636384855821916062e02, -6.37566443368389627722e02, -1.02509513161107724954e03, -4.83519191608651397019e02];
const SB = [3.03380607434824582924e01, 3.25792512996573918826e02, 1.53672958608443695994e03, 3.19985821950859553908e03, 2.55305040643316442583e03, 4.74528541206955367215e02, -2.24409524465858183362e01];

function poly(c: readonly number[], z: number): number {
  let r = 0;
  for (let k = c.length - 1; k >= 0; k--) r = r * z + c[k];
  return r;
}

/** The error function in double precision (C's `erf`). */
export function erf(x: number): number {
  if (x !== x) return x;
  const ax = Math.abs(x);
  const sign = x < 0 ? -1 : 1;
  if (ax < 0.84375) {
    if (ax < 2 ** -28) return x + EFX * x;
    const z = x * x;
    return x + x * (poly(PP, z) / (1 + z * poly(QQ, z)));
  }
  if (ax < 1.25) {
    const s = ax - 1;
    return sign * (ERX + poly(PA, s) / (1 + s * poly(QA, s)));
  }
  if (ax >= 6) return sign * (1 - 1e-300);
  const s = 1 / (ax * ax);
  const r = ax < 1 / 0.35 ? poly(RA, s) : poly(RB, s);
  const q = ax < 1 / 0.35 ? 1 + s * poly(SA, s) : 1 + s * poly(SB, s);
  // fdlibm splits exp(-x² - 0.5625 + r/q) in two to keep x² exact; one exp is accurate to a few
  // double ulps here (|x| < 6), far below float32's resolution, and twice as fast.
  const e = Math.exp(-ax * ax - 0.5625 + r / q);
  return sign * (1 - e / ax);
}

/** `min(max(x, minVal), maxVal)`, NaN kept (PyTorch: `hardtanh`). */
export function hardtanhKernel(src: Float32Array, dst: Float32Array, n: number, minVal: number, maxVal: number): void {
  const lo = Math.fround(minVal);
  const hi = Math.fround(maxVal);
  for (let i = 0; i < n; i++) {
    const v = src[i];
    dst[i] = v < lo ? lo : v > hi ? hi : v;
  }
}

/** `x <= threshold ? value : x` (PyTorch: `threshold`). */
export function thresholdKernel(src: Float32Array, dst: Float32Array, n: number, threshold: number, value: number): void {
  const t = Math.fround(threshold);
  const r = Math.fround(value);
  for (let i = 0; i < n; i++) {
    const v = src[i];
    dst[i] = v <= t ? r : v;
  }
}

/** `x * tanh(log(1 + exp(x)))` (PyTorch: `mish`). */
export function mishKernel(src: Float32Array, dst: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = src[i];
    dst[i] = v * Math.tanh(Math.log1p(Math.exp(v)));
  }
}

/** `x*beta > threshold ? x : log(1 + exp(beta x)) / beta` (PyTorch: `softplus`). */
export function softplusKernel(src: Float32Array, dst: Float32Array, n: number, beta: number, threshold: number): void {
  const b = Math.fround(beta);
  for (let i = 0; i < n; i++) {
    const v = src[i];
    const xb = Math.fround(v * b);
    dst[i] = xb > threshold ? v : Math.log1p(Math.exp(xb)) / b;
  }
}

const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;

/**
 * The ELU family as ATen's kernel computes it in float32:
 * `x <= 0 ? (exp(x * inputScale) - 1) * alpha * scale : x * scale`.
 */
function eluFamily(src: Float32Array, dst: Float32Array, n: number, alpha: number, scale: number, inputScale: number): void {
  const neg = Math.fround(Math.fround(alpha) * Math.fround(scale));
  const pos = Math.fround(scale);
  const ins = Math.fround(inputScale);
  for (let i = 0; i < n; i++) {
    const v = src[i];
    dst[i] = v <= 0 ? (Math.fround(Math.exp(Math.fround(v * ins))) - 1) * neg : v * pos;
  }
}

/** `scale * (x > 0 ? x : alpha (exp(x) - 1))` with SELU's fixed constants (PyTorch: `selu`). */
export function seluKernel(src: Float32Array, dst: Float32Array, n: number): void {
  eluFamily(src, dst, n, SELU_ALPHA, SELU_SCALE, 1);
}

/** `x > 0 ? x : alpha (exp(x / alpha) - 1)` (PyTorch: `celu`). */
export function celuKernel(src: Float32Array, dst: Float32Array, n: number, alpha: number): void {
  eluFamily(src, dst, n, alpha, 1, 1 / alpha);
}

/** `log(sigmoid(x)) = min(x, 0) - log(1 + exp(-|x|))` (PyTorch: `logsigmoid`). */
export function logSigmoidKernel(src: Float32Array, dst: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = src[i];
    dst[i] = Math.min(v, 0) - Math.log1p(Math.exp(-Math.abs(v)));
  }
}

/** `x / (1 + |x|)` (PyTorch: `softsign`). */
export function softsignKernel(src: Float32Array, dst: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = src[i];
    dst[i] = v / (Math.abs(v) + 1);
  }
}

/** `x - tanh(x)` with `tanh` rounded to float32 first (PyTorch: `tanhshrink`). */
export function tanhshrinkKernel(src: Float32Array, dst: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = src[i];
    dst[i] = v - Math.fround(Math.tanh(v));
  }
}

/** `|x| <= lambd ? 0 : x` (PyTorch: `hardshrink`). */
export function hardshrinkKernel(src: Float32Array, dst: Float32Array, n: number, lambd: number): void {
  const l = Math.fround(lambd);
  for (let i = 0; i < n; i++) {
    const v = src[i];
    dst[i] = v >= -l && v <= l ? 0 : v;
  }
}

/** `x > lambd ? x - lambd : x < -lambd ? x + lambd : 0` (PyTorch: `softshrink`). */
export function softshrinkKernel(src: Float32Array, dst: Float32Array, n: number, lambd: number): void {
  const l = Math.fround(lambd);
  for (let i = 0; i < n; i++) {
    const v = src[i];
    dst[i] = v > l ? v - l : v < -l ? v + l : 0;
  }
}
