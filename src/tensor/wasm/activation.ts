/**
 * Per-element activations in WebAssembly SIMD, computing exactly what the JS kernels of
 * `activation.ts` compute: the same double-precision operations in the same order, rounded to
 * float32 where they round. `exp` is fdlibm's `__ieee754_exp` (the algorithm behind V8's
 * `Math.exp`) in f64x2 lanes, so `fround(exp(x))` is the JS kernels' value bit for bit.
 */
import { Fn, I32, V128, type Expr, type Local } from "./emitter.js";

/** Raw SIMD instruction `0xfd opcode` applied to the operands (the emitter lacks these). */
function simd(f: Fn, opcode: number, ...args: Expr[]): Expr {
  return () => {
    args.forEach((a) => a());
    f.code.push(0xfd);
    let v = opcode;
    do {
      let b = v & 0x7f;
      v >>>= 7;
      if (v) b |= 0x80;
      f.code.push(b);
    } while (v);
  };
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
  const d = (v: number): Expr => f.dsplat(f.f64(v));
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

/** The activations built here, by id (the `KIND` argument). */
export const ACTIVATIONS = ["silu", "sigmoid", "hardswish", "hardsigmoid"] as const;

/**
 * act(KIND, SRC, DST, N, SPILL): `DST[i] = f(SRC[i])` for i < N (byte addresses; DST may be SRC),
 * f the activation `ACTIVATIONS[KIND]`, four floats at a time as two f64x2 halves; the last 1-3
 * values go through the 16 bytes at SPILL.
 */
export function activationKernel(): Fn {
  const f = new Fn("act", [I32, I32, I32, I32, I32]);
  const [KIND, SRC, DST, N, SPILL] = f.params;
  const { get, i32, add, sub, shl, lt, loadV128, loadF32 } = f;
  const o = ops(f);
  const [i, j, rest] = Array.from({ length: 3 }, () => f.local(I32));
  const [v, lo, hi, half, res] = Array.from({ length: 5 }, () => f.local(V128));
  const tmp = { k: f.local(V128), t: f.local(V128), hi: f.local(V128), lo: f.local(V128), r: f.local(V128), c: f.local(V128), y: f.local(V128) };
  const neg = f.local(V128);
  const d = (x: number): Expr => f.dsplat(f.f64(x));
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
      case "hardswish":
      case "hardsigmoid": {
        // r = clamp(x + 3, 0, 6) (NaN kept), then x·r / 6 or r / 6, in double.
        const r = o.dpmin(o.dpmax(f.dadd(get(half), d(3)), d(0)), d(6));
        return o.ddiv(kind === "hardswish" ? f.dmul(get(half), r) : r, d(6));
      }
    }
  };
  /** `res` = the activation of the four lanes of `v`. */
  const four = (kind: (typeof ACTIVATIONS)[number]): void => {
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
