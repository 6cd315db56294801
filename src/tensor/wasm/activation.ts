/**
 * Per-element activations in WebAssembly SIMD, computing exactly what the JS kernels of
 * `activation.ts` compute: the same double-precision operations in the same order, rounded to
 * float32 where they round. `exp` is fdlibm's `__ieee754_exp` (the algorithm behind V8's
 * `Math.exp`) and `erf` activation.ts's fdlibm port, both in f64x2 lanes, so the results are the
 * JS kernels' bits.
 */
import { Fn, I32, V128, rawSimd, type Expr, type Local } from "./emitter.js";

/** A raw SIMD instruction applied to the operands (the emitter lacks these). */
function simd(f: Fn, opcode: number, ...args: Expr[]): Expr {
  return rawSimd(f, opcode, args);
}

/** `v128.const` of `v` in both f64 lanes (one instruction, where a splat takes two). */
function dconst(f: Fn, v: number): Expr {
  const bytes = [...new Uint8Array(new Float64Array([v, v]).buffer)];
  return () => f.code.push(0xfd, 0x0c, ...bytes);
}

/** f64x2 and i64x2 operations used below. */
function ops(f: Fn) {
  return {
    dsub: (a: Expr, b: Expr) => simd(f, 0xf1, a, b),
    ddiv: (a: Expr, b: Expr) => simd(f, 0xf3, a, b),
    dabs: (a: Expr) => simd(f, 0xec, a),
    deq: (a: Expr, b: Expr) => simd(f, 0x47, a, b),
    dlt: (a: Expr, b: Expr) => simd(f, 0x49, a, b),
    /** `b < a ? b : a` (NaN in `a` kept). */
    dpmin: (a: Expr, b: Expr) => simd(f, 0xf6, a, b),
    /** `a < b ? b : a` (NaN in `a` kept). */
    dpmax: (a: Expr, b: Expr) => simd(f, 0xf7, a, b),
    /** i32x4.trunc_sat_f64x2_s_zero: C's `(int)` of both lanes (toward zero), lanes 2-3 zero. */
    truncI32: (a: Expr) => simd(f, 0xfc, a),
    /** f64x2.convert_low_i32x4_s. */
    fromI32: (a: Expr) => simd(f, 0xfe, a),
    /** i64x2.extend_low_i32x4_s. */
    widen: (a: Expr) => simd(f, 0xc7, a),
    i64shl: (a: Expr, n: Expr) => simd(f, 0xcb, a, n),
    i64add: (a: Expr, b: Expr) => simd(f, 0xce, a, b),
    i64splat: (a: Expr) => simd(f, 0x12, a),
  };
}

const LN2_HI = 6.93147180369123816490e-01;
const LN2_LO = 1.90821492927058770002e-10;
const INV_LN2 = 1.44269504088896338700e+00;
const P = [1.66666666666666019037e-01, -2.77777777770155933842e-03, 6.61375632143793436117e-05, -1.65339022054652515390e-06, 4.13813679705723846039e-08];

/**
 * `exp` of two f64 lanes, for arguments whose float32-rounded result is wanted: |x| is clamped to
 * [-110, 100] first (beyond, every float32 result is already 0 or +Inf), so fdlibm's overflow,
 * underflow and subnormal-scaling branches never apply. Its other branches are one formula here:
 * for |x| <= 1.5·ln2 the general reduction gives the same k, hi and lo, and for k = 0 the same
 * sum; |x| < 2⁻²⁸ returns 1 + x and x = 1 returns e, as fdlibm (and V8) do.
 */
export function expF64x2(f: Fn, x: Local, tmp: { k: Local; t: Local; hi: Local; lo: Local; r: Local; c: Local; y: Local }): Expr {
  const { get } = f;
  const o = ops(f);
  const d = (v: number): Expr => dconst(f, v);
  const { k, t, hi, lo, r, c, y } = tmp;
  f.set(y, o.dpmin(o.dpmax(get(x), d(-110)), d(100)));
  // k = (int)(x/ln2 ± 0.5), the half signed as x.
  f.set(k, o.truncI32(f.dadd(f.dmul(get(y), d(INV_LN2)), f.bitselect(d(-0.5), d(0.5), o.dlt(get(y), d(0))))));
  f.set(t, o.fromI32(get(k)));
  f.set(hi, o.dsub(get(y), f.dmul(get(t), d(LN2_HI))));
  f.set(lo, f.dmul(get(t), d(LN2_LO)));
  f.set(r, o.dsub(get(hi), get(lo)));
  f.set(t, f.dmul(get(r), get(r)));
  let poly = d(P[4]);
  for (let i = 3; i >= 0; i--) poly = f.dadd(d(P[i]), f.dmul(get(t), poly));
  f.set(c, o.dsub(get(r), f.dmul(get(t), poly)));
  // y = 1 - ((lo - (r·c)/(2 - c)) - hi), then · 2^k (k is within ±160: a plain exponent field).
  f.set(y, o.dsub(d(1), o.dsub(o.dsub(get(lo), o.ddiv(f.dmul(get(r), get(c)), o.dsub(d(2), get(c)))), get(hi))));
  f.set(y, f.dmul(get(y), o.i64shl(o.i64add(o.widen(get(k)), o.i64splat(i64const(f, 1023))), f.i32(52))));
  f.set(y, f.bitselect(f.dadd(d(1), get(x)), get(y), o.dlt(o.dabs(get(x)), d(2 ** -28))));
  f.set(y, f.bitselect(d(Math.E), get(y), o.deq(get(x), d(1))));
  // NaN in, NaN out (the clamp kept it, but the integer steps did not).
  f.set(y, f.bitselect(get(x), get(y), simd(f, 0x48, get(x), get(x))));
  return get(y);
}

/** `i64.const v`. */
function i64const(f: Fn, v: number): Expr {
  return () => {
    f.code.push(0x42);
    let x = v;
    for (;;) {
      const b = x & 0x7f;
      x >>= 7;
      if ((x === 0 && !(b & 0x40)) || (x === -1 && b & 0x40)) {
        f.code.push(b);
        return;
      }
      f.code.push(b | 0x80);
    }
  };
}

// fdlibm's erf coefficients (Sun Microsystems, 1993, freely redistributable), as activation.ts.
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

/** Registers `erfF64x2` needs. */
export interface ErfRegs {
  ax: Local; sign: Local; u: Local; m: Local; p: Local; q: Local; ratio: Local; e: Local; out: Local;
  exp: { k: Local; t: Local; hi: Local; lo: Local; r: Local; c: Local; y: Local };
}

/**
 * `erf` of two f64 lanes, bit for bit activation.ts's `erf`: each range's formula, chosen per
 * lane. Where two ranges share a formula's shape (|x| < 0.84375 and < 1.25; < 1/0.35 and < 6)
 * one Horner pass runs with each lane's coefficients, the shorter list zero-padded at the top
 * (0·u + 0 is 0, so the padded pass gives the unpadded one's bits).
 */
export function erfF64x2(f: Fn, x: Local, g: ErfRegs): Expr {
  const { get } = f;
  const o = ops(f);
  const d = (v: number): Expr => dconst(f, v);
  const pad = (c: number[], n: number): number[] => [...c, ...Array(n - c.length).fill(0)];
  /** Horner over `a` where the mask `m` is set, else over `b` (equal lengths), at `u`. */
  const horner = (a: number[], b: number[], u: Local): Expr => {
    let r: Expr = f.bitselect(d(a[a.length - 1]), d(b[b.length - 1]), get(g.m));
    for (let k = a.length - 2; k >= 0; k--) r = f.dadd(f.dmul(r, get(u)), f.bitselect(d(a[k]), d(b[k]), get(g.m)));
    return r;
  };
  f.set(g.ax, o.dabs(get(x)));
  f.set(g.sign, f.bitselect(d(-1), d(1), o.dlt(get(x), d(0))));
  // |x| < 1.25: u = x² (below 0.84375) or |x| - 1, ratio = P(u) / (1 + u·Q(u)).
  f.set(g.m, o.dlt(get(g.ax), d(0.84375)));
  f.set(g.u, f.bitselect(f.dmul(get(x), get(x)), o.dsub(get(g.ax), d(1)), get(g.m)));
  f.set(g.p, horner(pad(PP, 7), PA, g.u));
  f.set(g.q, horner(pad(QQ, 6), QA, g.u));
  f.set(g.ratio, o.ddiv(get(g.p), f.dadd(d(1), f.dmul(get(g.u), get(g.q)))));
  f.set(g.out, f.bitselect(
    f.dadd(get(x), f.dmul(get(x), get(g.ratio))),
    f.dmul(get(g.sign), f.dadd(d(ERX), get(g.ratio))),
    get(g.m),
  ));
  f.set(g.out, f.bitselect(f.dadd(get(x), f.dmul(d(EFX), get(x))), get(g.out), o.dlt(get(g.ax), d(2 ** -28))));
  // 1.25 <= |x| < 6: s = 1/x², e = exp(-x² - 0.5625 + R(s)/S(s)), sign·(1 - e/|x|); skipped
  // when neither lane needs it (most GELU inputs are small).
  f.if(simd(f, 0x53, simd(f, 0x4c, get(g.ax), d(1.25))), () => {
    f.set(g.u, o.ddiv(d(1), f.dmul(get(g.ax), get(g.ax))));
    f.set(g.m, o.dlt(get(g.ax), d(1 / 0.35)));
    f.set(g.p, horner(RA, pad(RB, 8), g.u));
    f.set(g.q, f.dadd(d(1), f.dmul(get(g.u), horner(SA, pad(SB, 8), g.u))));
    f.set(g.e, f.dadd(o.dsub(f.dmul(simd(f, 0xed, get(g.ax)), get(g.ax)), d(0.5625)), o.ddiv(get(g.p), get(g.q))));
    f.set(g.e, expF64x2(f, g.e, g.exp));
    f.set(g.out, f.bitselect(get(g.out), f.dmul(get(g.sign), o.dsub(d(1), o.ddiv(get(g.e), get(g.ax)))), o.dlt(get(g.ax), d(1.25))));
  });
  f.set(g.out, f.bitselect(f.dmul(get(g.sign), d(1 - 1e-300)), get(g.out), simd(f, 0x4c, get(g.ax), d(6))));
  f.set(g.out, f.bitselect(get(x), get(g.out), simd(f, 0x48, get(x), get(x))));
  return get(g.out);
}

/** The activations built here, by id (the `KIND` argument). */
export const ACTIVATIONS = ["silu", "sigmoid", "hardswish", "hardsigmoid", "gelu", "siluFast", "sigmoidFast", "hardswishFast", "hardsigmoidFast"] as const;

/**
 * act(KIND, SRC, DST, N, SPILL): `DST[i] = f(SRC[i])` for i < N (byte addresses; DST may be SRC),
 * f the activation `ACTIVATIONS[KIND]`, four floats at a time as two f64x2 halves; the last 1-3
 * values go through the 16 bytes at SPILL.
 *
 * `siluFast` and `sigmoidFast` are instead float32 throughout, as PyTorch's vectorized CPU
 * kernels: `x / (1 + exp(-x))` and `1 / (1 + exp(-x))` with `expF32x4` (its argument clamped to
 * [-87, 89]: below, 1 + e is 1 in float32; above, e overflows to +Inf as the exact exp does), so
 * silu(-Inf) is NaN, sigmoid(-Inf) = sigmoid(-100) = 0, silu(+Inf) = +Inf, NaN stays NaN. Within
 * 4 float32 ulps of the double-precision kinds; `fma` as `expF32x4`'s. `hardswishFast` and
 * `hardsigmoidFast` likewise: `x·clamp(x + 3, 0, 6) / 6` and `clamp(x + 3, 0, 6) / 6` in float32
 * (PyTorch's vectorized formulas), within 3 ulps of the double-precision kinds (hardswish of
 * x > FLT_MAX/6 is +Inf, as PyTorch's).
 */
export function activationKernel(fma = false): Fn {
  const f = new Fn("act", [I32, I32, I32, I32, I32]);
  const [KIND, SRC, DST, N, SPILL] = f.params;
  const { get, i32, add, sub, shl, lt, loadV128, loadF32 } = f;
  const o = ops(f);
  const [i, j, rest] = Array.from({ length: 3 }, () => f.local(I32));
  const [v, lo, hi, half, res] = Array.from({ length: 5 }, () => f.local(V128));
  const tmp = { k: f.local(V128), t: f.local(V128), hi: f.local(V128), lo: f.local(V128), r: f.local(V128), c: f.local(V128), y: f.local(V128) };
  const neg = f.local(V128);
  const [gx, gh] = [f.local(V128), f.local(V128)];
  const erfRegs: ErfRegs = {
    ax: f.local(V128), sign: f.local(V128), u: f.local(V128), m: f.local(V128), p: f.local(V128), q: f.local(V128),
    ratio: f.local(V128), e: f.local(V128), out: f.local(V128), exp: tmp,
  };
  const d = (x: number): Expr => dconst(f, x);
  /** The activation of the two f64 lanes in `half` (float32 values, exactly widened), as f64 before rounding. */
  const one = (kind: (typeof ACTIVATIONS)[number]): Expr => {
    switch (kind) {
      case "silu":
      case "sigmoid": {
        // e = fround(exp(-x)), then x / (1 + e) or 1 / (1 + e), in double.
        f.set(neg, simd(f, 0xed, get(half)));
        const e = f.promoteLow(f.demote(expF64x2(f, neg, tmp)));
        return o.ddiv(kind === "silu" ? get(half) : d(1), f.dadd(d(1), e));
      }
      case "gelu": {
        // h + h·erf(x/√2), h = x/2, in double.
        f.set(gx, f.dmul(get(half), d(Math.SQRT1_2)));
        f.set(gh, f.dmul(d(0.5), get(half)));
        return f.dadd(get(gh), f.dmul(get(gh), erfF64x2(f, gx, erfRegs)));
      }
      case "hardswish":
      case "hardsigmoid": {
        // r = clamp(x + 3, 0, 6) (NaN kept), then x·r / 6 or r / 6, in double.
        const r = o.dpmin(o.dpmax(f.dadd(get(half), d(3)), d(0)), d(6));
        return o.ddiv(kind === "hardswish" ? f.dmul(get(half), r) : r, d(6));
      }
      default:
        throw new Error(`act: ${kind} has no f64 formula`);
    }
  };
  /** `res` = the activation of the four lanes of `v`. */
  const four = (kind: (typeof ACTIVATIONS)[number]): void => {
    if (kind === "siluFast" || kind === "sigmoidFast") {
      // e = exp(clamp(-x, -87, 89)) (NaN kept), then x / (1 + e) or 1 / (1 + e), in float32.
      f.set(half, f.vpmax(simd(f, 0xea, simd(f, 0xe1, get(v)), f.splat(f.f32(89))), f.splat(f.f32(-87))));
      expF32x4(f, half, lo, hi, fma, true);
      f.set(res, simd(f, 0xe7, kind === "siluFast" ? get(v) : f.splat(f.f32(1)), f.vadd(f.splat(f.f32(1)), get(hi))));
      return;
    }
    if (kind === "hardswishFast" || kind === "hardsigmoidFast") {
      // r = clamp(x + 3, 0, 6) (NaN kept), then x·r / 6 or r / 6, in float32.
      f.set(half, simd(f, 0xea, f.vpmax(f.vadd(get(v), f.splat(f.f32(3))), f.splat(f.f32(0))), f.splat(f.f32(6))));
      f.set(res, simd(f, 0xe7, kind === "hardswishFast" ? f.vmul(get(v), get(half)) : get(half), f.splat(f.f32(6))));
      return;
    }
    f.set(half, f.promoteLow(get(v)));
    f.set(lo, f.demote(one(kind)));
    f.set(half, f.promoteLow(f.shuffle(get(v), get(v), [2, 3, 0, 1])));
    f.set(hi, f.demote(one(kind)));
    f.set(res, f.shuffle(get(lo), get(hi), [0, 1, 4, 5]));
  };
  const body = (kind: (typeof ACTIVATIONS)[number]): void => {
    f.for(i, i32(0), sub(get(N), i32(3)), 4, () => {
      f.set(v, loadV128(add(get(SRC), shl(get(i), i32(2)))));
      four(kind);
      f.storeV128(add(get(DST), shl(get(i), i32(2))), get(res));
    });
    f.set(rest, sub(get(N), get(i)));
    f.if(lt(i32(0), get(rest)), () => {
      // The last 1-3 values through the spill (zeros in the unused lanes).
      f.storeV128(get(SPILL), f.splat(f.f32(0)));
      f.for(j, i32(0), get(rest), 1, () => f.storeF32(add(get(SPILL), shl(get(j), i32(2))), loadF32(add(get(SRC), shl(add(get(i), get(j)), i32(2))))));
      f.set(v, loadV128(get(SPILL)));
      four(kind);
      f.storeV128(get(SPILL), get(res));
      f.for(j, i32(0), get(rest), 1, () => f.storeF32(add(get(DST), shl(add(get(i), get(j)), i32(2))), loadF32(add(get(SPILL), shl(get(j), i32(2))))));
    });
  };
  const dispatch = (kinds: readonly (typeof ACTIVATIONS)[number][], at: number): void => {
    if (kinds.length === 1) return body(kinds[0]);
    f.if(f.eq(get(KIND), i32(at)), () => body(kinds[0]), () => dispatch(kinds.slice(1), at + 1));
  };
  dispatch(ACTIVATIONS, 0);
  return f;
}

/**
 * `out = exp(v)` on four float32 lanes for v in [-87, 0] (or NaN), Cephes' `expf`: n = round(v·log₂e),
 * r = v - n·ln2 (in two parts), a degree-6 polynomial, times 2ⁿ built in the exponent bits
 * (about 1 ulp). Overwrites `v` (with r) and `n`. With `wide`, v may be anything in [-87, 89]
 * (or NaN): 2ⁿ is applied as 2ⁿ⁻¹ then 2, so n = 128 (v above ln(FLT_MAX)·(1 - 2⁻⁸)) still
 * gives a finite result up to FLT_MAX and +Inf beyond it; n = -126 gives 0.
 */
export function expF32x4(f: Fn, v: Local, n: Local, out: Local, fma: boolean, wide = false): void {
  const { get, vadd, vmul } = f;
  const c = (x: number): Expr => f.splat(f.f32(x));
  const madd = (a: Expr, b: Expr, cc: Expr): Expr => f.vmadd(a, b, cc, fma);
  f.set(n, simd(f, 0x6a, vmul(get(v), c(Math.LOG2E))));
  f.set(v, madd(get(n), c(2.12194440e-4), madd(get(n), c(-0.693359375), get(v))));
  let p: Expr = c(1.9875691500e-4);
  for (const k of [1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1]) p = madd(p, get(v), c(k));
  f.set(out, madd(vmul(p, get(v)), get(v), vadd(get(v), c(1))));
  // · 2ⁿ: (n + 127) << 23 as float bits (wide: (n + 126) << 23, then · 2).
  f.set(out, vmul(get(out), simd(f, 0xab, simd(f, 0xae, simd(f, 0xf8, get(n)), simd(f, 0x11, f.i32(wide ? 126 : 127))), f.i32(23))));
  if (wide) f.set(out, vadd(get(out), get(out)));
}

/**
 * geluFast(SRC, DST, N, SPILL): `DST[i] = gelu(SRC[i])` in float32, four lanes at a time, with
 * PyTorch's vectorized CPU formula: `h + h·erf(x/√2)`, h = x/2, erf by Abramowitz and Stegun
 * 7.1.26 (`1 - t·P(t)·exp(-z²)`, t = 1/(1 + 0.3275911|z|), as ATen's `Vectorized<float>::erf`)
 * and a Cephes-style float32 exp (about 1 ulp). Within PyTorch's own error (1.5e-7 absolute in
 * erf) rather than the double-precision kernel's bits; the last 1-3 values go through SPILL.
 */
export function geluFastKernel(fma: boolean): Fn {
  const f = new Fn("geluFast", [I32, I32, I32, I32]);
  const [SRC, DST, N, SPILL] = f.params;
  const { get, i32, add, sub, shl, lt, loadV128, loadF32, vadd, vmul } = f;
  const [i, j, rest] = Array.from({ length: 3 }, () => f.local(I32));
  const [x, z, az, t, r, e, nn, h, sign] = Array.from({ length: 9 }, () => f.local(V128));
  const c = (v: number): Expr => f.splat(f.f32(v));
  const madd = (a: Expr, b: Expr, cc: Expr): Expr => f.vmadd(a, b, cc, fma);
  const raw = (opcode: number, ...args: Expr[]): Expr => simd(f, opcode, ...args);
  const fdiv = (a: Expr, b: Expr) => raw(0xe7, a, b);
  const vxor = (a: Expr, b: Expr) => raw(0x51, a, b);
  const four = (): void => {
    f.set(h, vmul(get(x), c(0.5)));
    f.set(z, vmul(get(x), c(Math.SQRT1_2)));
    f.set(sign, f.vand(get(z), c(-0)));
    f.set(az, vxor(get(z), get(sign)));
    // t = 1 / (p|z| + 1); r = P(t).
    f.set(t, fdiv(c(1), madd(c(0.3275911), get(az), c(1))));
    f.set(r, madd(madd(madd(madd(c(1.061405429), get(t), c(-1.453152027)), get(t), c(1.421413741)), get(t), c(-0.284496736)), get(t), c(0.254829592)));
    // e = exp(-z²) for -z² clamped at -87 (below, erf is ±1 in float32 either way).
    f.set(e, f.vpmax(raw(0xe1, vmul(get(z), get(z))), c(-87)));
    f.set(r, vmul(get(r), get(t)));
    expF32x4(f, e, nn, t, fma);
    // erf = sign·(1 - r·t·e), then h + h·erf.
    f.set(e, vxor(madd(raw(0xe1, get(r)), get(t), c(1)), get(sign)));
    f.set(x, madd(get(h), get(e), get(h)));
  };
  f.for(i, i32(0), sub(get(N), i32(3)), 4, () => {
    f.set(x, loadV128(add(get(SRC), shl(get(i), i32(2)))));
    four();
    f.storeV128(add(get(DST), shl(get(i), i32(2))), get(x));
  });
  f.set(rest, sub(get(N), get(i)));
  f.if(lt(i32(0), get(rest)), () => {
    f.storeV128(get(SPILL), f.splat(f.f32(0)));
    f.for(j, i32(0), get(rest), 1, () => f.storeF32(add(get(SPILL), shl(get(j), i32(2))), loadF32(add(get(SRC), shl(add(get(i), get(j)), i32(2))))));
    f.set(x, loadV128(get(SPILL)));
    four();
    f.storeV128(get(SPILL), get(x));
    f.for(j, i32(0), get(rest), 1, () => f.storeF32(add(get(DST), shl(add(get(i), get(j)), i32(2))), loadF32(add(get(SPILL), shl(get(j), i32(2))))));
  });
  return f;
}
