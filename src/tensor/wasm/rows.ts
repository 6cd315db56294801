/**
 * Kernels of the transformer forwards in WebAssembly SIMD, each over a range of rows or products
 * so threads can split them: Linear's GEMM with the bias added to its output block (`gemmBias`),
 * softmax along the last dim with an optional scale and mask (`softmaxRows`), LayerNorm over the
 * last dim (`layerNormRows`) and GEMMs over a table of per-product addresses (`gemmList`). The JS
 * kernels (`linear.ts`, `ops/reduce.ts`, `norm.ts`, `matmul.ts`) stay the oracles.
 */
import { F32, F64, Fn, I32, V128, type Expr, rawSimd } from "./emitter.js";
import { expF32x4 } from "./activation.js";


/** f64x2 operations the emitter lacks. */
function ops(f: Fn) {
  return {
    dsub: (a: Expr, b: Expr) => rawSimd(f, 0xf1, [a, b]),
    ddiv: (a: Expr, b: Expr) => rawSimd(f, 0xf3, [a, b]),
    /** v128.load64_splat: two floats (8 bytes) into lanes 0-1 (and 2-3). */
    load64: (addr: Expr) => rawSimd(f, 0x0a, [addr], [3, 0]),
    /** f64x2.extract_lane. */
    dlane: (a: Expr, lane: number) => rawSimd(f, 0x21, [a], [lane]),
    /** f32x4.extract_lane. */
    flane: (a: Expr, lane: number) => rawSimd(f, 0x1f, [a], [lane]),
    f32div: (a: Expr, b: Expr): Expr => () => {
      a();
      b();
      f.code.push(0x95);
    },
    f64div: (a: Expr, b: Expr): Expr => () => {
      a();
      b();
      f.code.push(0xa3);
    },
    f64sqrt: (a: Expr): Expr => () => {
      a();
      f.code.push(0x9f);
    },
    f64max: (a: Expr, b: Expr): Expr => () => {
      a();
      b();
      f.code.push(0xa5);
    },
    f64neg: (a: Expr): Expr => () => {
      a();
      f.code.push(0x9a);
    },
    f64convertI32: (a: Expr): Expr => () => {
      a();
      f.code.push(0xb7);
    },
  };
}

/**
 * gemmBias(the arguments of `gemm`, BIAS): the GEMM, then `C[i, j] += BIAS[j]` (float32 adds, as
 * Linear's JS loop rounds them) on its M x N output block, BIAS a byte address of N floats.
 */
export function gemmBiasKernel(gemmIndex: number, gemmArgs: number): Fn {
  const f = new Fn("gemmBias", Array.from({ length: gemmArgs + 1 }, () => I32));
  const p = f.params;
  const [M, N, , , , , , , C, LDC] = p;
  const BIAS = p[gemmArgs];
  const { get, i32, add, sub, mul, shl, loadV128, loadF32 } = f;
  const [i, j, row] = Array.from({ length: 3 }, () => f.local(I32));
  f.call(gemmIndex, ...p.slice(0, gemmArgs).map((l) => get(l)));
  f.for(i, i32(0), get(M), 1, () => {
    f.set(row, add(get(C), shl(mul(get(i), get(LDC)), i32(2))));
    f.for(j, i32(0), sub(get(N), i32(3)), 4, () => {
      const at = add(get(row), shl(get(j), i32(2)));
      f.storeV128(at, f.vadd(loadV128(at), loadV128(add(get(BIAS), shl(get(j), i32(2))))));
    });
    f.for(j, get(j), get(N), 1, () => {
      const at = add(get(row), shl(get(j), i32(2)));
      f.storeF32(at, f.fadd(loadF32(at), loadF32(add(get(BIAS), shl(get(j), i32(2))))));
    });
  });
  return f;
}

/**
 * softmaxRows(SRC, DST, R0, R1, N, L, MASK, MBS, MRS, FLAGS, PARAMS, SPILL): softmax of rows
 * [R0, R1) of N floats (row r at SRC + 4rN, written at DST + 4rN; DST may be SRC) in float32,
 * as PyTorch's vectorized CPU kernel: x (FLAGS bit 0: times the f32 scale at PARAMS, float32
 * rounded; bit 1: plus the additive mask row at MASK + 4(b·MBS + l·MRS), b = r / L, l = r % L),
 * the maximum (NaN if any value is NaN), `e = exp(x - max)` (`expF32x4`, exactly 0 below -87.3,
 * so -inf scores weigh 0 and an all -inf row is NaN), the sum in four partial sums, `e · (1/sum)`.
 * SPILL: 16 bytes for the last 1-3 values of a row.
 */
export function softmaxRowsKernel(fma: boolean): Fn {
  const f = new Fn("softmaxRows", Array.from({ length: 12 }, () => I32));
  const [SRC, DST, R0, R1, N, L, MASK, MBS, MRS, FLAGS, PARAMS, SPILL] = f.params;
  const { get, i32, add, sub, mul, shl, and, lt, loadV128, loadF32 } = f;
  const o = ops(f);
  const [r, k, src, dst, mrow, j] = Array.from({ length: 6 }, () => f.local(I32));
  const [vm, x, sc, vs, e, nn, out, mv] = Array.from({ length: 8 }, () => f.local(V128));
  const m = f.local(F32);
  const v = f.local(F32);
  const at = (base: Expr, kk: Expr): Expr => add(base, shl(kk, i32(2)));
  /** `x` = the row's scaled, masked values at k (vector), written back to DST as the next passes' input. */
  const prep = (load: () => Expr, maskLoad: () => Expr): void => {
    f.set(x, load());
    f.if(and(get(FLAGS), i32(1)), () => f.set(x, f.vmul(get(x), get(sc))));
    f.if(and(get(FLAGS), i32(2)), () => f.set(x, f.vadd(get(x), maskLoad())));
  };
  /** `out` = exp(x - max), 0 where x - max < -87.3 (and NaN kept). */
  const expShifted = (): void => {
    f.set(e, f.vsub(get(x), get(mv)));
    f.set(vs, rawSimd(f, 0x43, [get(e), f.splat(f.f32(-87.3))]));
    f.set(e, f.vpmax(get(e), f.splat(f.f32(-87.3))));
    expF32x4(f, e, nn, out, fma);
    f.set(out, f.bitselect(f.splat(f.f32(0)), get(out), get(vs)));
  };
  f.set(sc, f.loadSplat(get(PARAMS)));
  f.for(r, get(R0), get(R1), 1, () => {
    f.set(src, add(get(SRC), shl(mul(get(r), get(N)), i32(2))));
    f.set(dst, add(get(DST), shl(mul(get(r), get(N)), i32(2))));
    f.set(mrow, add(get(MASK), shl(add(mul(f.divU(get(r), get(L)), get(MBS)), mul(f.remU(get(r), get(L)), get(MRS))), i32(2))));
    // Pass 1: scale and mask into DST, and the maximum.
    f.set(vm, f.splat(f.f32(-Infinity)));
    f.for(k, i32(0), sub(get(N), i32(3)), 4, () => {
      prep(() => loadV128(at(get(src), get(k))), () => loadV128(at(get(mrow), get(k))));
      f.storeV128(at(get(dst), get(k)), get(x));
      f.set(vm, f.vmax(get(vm), get(x)));
    });
    f.set(m, f.f32(-Infinity));
    const take = (val: Expr): void => {
      f.set(v, val);
      f.set(m, f.select(get(v), get(m), f.or(f.fgt(get(v), get(m)), f.fne(get(v), get(v)))));
    };
    for (let l = 0; l < 4; l++) take(o.flane(get(vm), l));

    f.for(k, get(k), get(N), 1, () => {
      prep(() => f.loadSplat(at(get(src), get(k))), () => f.loadSplat(at(get(mrow), get(k))));
      f.storeF32(at(get(dst), get(k)), o.flane(get(x), 0));
      take(o.flane(get(x), 0));
    });
    f.set(mv, f.splat(get(m)));
    // Pass 2: e = exp(x - max) in place, summed in four lanes.
    f.set(vm, f.splat(f.f32(0)));
    f.for(k, i32(0), sub(get(N), i32(3)), 4, () => {
      f.set(x, loadV128(at(get(dst), get(k))));
      expShifted();
      f.storeV128(at(get(dst), get(k)), get(out));
      f.set(vm, f.vadd(get(vm), get(out)));
    });
    f.if(lt(get(k), get(N)), () => {
      // The last 1-3 values through SPILL, -inf in the unused lanes (exp gives 0 there).
      f.storeV128(get(SPILL), f.splat(f.f32(-Infinity)));
      f.for(j, get(k), get(N), 1, () => f.storeF32(at(get(SPILL), sub(get(j), get(k))), loadF32(at(get(dst), get(j)))));
      f.set(x, loadV128(get(SPILL)));
      expShifted();
      f.storeV128(get(SPILL), get(out));
      f.set(vm, f.vadd(get(vm), get(out)));
      f.for(j, get(k), get(N), 1, () => f.storeF32(at(get(dst), get(j)), loadF32(at(get(SPILL), sub(get(j), get(k))))));
    });
    // Pass 3: times 1/sum.
    f.set(v, f.fadd(f.fadd(o.flane(get(vm), 0), o.flane(get(vm), 1)), f.fadd(o.flane(get(vm), 2), o.flane(get(vm), 3))));
    f.set(v, o.f32div(f.f32(1), get(v)));
    f.set(vs, f.splat(get(v)));
    f.for(k, i32(0), sub(get(N), i32(3)), 4, () => f.storeV128(at(get(dst), get(k)), f.vmul(loadV128(at(get(dst), get(k))), get(vs))));
    f.for(k, get(k), get(N), 1, () => f.storeF32(at(get(dst), get(k)), f.fmul(loadF32(at(get(dst), get(k))), get(v))));
  });
  return f;
}

/**
 * layerNormRows(SRC, DST, R0, R1, N, GAMMA, BETA, FLAGS, PARAMS): LayerNorm of rows [R0, R1) of
 * N floats as `norm.ts` computes it, except that the two sums run in four double-precision
 * partial sums (SIMD) instead of one: mean and biased variance in double, `mean` and
 * `rstd = 1/sqrt(max(var, 0) + eps)` rounded to float32, `shift = float32(-rstd·mean)`, then
 * `float32((x·rstd + shift)·gamma + beta)` in double. FLAGS bit 0: GAMMA given, bit 1: BETA
 * given (byte addresses of N floats); eps is the f64 at PARAMS.
 */
export function layerNormRowsKernel(): Fn {
  const f = new Fn("layerNormRows", Array.from({ length: 9 }, () => I32));
  const [SRC, DST, R0, R1, N, GAMMA, BETA, FLAGS, PARAMS] = f.params;
  const { get, i32, add, sub, mul, shl, and, loadV128, loadF32, dadd, dmul, promoteLow } = f;
  const o = ops(f);
  const [r, k, src, dst] = Array.from({ length: 4 }, () => f.local(I32));
  const [acc0, acc1, x, lo, hi, md, rs, sh, g, b, d0, d1] = Array.from({ length: 12 }, () => f.local(V128));
  const [s, mean, rstd, t] = Array.from({ length: 4 }, () => f.local(F64));
  const hiHalf = (v: Expr): Expr => promoteLow(f.shuffle(v, v, [2, 3, 0, 1]));
  const at = (base: Expr, kk: Expr): Expr => add(base, shl(kk, i32(2)));
  f.for(r, get(R0), get(R1), 1, () => {
    f.set(src, add(get(SRC), shl(mul(get(r), get(N)), i32(2))));
    f.set(dst, add(get(DST), shl(mul(get(r), get(N)), i32(2))));
    // Sum.
    f.set(acc0, f.dsplat(f.f64(0)));
    f.set(acc1, f.dsplat(f.f64(0)));
    f.for(k, i32(0), sub(get(N), i32(3)), 4, () => {
      f.set(x, loadV128(at(get(src), get(k))));
      f.set(acc0, dadd(get(acc0), promoteLow(get(x))));
      f.set(acc1, dadd(get(acc1), hiHalf(get(x))));
    });
    f.set(acc0, dadd(get(acc0), get(acc1)));
    f.set(s, f.f64add(o.dlane(get(acc0), 0), o.dlane(get(acc0), 1)));
    f.for(k, get(k), get(N), 1, () => f.set(s, f.f64add(get(s), f.promote(loadF32(at(get(src), get(k)))))));
    f.set(mean, o.f64div(get(s), o.f64convertI32(get(N))));
    f.set(md, f.dsplat(get(mean)));
    // Sum of squared deviations.
    f.set(acc0, f.dsplat(f.f64(0)));
    f.set(acc1, f.dsplat(f.f64(0)));
    f.for(k, i32(0), sub(get(N), i32(3)), 4, () => {
      f.set(x, loadV128(at(get(src), get(k))));
      f.set(d0, o.dsub(promoteLow(get(x)), get(md)));
      f.set(d1, o.dsub(hiHalf(get(x)), get(md)));
      f.set(acc0, dadd(get(acc0), dmul(get(d0), get(d0))));
      f.set(acc1, dadd(get(acc1), dmul(get(d1), get(d1))));
    });
    f.set(acc0, dadd(get(acc0), get(acc1)));
    f.set(s, f.f64add(o.dlane(get(acc0), 0), o.dlane(get(acc0), 1)));
    f.for(k, get(k), get(N), 1, () => {
      f.set(t, f.f64sub(f.promote(loadF32(at(get(src), get(k)))), get(mean)));
      f.set(s, f.f64add(get(s), f.f64mul(get(t), get(t))));
    });
    // rstd and shift rounded to float32 (as PyTorch keeps them), then the affine map in double.
    f.set(rstd, f.promote(f.demoteScalar(o.f64div(f.f64(1), o.f64sqrt(f.f64add(o.f64max(o.f64div(get(s), o.f64convertI32(get(N))), f.f64(0)), f.loadF64(get(PARAMS))))))));
    f.set(mean, f.promote(f.demoteScalar(get(mean))));
    f.set(rs, f.dsplat(get(rstd)));
    f.set(sh, f.dsplat(f.promote(f.demoteScalar(f.f64mul(o.f64neg(get(rstd)), get(mean))))));
    const affine = (v: Expr, kk: Expr, lane: 0 | 2): Expr => {
      let y = dadd(dmul(v, get(rs)), get(sh));
      const gv = lane === 0 ? promoteLow(get(g)) : hiHalf(get(g));
      const bv = lane === 0 ? promoteLow(get(b)) : hiHalf(get(b));
      void kk;
      y = dadd(dmul(y, gv), bv);
      return y;
    };
    f.set(g, f.splat(f.f32(1)));
    f.set(b, f.splat(f.f32(0)));
    f.for(k, i32(0), sub(get(N), i32(3)), 4, () => {
      f.set(x, loadV128(at(get(src), get(k))));
      f.if(and(get(FLAGS), i32(1)), () => f.set(g, loadV128(at(get(GAMMA), get(k)))));
      f.if(and(get(FLAGS), i32(2)), () => f.set(b, loadV128(at(get(BETA), get(k)))));
      f.set(lo, f.demote(affine(promoteLow(get(x)), get(k), 0)));
      f.set(hi, f.demote(affine(hiHalf(get(x)), get(k), 2)));
      f.storeV128(at(get(dst), get(k)), f.shuffle(get(lo), get(hi), [0, 1, 4, 5]));
    });
    f.for(k, get(k), get(N), 1, () => {
      f.set(x, f.loadSplat(at(get(src), get(k))));
      f.if(and(get(FLAGS), i32(1)), () => f.set(g, f.loadSplat(at(get(GAMMA), get(k)))));
      f.if(and(get(FLAGS), i32(2)), () => f.set(b, f.loadSplat(at(get(BETA), get(k)))));
      f.storeF32(at(get(dst), get(k)), o.flane(f.demote(affine(promoteLow(get(x)), get(k), 0)), 0));
    });
  });
  return f;
}

/**
 * gemmList(COUNT, TABLE, M, N, K, LDA, BRS, BCS, LDC, PA, PB, SPILL): COUNT products
 * `C = A·B` of M x K by K x N, product i reading its A, B and C byte addresses from the i32
 * triple at TABLE + 12i (A with row stride LDA and unit column stride; B with strides BRS, BCS,
 * in elements; C with row stride LDC). Batched matmuls with any batch strides (heads and windows
 * of a permuted view) split over the threads by ranges of the table.
 */
export function gemmListKernel(gemmIndex: number): Fn {
  const f = new Fn("gemmList", Array.from({ length: 12 }, () => I32));
  const [COUNT, TABLE, M, N, K, LDA, BRS, BCS, LDC, PA, PB, SPILL] = f.params;
  const i = f.local(I32);
  const row = f.local(I32);
  /** `i32.load offset=...` (offsets below 128: one LEB128 byte). */
  const load = (addr: Expr, offset: number): Expr => () => {
    addr();
    f.code.push(0x28, 2, offset);
  };
  f.for(i, f.i32(0), f.get(COUNT), 1, () => {
    f.set(row, f.add(f.get(TABLE), f.mul(f.get(i), f.i32(12))));
    f.call(
      gemmIndex,
      f.get(M), f.get(N), f.get(K),
      load(f.get(row), 0), f.get(LDA),
      load(f.get(row), 4), f.get(BRS), f.get(BCS),
      load(f.get(row), 8), f.get(LDC),
      f.get(PA), f.get(PB), f.get(SPILL), f.i32(0), f.i32(0),
    );
  });
  return f;
}
