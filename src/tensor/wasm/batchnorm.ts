/**
 * Training kernels in WebAssembly SIMD, each over a range of channels or elements so threads can
 * split them: BatchNorm's backward with batch statistics (`bnSums`: per-channel sums in double;
 * `bnGradIn`: the input gradient from them) and ReLU's backward (`thresholdBackward`, PyTorch's
 * `threshold_backward(grad, result, 0)`). The JS formulas (`autograd/nn_functions.ts`,
 * `nn/functional.ts`) stay the oracles; `tensor/batchnorm_train.ts` drives these.
 */
import { F64, Fn, I32, V128, type Expr, rawSimd } from "./emitter.js";


/** The f64 operations the emitter lacks. */
function ops(f: Fn) {
  return {
    dsub: (a: Expr, b: Expr) => rawSimd(f, 0xf1, [a, b]),
    /** f64x2.extract_lane. */
    dlane: (a: Expr, lane: number) => rawSimd(f, 0x21, [a], [lane]),
    /** f32x4.extract_lane. */
    flane: (a: Expr, lane: number) => rawSimd(f, 0x1f, [a], [lane]),
    f64div: (a: Expr, b: Expr): Expr => () => {
      a();
      b();
      f.code.push(0xa3);
    },
    f64convertI32: (a: Expr): Expr => () => {
      a();
      f.code.push(0xb7);
    },
    /** f64.store (align 8). */
    storeF64: (addr: Expr, value: Expr, offset: number): void => {
      addr();
      value();
      f.code.push(0x39, 3, offset);
    },
  };
}

/** Floats of a channel record (`bnSums` writes slots 0-3, the caller 4-7; f64). */
export const BN_RECORD = 8;

/**
 * bnSums(X, G, N, C, P, C0, C1, OUT): for channels [C0, C1) of NCHW `X` and `G` (N images, C
 * channels, P floats a plane; byte addresses), in double: `mean = Σx / (N·P)`, then
 * `q = Σ(x − mean)²`, `sg = Σg`, `u = Σ g·(x − mean)`, written as f64 to slots 0-3 of the
 * channel's record at OUT + 64·ch.
 */
export function bnSumsKernel(): Fn {
  const f = new Fn("bnSums", Array.from({ length: 8 }, () => I32));
  const [X, G, N, C, P, C0, C1, OUT] = f.params;
  const { get, i32, add, sub, mul, shl, loadV128, loadF32, dadd, dmul, promoteLow, promote } = f;
  const o = ops(f);
  const [ch, b, k, xp, gp, rec] = Array.from({ length: 6 }, () => f.local(I32));
  const [ax0, ax1, ag0, ag1, x, g, md, d0, d1] = Array.from({ length: 9 }, () => f.local(V128));
  const [sx, sg, mean, q, u, t] = Array.from({ length: 6 }, () => f.local(F64));
  const hiHalf = (v: Expr): Expr => promoteLow(f.shuffle(v, v, [2, 3, 0, 1]));
  const at = (base: Expr, kk: Expr): Expr => add(base, shl(kk, i32(2)));
  const plane = (base: Expr): Expr => add(base, shl(mul(add(mul(get(b), get(C)), get(ch)), get(P)), i32(2)));
  const zero = (...vs: typeof ax0[]) => vs.forEach((v) => f.set(v, f.dsplat(f.f64(0))));
  const total = (a: Expr, bb: Expr): Expr => {
    const s = dadd(a, bb);
    return f.f64add(o.dlane(s, 0), o.dlane(s, 1));
  };
  f.for(ch, get(C0), get(C1), 1, () => {
    // Σx and Σg.
    zero(ax0, ax1, ag0, ag1);
    f.set(sx, f.f64(0));
    f.set(sg, f.f64(0));
    f.for(b, i32(0), get(N), 1, () => {
      f.set(xp, plane(get(X)));
      f.set(gp, plane(get(G)));
      f.for(k, i32(0), sub(get(P), i32(3)), 4, () => {
        f.set(x, loadV128(at(get(xp), get(k))));
        f.set(g, loadV128(at(get(gp), get(k))));
        f.set(ax0, dadd(get(ax0), promoteLow(get(x))));
        f.set(ax1, dadd(get(ax1), hiHalf(get(x))));
        f.set(ag0, dadd(get(ag0), promoteLow(get(g))));
        f.set(ag1, dadd(get(ag1), hiHalf(get(g))));
      });
      f.for(k, get(k), get(P), 1, () => {
        f.set(sx, f.f64add(get(sx), promote(loadF32(at(get(xp), get(k))))));
        f.set(sg, f.f64add(get(sg), promote(loadF32(at(get(gp), get(k))))));
      });
    });
    f.set(mean, o.f64div(f.f64add(total(get(ax0), get(ax1)), get(sx)), o.f64convertI32(mul(get(N), get(P)))));
    f.set(sg, f.f64add(total(get(ag0), get(ag1)), get(sg)));
    f.set(md, f.dsplat(get(mean)));
    // Σ(x − mean)² and Σ g·(x − mean).
    zero(ax0, ax1, ag0, ag1);
    f.set(q, f.f64(0));
    f.set(u, f.f64(0));
    f.for(b, i32(0), get(N), 1, () => {
      f.set(xp, plane(get(X)));
      f.set(gp, plane(get(G)));
      f.for(k, i32(0), sub(get(P), i32(3)), 4, () => {
        f.set(x, loadV128(at(get(xp), get(k))));
        f.set(g, loadV128(at(get(gp), get(k))));
        f.set(d0, o.dsub(promoteLow(get(x)), get(md)));
        f.set(d1, o.dsub(hiHalf(get(x)), get(md)));
        f.set(ax0, dadd(get(ax0), dmul(get(d0), get(d0))));
        f.set(ax1, dadd(get(ax1), dmul(get(d1), get(d1))));
        f.set(ag0, dadd(get(ag0), dmul(promoteLow(get(g)), get(d0))));
        f.set(ag1, dadd(get(ag1), dmul(hiHalf(get(g)), get(d1))));
      });
      f.for(k, get(k), get(P), 1, () => {
        f.set(t, f.f64sub(promote(loadF32(at(get(xp), get(k)))), get(mean)));
        f.set(q, f.f64add(get(q), f.f64mul(get(t), get(t))));
        f.set(u, f.f64add(get(u), f.f64mul(promote(loadF32(at(get(gp), get(k)))), get(t))));
      });
    });
    f.set(rec, add(get(OUT), shl(get(ch), i32(6))));
    o.storeF64(get(rec), get(mean), 0);
    o.storeF64(get(rec), f.f64add(total(get(ax0), get(ax1)), get(q)), 8);
    o.storeF64(get(rec), get(sg), 16);
    o.storeF64(get(rec), f.f64add(total(get(ag0), get(ag1)), get(u)), 24);
  });
  return f;
}

/**
 * bnGradIn(X, G, GX, N, C, P, C0, C1, REC): for channels [C0, C1), with the channel record at
 * REC + 64·ch holding `mean` (slot 0) and `k, mg, rstd, mgx` (slots 4-7):
 * `gx = float32(k·(g − mg − (x − mean)·rstd·mgx))` in double, left to right as the JS formula
 * (so the same bits given the same record). GX may be G.
 */
export function bnGradInKernel(): Fn {
  const f = new Fn("bnGradIn", Array.from({ length: 9 }, () => I32));
  const [X, G, GX, N, C, P, C0, C1, REC] = f.params;
  const { get, i32, add, sub, mul, shl, loadV128, dmul, promoteLow } = f;
  const o = ops(f);
  const [ch, b, k, xp, gp, dp, rec] = Array.from({ length: 7 }, () => f.local(I32));
  const [x, g, mean, kk, mg, rstd, mgx, lo, hi] = Array.from({ length: 9 }, () => f.local(V128));
  const hiHalf = (v: Expr): Expr => promoteLow(f.shuffle(v, v, [2, 3, 0, 1]));
  const at = (base: Expr, i: Expr): Expr => add(base, shl(i, i32(2)));
  const offs = (): Expr => shl(mul(add(mul(get(b), get(C)), get(ch)), get(P)), i32(2));
  const formula = (xv: Expr, gv: Expr): Expr =>
    dmul(get(kk), o.dsub(o.dsub(gv, get(mg)), dmul(dmul(o.dsub(xv, get(mean)), get(rstd)), get(mgx))));
  f.for(ch, get(C0), get(C1), 1, () => {
    f.set(rec, add(get(REC), shl(get(ch), i32(6))));
    f.set(mean, f.dsplat(f.loadF64(get(rec), 0)));
    f.set(kk, f.dsplat(f.loadF64(get(rec), 32)));
    f.set(mg, f.dsplat(f.loadF64(get(rec), 40)));
    f.set(rstd, f.dsplat(f.loadF64(get(rec), 48)));
    f.set(mgx, f.dsplat(f.loadF64(get(rec), 56)));
    f.for(b, i32(0), get(N), 1, () => {
      f.set(xp, add(get(X), offs()));
      f.set(gp, add(get(G), offs()));
      f.set(dp, add(get(GX), offs()));
      f.for(k, i32(0), sub(get(P), i32(3)), 4, () => {
        f.set(x, loadV128(at(get(xp), get(k))));
        f.set(g, loadV128(at(get(gp), get(k))));
        f.set(lo, f.demote(formula(promoteLow(get(x)), promoteLow(get(g)))));
        f.set(hi, f.demote(formula(hiHalf(get(x)), hiHalf(get(g)))));
        f.storeV128(at(get(dp), get(k)), f.shuffle(get(lo), get(hi), [0, 1, 4, 5]));
      });
      f.for(k, get(k), get(P), 1, () => {
        f.set(x, f.loadSplat(at(get(xp), get(k))));
        f.set(g, f.loadSplat(at(get(gp), get(k))));
        f.storeF32(at(get(dp), get(k)), o.flane(f.demote(formula(promoteLow(get(x)), promoteLow(get(g)))), 0));
      });
    });
  });
  return f;
}

/**
 * thresholdBackward(Y, G, DST, I0, I1): elements [I0, I1): `DST = Y > 0 ? G : 0` (ReLU's
 * backward from its output; a NaN `Y` gives 0, as the JS formula). DST may be G.
 */
export function thresholdBackwardKernel(): Fn {
  const f = new Fn("thresholdBackward", Array.from({ length: 5 }, () => I32));
  const [Y, G, DST, I0, I1] = f.params;
  const { get, i32, add, sub, shl, loadV128, loadF32 } = f;
  const i = f.local(I32);
  const zero = f.local(V128);
  const at = (base: Expr, ii: Expr): Expr => add(base, shl(ii, i32(2)));
  f.set(zero, f.splat(f.f32(0)));
  f.for(i, get(I0), sub(get(I1), i32(3)), 4, () => {
    f.storeV128(at(get(DST), get(i)), f.vand(loadV128(at(get(G), get(i))), f.vgt(loadV128(at(get(Y), get(i))), get(zero))));
  });
  f.for(i, get(i), get(I1), 1, () => {
    f.storeF32(at(get(DST), get(i)), f.select(loadF32(at(get(G), get(i))), f.f32(0), f.fgt(loadF32(at(get(Y), get(i))), f.f32(0))));
  });
  return f;
}
