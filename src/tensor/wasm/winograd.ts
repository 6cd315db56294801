/**
 * Winograd F(2x2, 3x3) convolution kernels in WebAssembly SIMD (Lavin & Gray, 2015): each 2x2
 * output tile costs 16 multiplications per channel pair instead of 36. The 16 products are 16
 * independent GEMMs `M[ξ] = U[ξ]·V[ξ]` (`U` the transformed filters, `[Cout, Cin]`; `V` the
 * transformed input tiles, `[Cin, tiles]`), run by the GEMM driver; these kernels do the
 * transforms, four horizontally adjacent tiles per SIMD vector:
 *
 *   V = Bᵀ d B over 4x4 input patches d (stride 2), Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
 *   Y = Aᵀ M A to 2x2 outputs,                     Aᵀ = [1 1 1 0; 0 1 -1 -1]
 *
 * The filter transform `U = G g Gᵀ` runs once per weight in JS (`../winograd.ts`).
 */
import { copyFloats, F32, F64, Fn, I32, V128, type Expr, type Local } from "./emitter.js";
import { affineRegs, applyAffine, loadAffine } from "./epilogue.js";

/** Padded staging plane of one channel: rows and columns (a multiple of 4) for the input kernel. */
export function winoPlane(th: number, tw: number): { hp: number; wp: number } {
  return { hp: 2 * th + 2, wp: 8 * Math.ceil(tw / 4) + 4 };
}

/**
 * winoIn(X, NB, C, H, W, PT, PL, TH, TW, V, LD, C0, C1, S): input transform of channels [C0, C1)
 * of NB images staged at X (each C x H x W). Tile (ty, tx) of image b is column
 * b*TH*TW + ty*TW + tx of `V[ξ]` (row stride LD floats, ξ-th block of C*LD floats at V). S is this
 * thread's scratch for one zero-padded plane (`winoPlane`). Stores may run up to 3 columns past
 * the last tile of a row: LD leaves room for that, and later rows overwrite the rest.
 */
export function winoInKernel(): Fn {
  const f = new Fn("winoIn", Array.from({ length: 14 }, () => I32));
  const [X, NB, C, H, W, PT, PL, TH, TW, V, LD, C0, C1, S] = f.params;
  const { get, i32, add, sub, mul, shl, min, loadV128, loadF32, vadd, vsub, shuffle } = f;
  const [b, c, i, iy, n, src, dst, ty, tx, row, col0, hp, wp, planeEnd, xiStride] = Array.from({ length: 15 }, () => f.local(I32));
  const r: Local[][] = Array.from({ length: 4 }, () => Array.from({ length: 3 }, () => f.local(V128)));
  const t: Local[] = Array.from({ length: 3 }, () => f.local(V128));
  const [e0, o0, e1, o1] = Array.from({ length: 4 }, () => f.local(V128));
  f.set(hp, add(shl(get(TH), i32(1)), i32(2)));
  f.set(wp, add(shl(shl(shrU4(f, add(get(TW), i32(3))), i32(2)), i32(1)), i32(4)));
  f.set(planeEnd, add(get(S), shl(mul(get(hp), get(wp)), i32(2))));
  f.set(xiStride, shl(mul(get(C), get(LD)), i32(2)));
  f.for(b, i32(0), get(NB), 1, () => {
    f.for(c, get(C0), get(C1), 1, () => {
      // Zero the padded plane, then copy the image rows that land inside it.
      f.for(dst, get(S), get(planeEnd), 16, () => f.storeV128(get(dst), f.splat(f.f32(0))));
      f.set(n, min(get(W), sub(get(wp), get(PL))));
      f.for(iy, i32(0), min(get(H), sub(get(hp), get(PT))), 1, () => {
        f.set(src, add(get(X), shl(add(mul(add(mul(get(b), get(C)), get(c)), mul(get(H), get(W))), mul(get(iy), get(W))), i32(2))));
        f.set(dst, add(get(S), shl(add(mul(add(get(iy), get(PT)), get(wp)), get(PL)), i32(2))));
        copyFloats(f, src, dst, n, i);
      });
      f.for(ty, i32(0), get(TH), 1, () => {
        f.set(row, add(get(S), shl(mul(shl(get(ty), i32(1)), get(wp)), i32(2))));
        f.set(col0, add(mul(get(b), mul(get(TH), get(TW))), mul(get(ty), get(TW))));
        f.for(tx, i32(0), get(TW), 4, () => {
          // Rows 2ty..2ty+3, columns 2tx..2tx+11 (three vectors per row).
          for (let k = 0; k < 4; k++) {
            for (let v = 0; v < 3; v++) {
              f.set(r[k][v], loadV128(add(add(get(row), shl(mul(i32(k), get(wp)), i32(2))), shl(get(tx), i32(3))), 16 * v));
            }
          }
          // Bᵀ d (down the rows), then · B (along the columns, de-interleaving the stride-2 tiles).
          const rowCombos: ((v: number) => Expr)[] = [
            (v) => vsub(get(r[0][v]), get(r[2][v])),
            (v) => vadd(get(r[1][v]), get(r[2][v])),
            (v) => vsub(get(r[2][v]), get(r[1][v])),
            (v) => vsub(get(r[1][v]), get(r[3][v])),
          ];
          rowCombos.forEach((combo, k) => {
            for (let v = 0; v < 3; v++) f.set(t[v], combo(v));
            f.set(e0, shuffle(get(t[0]), get(t[1]), [0, 2, 4, 6]));
            f.set(o0, shuffle(get(t[0]), get(t[1]), [1, 3, 5, 7]));
            f.set(e1, shuffle(get(e0), get(t[2]), [1, 2, 3, 4]));
            f.set(o1, shuffle(get(o0), get(t[2]), [1, 2, 3, 5]));
            const out = [vsub(get(e0), get(e1)), vadd(get(o0), get(e1)), vsub(get(e1), get(o0)), vsub(get(o0), get(o1))];
            out.forEach((val, j) => {
              const xi = 4 * k + j;
              const addr = add(add(get(V), mul(i32(xi), get(xiStride))), shl(add(mul(get(c), get(LD)), add(get(col0), get(tx))), i32(2)));
              f.storeV128(addr, val);
            });
          });
        });
      });
    });
  });
  return f;
}

function shrU4(f: Fn, e: Expr): Expr {
  return f.shrU(e, f.i32(2));
}

/**
 * winoGemm(COUNT, M, N, K, A, AS, LDA, B, BS, LDB, C, CS, LDC, PA, PB, SPILL, PACKED): COUNT GEMMs
 * `C_i = A_i · B_i` with A_i at A + i*AS (M x K: row stride LDA, or pre-packed for LDA rows when
 * PACKED), B_i at B + i*BS (K x N, row stride LDB) and C_i at C + i*CS (row stride LDC); AS, BS,
 * CS in bytes. (`gemm` is called at function index `gemmIndex`.)
 */
export function winoGemmKernel(gemmIndex: number): Fn {
  const f = new Fn("winoGemm", Array.from({ length: 17 }, () => I32));
  const [COUNT, M, N, K, A, AS, LDA, B, BS, LDB, C, CS, LDC, PA, PB, SPILL, PACKED] = f.params;
  const { get, i32, add, mul } = f;
  const i = f.local(I32);
  f.for(i, i32(0), get(COUNT), 1, () => {
    f.call(
      gemmIndex,
      get(M), get(N), get(K),
      add(get(A), mul(get(i), get(AS))), get(LDA),
      add(get(B), mul(get(i), get(BS))), get(LDB), i32(1),
      add(get(C), mul(get(i), get(CS))), get(LDC),
      get(PA), get(PB), get(SPILL), get(PACKED), i32(0),
    );
  });
  return f;
}

/**
 * winoOut(MB, LD, NB, CO, TH, TW, OH, OW, OUT, C0, C1, S, SCALE, SHIFT, RELU, ADD): output
 * transform of channels [C0, C1) from `M[ξ]` (ξ-th block of CO*LD floats at MB, tile columns as in
 * `winoIn`) into NB images of CO x OH x OW floats at OUT. S is 64 bytes of scratch for tiles on
 * the right/bottom edge. When SCALE is not 0 the fused epilogue (`epilogue.ts`) runs on each
 * value; with ADD the value already at OUT (a residual) is added before the ReLU.
 */
export function winoOutKernel(): Fn {
  const f = new Fn("winoOut", Array.from({ length: 16 }, () => I32));
  const [MB, LD, NB, CO, TH, TW, OH, OW, OUT, C0, C1, S, SCALE, SHIFT, RELU, ADD] = f.params;
  const { get, i32, add, mul, shl, lt, le, and, loadV128, loadF32, vadd, vsub, shuffle } = f;
  const [b, c, ty, tx, col, xiStride, o, oy, ox, k, rr, reluFirst, reluLast, at] = Array.from({ length: 14 }, () => f.local(I32));
  const rows: Local[] = Array.from({ length: 4 }, () => f.local(V128));
  const zero = f.local(V128);
  const val = f.local(F32);
  const m: Local[] = Array.from({ length: 16 }, () => f.local(V128));
  const s: Local[] = Array.from({ length: 4 }, () => f.local(V128));
  const d: Local[] = Array.from({ length: 4 }, () => f.local(V128));
  const y: Local[] = Array.from({ length: 4 }, () => f.local(V128));
  // Without a residual the ReLU is part of the epilogue; with one it comes after the addition.
  f.set(reluFirst, and(get(RELU), f.eq(get(ADD), i32(0))));
  f.set(reluLast, and(get(RELU), get(ADD)));
  const regs = affineRegs(f, reluFirst);
  f.set(xiStride, shl(mul(get(CO), get(LD)), i32(2)));
  f.for(b, i32(0), get(NB), 1, () => {
    f.for(c, get(C0), get(C1), 1, () => {
      f.if(get(SCALE), () => loadAffine(f, regs, add(get(SCALE), shl(get(c), i32(3))), add(get(SHIFT), shl(get(c), i32(3)))));
      f.for(ty, i32(0), get(TH), 1, () => {
        f.for(tx, i32(0), get(TW), 4, () => {
          f.set(col, add(mul(get(b), mul(get(TH), get(TW))), add(mul(get(ty), get(TW)), get(tx))));
          for (let xi = 0; xi < 16; xi++) {
            f.set(m[xi], loadV128(add(get(MB), add(mul(i32(xi), get(xiStride)), shl(add(mul(get(c), get(LD)), get(col)), i32(2))))));
          }
          // Aᵀ M (rows): s = m0 + m1 + m2, d = m1 - m2 - m3; then · A (columns) the same way.
          for (let j = 0; j < 4; j++) {
            f.set(s[j], vadd(vadd(get(m[j]), get(m[4 + j])), get(m[8 + j])));
            f.set(d[j], vsub(vsub(get(m[4 + j]), get(m[8 + j])), get(m[12 + j])));
          }
          [s, d].forEach((v, r) => {
            f.set(y[2 * r], vadd(vadd(get(v[0]), get(v[1])), get(v[2])));
            f.set(y[2 * r + 1], vsub(vsub(get(v[1]), get(v[2])), get(v[3])));
          });
          f.if(get(SCALE), () => y.forEach((v) => applyAffine(f, regs, v)));
          // Output rows 2ty and 2ty+1, columns 2tx..2tx+7: interleave the two columns of the tiles.
          f.set(o, add(get(OUT), shl(add(mul(add(mul(add(mul(get(b), get(CO)), get(c)), get(OH)), shl(get(ty), i32(1))), get(OW)), shl(get(tx), i32(1))), i32(2))));
          const lanes: [number, number, number, number][] = [[0, 4, 1, 5], [2, 6, 3, 7]];
          for (let r = 0; r < 2; r++) {
            for (let h = 0; h < 2; h++) f.set(rows[2 * r + h], shuffle(get(y[2 * r]), get(y[2 * r + 1]), lanes[h]));
          }
          f.if(
            and(le(add(shl(get(tx), i32(1)), i32(8)), get(OW)), le(add(shl(get(ty), i32(1)), i32(2)), get(OH))),
            () => {
              for (let r = 0; r < 2; r++) {
                for (let h = 0; h < 2; h++) {
                  const v = rows[2 * r + h];
                  const addr = add(get(o), shl(mul(i32(r), get(OW)), i32(2)));
                  f.if(get(ADD), () => {
                    f.set(v, vadd(get(v), loadV128(addr, 16 * h)));
                    f.if(get(reluLast), () => f.set(v, f.vpmax(get(v), get(zero))));
                  });
                  f.storeV128(addr, get(v), 16 * h);
                }
              }
            },
            () => {
              rows.forEach((v, i) => f.storeV128(get(S), get(v), 16 * i));
              f.for(rr, i32(0), i32(2), 1, () => {
                f.set(oy, add(shl(get(ty), i32(1)), get(rr)));
                f.if(lt(get(oy), get(OH)), () => {
                  f.for(k, i32(0), i32(8), 1, () => {
                    f.set(ox, add(shl(get(tx), i32(1)), get(k)));
                    f.if(lt(get(ox), get(OW)), () => {
                      f.set(at, add(get(o), shl(add(mul(get(rr), get(OW)), get(k)), i32(2))));
                      f.set(val, loadF32(add(get(S), shl(add(shl(get(rr), i32(3)), get(k)), i32(2)))));
                      f.if(get(ADD), () => {
                        f.set(val, f.fadd(get(val), loadF32(get(at))));
                        f.if(get(reluLast), () => f.set(val, f.select(f.f32(0), get(val), f.flt(get(val), f.f32(0)))));
                      });
                      f.storeF32(get(at), get(val));
                    });
                  });
                });
              });
            },
          );
        });
      });
    });
  });
  return f;
}

/**
 * winoFilter(W, COUT, CIN, DST, XIF, CO0, CO1): the filter transform `U = G g Gᵀ` of output
 * channels [CO0, CO1) of the [COUT, CIN, 3, 3] weight at W, written in the GEMM's packed-A order
 * (`packA`: K blocks of 256, 4-row panels) as 16 matrices XIF floats apart from DST; rows from
 * COUT up to the next multiple of 4 are zero. In f64, exactly as `winogradFilter` in JS.
 */
export function winoFilterKernel(): Fn {
  const f = new Fn("winoFilter", Array.from({ length: 7 }, () => I32));
  const [W, COUT, CIN, DST, XIF, CO0, CO1] = f.params;
  const { get, i32, add, sub, mul, shl, lt, min, loadF32 } = f;
  const [co, pc, kc, k, g, o, mp, xiBytes] = Array.from({ length: 8 }, () => f.local(I32));
  const gg: Local[] = Array.from({ length: 12 }, () => f.local(F64));
  const u: Local[] = Array.from({ length: 16 }, () => f.local(F64));
  const half = (e: Expr): Expr => f.f64mul(e, f.f64(0.5));
  f.set(mp, shl(f.shrU(add(get(COUT), i32(3)), i32(2)), i32(2)));
  f.set(xiBytes, shl(get(XIF), i32(2)));
  f.for(co, get(CO0), get(CO1), 1, () => {
    f.for(pc, i32(0), get(CIN), 256, () => {
      f.set(kc, min(i32(256), sub(get(CIN), get(pc))));
      f.for(k, i32(0), get(kc), 1, () => {
        // Float index pc*Mp + (co>>2)*4*kc + (co&3) + 4k, as bytes.
        f.set(o, add(get(DST), shl(add(add(mul(get(pc), get(mp)), mul(shl(f.shrU(get(co), i32(2)), i32(2)), get(kc))), add(f.and(get(co), i32(3)), shl(get(k), i32(2)))), i32(2))));
        f.if(
          lt(get(co), get(COUT)),
          () => {
            f.set(g, add(get(W), mul(add(mul(get(co), get(CIN)), add(get(pc), get(k))), i32(36))));
            for (let c = 0; c < 3; c++) {
              const a = (): Expr => f.promote(loadF32(get(g), 4 * c));
              const b = (): Expr => f.promote(loadF32(get(g), 12 + 4 * c));
              const d = (): Expr => f.promote(loadF32(get(g), 24 + 4 * c));
              f.set(gg[c], a());
              f.set(gg[3 + c], half(f.f64add(f.f64add(a(), b()), d())));
              f.set(gg[6 + c], half(f.f64add(f.f64sub(a(), b()), d())));
              f.set(gg[9 + c], d());
            }
            for (let r = 0; r < 4; r++) {
              const [a, b, d] = [gg[3 * r], gg[3 * r + 1], gg[3 * r + 2]];
              f.set(u[4 * r], get(a));
              f.set(u[4 * r + 1], half(f.f64add(f.f64add(get(a), get(b)), get(d))));
              f.set(u[4 * r + 2], half(f.f64add(f.f64sub(get(a), get(b)), get(d))));
              f.set(u[4 * r + 3], get(d));
            }
            u.forEach((v, xi) => f.storeF32(add(get(o), mul(i32(xi), get(xiBytes))), f.demoteScalar(get(v))));
          },
          () => {
            for (let xi = 0; xi < 16; xi++) f.storeF32(add(get(o), mul(i32(xi), get(xiBytes))), f.f32(0));
          },
        );
      });
    });
  });
  return f;
}

/** Floats `maxAbs` handles per step; the caller finishes the last `length % MAX_ABS_BLOCK` floats. */
export const MAX_ABS_BLOCK = 16;

/**
 * maxAbs(X, N, OUT): lane-wise `max |x|` over the N floats at X (N a multiple of 16), stored as
 * four floats at OUT. `f32x4.max` propagates NaN, so a NaN anywhere makes some lane NaN and an
 * infinity some lane Inf: one pass tells whether the Winograd transforms are safe for X.
 */
export function maxAbsKernel(): Fn {
  const f = new Fn("maxAbs", [I32, I32, I32]);
  const [X, N, OUT] = f.params;
  const { get, i32, add, shl, loadV128, vabs, vmax } = f;
  const p = f.local(I32);
  const end = f.local(I32);
  const acc: Local[] = Array.from({ length: 4 }, () => f.local(V128));
  f.set(end, add(get(X), shl(get(N), i32(2))));
  f.for(p, get(X), get(end), 4 * MAX_ABS_BLOCK, () => {
    for (let k = 0; k < 4; k++) f.set(acc[k], vmax(get(acc[k]), vabs(loadV128(get(p), 16 * k))));
  });
  f.storeV128(get(OUT), vmax(vmax(get(acc[0]), get(acc[1])), vmax(get(acc[2]), get(acc[3]))));
  return f;
}
