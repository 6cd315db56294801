/**
 * The per-channel epilogue of a fused Conv+BatchNorm(+ReLU) in WebAssembly:
 * `y = float32(double(x)·scale + shift)`, then `y < 0 ? 0 : y` — the same double-precision
 * arithmetic as BatchNorm's JS kernel, so fused and unfused results are bit-identical.
 */
import { F32, F64, Fn, I32, paramBlock, V128, type Expr, type Local } from "./emitter.js";

/** Registers one epilogue needs: scale and shift as f64x2 splats, and a zero vector. */
export interface AffineRegs {
  scale: Local;
  shift: Local;
  zero: Local;
  relu: Local;
}

/** Allocate the epilogue's registers in `f` (`relu` is an i32 parameter or local). */
export function affineRegs(f: Fn, relu: Local): AffineRegs {
  return { scale: f.local(V128), shift: f.local(V128), zero: f.local(V128), relu };
}

/** Load channel scale/shift (f64 at byte addresses) into the registers. */
export function loadAffine(f: Fn, r: AffineRegs, scaleAddr: Parameters<Fn["loadF64"]>[0], shiftAddr: Parameters<Fn["loadF64"]>[0]): void {
  f.set(r.scale, f.dsplat(f.loadF64(scaleAddr)));
  f.set(r.shift, f.dsplat(f.loadF64(shiftAddr)));
}

/** `v = relu?(v·scale + shift)` on four f32 lanes, computed in f64. */
export function applyAffine(f: Fn, r: AffineRegs, v: Local): void {
  const { get, promoteLow, shuffle, demote, dadd, dmul } = f;
  const lo = demote(dadd(dmul(promoteLow(get(v)), get(r.scale)), get(r.shift)));
  const hi = demote(dadd(dmul(promoteLow(shuffle(get(v), get(v), [2, 3, 0, 1])), get(r.scale)), get(r.shift)));
  f.set(v, shuffle(lo, hi, [0, 1, 4, 5]));
  f.if(get(r.relu), () => f.set(v, f.vpmax(get(v), get(r.zero))));
}

/**
 * rowAffine(C, ROWS, COLS, LDC, SCALE, SHIFT, RELU, RES): the epilogue on a ROWS x COLS block at C
 * (row stride LDC floats), row r using the f64 scale/shift at SCALE + 8r and SHIFT + 8r; when RES
 * is not 0, the residual block at RES (same layout) is added after the affine step and before the
 * ReLU, in float32 (as BatchNorm, `add_` and ReLU one after another).
 */
export function rowAffineKernel(): Fn {
  const f = new Fn("rowAffine", Array.from({ length: 8 }, () => I32));
  const [C, ROWS, COLS, LDC, SCALE, SHIFT, RELU, RES] = f.params;
  const { get, i32, add, mul, shl, sub, loadV128, loadF32 } = f;
  const [r, j, p, q, reluInner] = Array.from({ length: 5 }, () => f.local(I32));
  const v = f.local(V128);
  const s = f.local(F64);
  const h = f.local(F64);
  const y = f.local(F32);
  const regs = affineRegs(f, reluInner);
  // The ReLU runs inside the affine step unless a residual comes between them.
  f.set(reluInner, f.and(f.ne(get(RELU), i32(0)), f.eq(get(RES), i32(0))));
  f.for(r, i32(0), get(ROWS), 1, () => {
    f.set(s, f.loadF64(add(get(SCALE), shl(get(r), i32(3)))));
    f.set(h, f.loadF64(add(get(SHIFT), shl(get(r), i32(3)))));
    f.set(regs.scale, f.dsplat(get(s)));
    f.set(regs.shift, f.dsplat(get(h)));
    f.set(p, add(get(C), shl(mul(get(r), get(LDC)), i32(2))));
    f.set(q, add(get(RES), shl(mul(get(r), get(LDC)), i32(2))));
    f.for(j, i32(0), sub(get(COLS), i32(3)), 4, () => {
      f.set(v, loadV128(get(p)));
      applyAffine(f, regs, v);
      f.if(get(RES), () => {
        f.set(v, f.vadd(get(v), loadV128(get(q))));
        f.if(get(RELU), () => f.set(v, f.vpmax(get(v), get(regs.zero))));
        f.set(q, add(get(q), i32(16)));
      });
      f.storeV128(get(p), get(v));
      f.set(p, add(get(p), i32(16)));
    });
    f.for(j, get(j), get(COLS), 1, () => {
      f.set(y, f.demoteScalar(f.f64add(f.f64mul(f.promote(loadF32(get(p))), get(s)), get(h))));
      f.if(get(RES), () => {
        f.set(y, f.fadd(get(y), loadF32(get(q))));
        f.set(q, add(get(q), i32(4)));
      });
      f.if(get(RELU), () => f.set(y, f.select(f.f32(0), get(y), f.flt(get(y), f.f32(0)))));
      f.storeF32(get(p), get(y));
      f.set(p, add(get(p), i32(4)));
    });
  });
  return f;
}

/**
 * gemmAffine(the arguments of `gemm`, SCALE, SHIFT, RELU, RES, ACT): the GEMM, then `rowAffine`
 * on its output block when SCALE is not 0 (`gemm`, `rowAffine` and `act` called at the given
 * function indices); RES: the residual block matching the output block (row stride LDC), or 0;
 * ACT: 1 + the `act` kernel's activation kind run on each output row after the epilogue (its
 * spill: the GEMM's, free by then), or 0.
 */
export function gemmAffineKernel(gemmIndex: number, gemmArgs: number, rowAffineIndex: number, actIndex: number, spillArg: number): Fn {
  const f = new Fn("gemmAffine", Array.from({ length: gemmArgs + 5 }, () => I32));
  const p = f.params;
  const [M, N, , , , , , , C, LDC] = p;
  const [SCALE, SHIFT, RELU, RES, ACT] = p.slice(gemmArgs);
  const { get, i32, add, sub, shl, mul } = f;
  const r = f.local(I32);
  f.call(gemmIndex, ...p.slice(0, gemmArgs).map((l) => get(l)));
  f.if(get(SCALE), () => {
    f.call(rowAffineIndex, get(C), get(M), get(N), get(LDC), get(SCALE), get(SHIFT), get(RELU), get(RES));
    f.if(get(ACT), () => {
      f.for(r, i32(0), get(M), 1, () => {
        const row = add(get(C), shl(mul(get(r), get(LDC)), i32(2)));
        f.call(actIndex, sub(get(ACT), i32(1)), row, row, get(N), get(p[spillArg]));
      });
    });
  });
  return f;
}

/**
 * The i32 parameter block `gemmGroups` reads (byte offset = 4·index): one GEMM shape and, per
 * group g, operands at `a + g·aStride`, `b + g·bStride`, `c + g·cStride` and the epilogue's
 * scale/shift at `scale/shift + g·eStride` (bytes; `scale` 0: no epilogue).
 */
export const GROUP_PARAMS = [
  "M", "N", "K", "a", "aStride", "lda", "b", "bStride", "brs", "bcs", "c", "cStride", "ldc",
  "scale", "shift", "eStride", "relu",
] as const;

/** A `gemmGroups` parameter block's values by name. */
export type GroupParams = Record<(typeof GROUP_PARAMS)[number], number>;

/** The `gemmGroups` parameter block. */
export const GROUP_BLOCK = paramBlock(GROUP_PARAMS);

/**
 * gemmGroups(P, G0, G1, PA, PB, SPILL): groups [G0, G1) of the grouped GEMM described by the
 * parameter block at P, one after another on this thread's scratch (A pre-packed, `packed` 1),
 * each through `gemmAffine` (the same arithmetic as a job per group, so the same bits).
 */
export function gemmGroupsKernel(gemmAffineIndex: number): Fn {
  const f = new Fn("gemmGroups", Array.from({ length: 6 }, () => I32));
  const [P, G0, G1, PA, PB, SPILL] = f.params;
  const { get, i32, add, mul } = f;
  const prm = GROUP_BLOCK.load(f, get(P));
  const g = f.local(I32);
  const at = (base: Local, stride: Local): Expr => add(get(base), mul(get(g), get(stride)));
  f.for(g, get(G0), get(G1), 1, () => {
    f.call(
      gemmAffineIndex,
      get(prm.M), get(prm.N), get(prm.K), at(prm.a, prm.aStride), get(prm.lda), at(prm.b, prm.bStride), get(prm.brs), get(prm.bcs),
      at(prm.c, prm.cStride), get(prm.ldc), get(PA), get(PB), get(SPILL), i32(1), i32(0),
      f.select(at(prm.scale, prm.eStride), i32(0), get(prm.scale)), at(prm.shift, prm.eStride), get(prm.relu), i32(0), i32(0),
    );
  });
  return f;
}
