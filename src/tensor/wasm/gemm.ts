/**
 * SGEMM in WebAssembly SIMD, assembled at first use by `emitter.ts` (the TypeScript below is
 * the kernel's source). GotoBLAS structure: K blocked by 256, M by 64; B packed into 8-column
 * panels, A into 4-row panels (both packings in WASM); a 4x8 register-blocked micro-kernel with
 * eight f32x4 accumulators, using relaxed-SIMD FMA when the runtime has it.
 */
import { existsSync, readFileSync } from "node:fs";
import { RuntimeError } from "../../errors.js";
import { assemble, copyFloats, F32, Fn, I32, V128, type Expr, type Local } from "./emitter.js";
import { buildRegistered } from "./registry.js";

const KC = 256;
const MC = 64;
/** Arguments of the exported `gemm` (named in `registry.ts`). */
const GEMM_ARGS = 15;
const MR = 4;
const NR = 8;
/** Bytes reserved at address 0 for the micro-kernel's edge-tile spill. */
const SCRATCH = 256;

/** micro(kc, pa, pb, c, ldc, mr, nr, first, spill): the 4x8 micro-kernel. */
export function microKernel(fma: boolean): Fn {
  // micro(kc, pa, pb, c, ldc, mr, nr, first, spill)
  const f = new Fn("micro", [I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [kc, pa, pb, c, ldc, mr, nr, first, spill] = f.params;
  const k = f.local(I32);
  const acc: Local[] = Array.from({ length: MR * 2 }, () => f.local(V128));
  const b0 = f.local(V128);
  const b1 = f.local(V128);
  const a = f.local(V128);
  const { get, i32, add, mul, loadF32, loadV128, vadd, vmadd, eq, and } = f;
  // (Unrolling this loop by 2 measured slower: V8 then spills registers.)
  f.for(k, i32(0), get(kc), 1, () => {
    f.set(b0, loadV128(get(pb)));
    f.set(b1, loadV128(get(pb), 16));
    for (let r = 0; r < MR; r++) {
      f.set(a, f.loadSplat(get(pa), 4 * r));
      f.set(acc[2 * r], vmadd(get(a), get(b0), get(acc[2 * r]), fma));
      f.set(acc[2 * r + 1], vmadd(get(a), get(b1), get(acc[2 * r + 1]), fma));
    }
    f.set(pa, add(get(pa), i32(16)));
    f.set(pb, add(get(pb), i32(32)));
  });
  const rowAddr = (r: number): Expr => add(get(c), mul(i32(r * 4), get(ldc)));
  f.if(
    and(eq(get(mr), i32(MR)), eq(get(nr), i32(NR))),
    () => {
      for (let r = 0; r < MR; r++) {
        f.if(
          get(first),
          () => {
            f.storeV128(rowAddr(r), get(acc[2 * r]));
            f.storeV128(rowAddr(r), get(acc[2 * r + 1]), 16);
          },
          () => {
            f.storeV128(rowAddr(r), vadd(loadV128(rowAddr(r)), get(acc[2 * r])));
            f.storeV128(rowAddr(r), vadd(loadV128(rowAddr(r), 16), get(acc[2 * r + 1])), 16);
          },
        );
      }
    },
    () => {
      for (let r = 0; r < MR; r++) {
        f.storeV128(get(spill), get(acc[2 * r]), r * 32);
        f.storeV128(get(spill), get(acc[2 * r + 1]), r * 32 + 16);
      }
      const r = f.local(I32);
      const j = f.local(I32);
      const addr = f.local(I32);
      f.for(r, i32(0), get(mr), 1, () => {
        f.for(j, i32(0), get(nr), 1, () => {
          f.set(addr, add(get(c), mul(add(mul(get(r), get(ldc)), get(j)), i32(4))));
          const spilled = loadF32(add(get(spill), add(mul(get(r), i32(32)), mul(get(j), i32(4)))));
          f.if(get(first), () => f.storeF32(get(addr), spilled), () => f.storeF32(get(addr), f.fadd(loadF32(get(addr)), spilled)));
        });
      });
    },
  );
  return f;
}

/** The GEMM driver, calling the micro-kernel at function index `micro`. */
export function gemmDriver(micro: number): Fn {
  // gemm(M, N, K, a, lda, b, brs, bcs, c, ldc, pa, pb, spill, packed, r0); pointers in bytes,
  // strides in elements. With `packed` bit 0, A is already in panel order (`packA`) for Mp = lda
  // rows and this call's rows start at row r0 of it. With bit 1, B is already in panel order
  // (`packB`) at b for Np = brs columns, and this call's columns start at panel bcs of it.
  const f = new Fn("gemm", Array.from({ length: GEMM_ARGS }, () => I32));
  const [M, N, K, A, lda, B, brs, bcs, C, ldc, PA, PB, SPILL, PACKED, R0] = f.params;
  const { get, i32, add, sub, mul, shl, shrU, min, lt, eq, and, loadF32, loadV128, select } = f;
  const [pc, kc, ic, mc, jp, ip, k, r, i, j, col, nPanels, mPanels, dst, src] = Array.from({ length: 15 }, () => f.local(I32));
  f.set(nPanels, shrU(add(get(N), i32(NR - 1)), i32(3)));
  f.for(pc, i32(0), get(K), KC, () => {
    f.set(kc, min(i32(KC), sub(get(K), get(pc))));
    // Pack B: panel jp holds columns jp*8..jp*8+7 for k in [pc, pc+kc), 8 floats per k.
    f.if(eq(and(get(PACKED), i32(2)), i32(0)), () => f.for(jp, i32(0), get(nPanels), 1, () => {
      f.set(dst, add(get(PB), mul(mul(get(jp), get(kc)), i32(NR * 4))));
      f.set(j, shl(get(jp), i32(3)));
      f.if(
        and(eq(get(bcs), i32(1)), f.le(add(get(j), i32(NR)), get(N))),
        () => {
          f.for(k, i32(0), get(kc), 1, () => {
            f.set(src, add(get(B), shl(add(mul(add(get(pc), get(k)), get(brs)), get(j)), i32(2))));
            f.storeV128(get(dst), loadV128(get(src)));
            f.storeV128(get(dst), loadV128(get(src), 16), 16);
            f.set(dst, add(get(dst), i32(NR * 4)));
          });
        },
        () => {
          f.for(k, i32(0), get(kc), 1, () => {
            f.for(col, i32(0), i32(NR), 1, () => {
              f.set(i, add(get(j), get(col)));
              f.storeF32(
                add(get(dst), shl(get(col), i32(2))),
                select(
                  loadF32(add(get(B), shl(add(mul(add(get(pc), get(k)), get(brs)), mul(select(get(i), i32(0), lt(get(i), get(N))), get(bcs))), i32(2)))),
                  f.f32(0),
                  lt(get(i), get(N)),
                ),
              );
            });
            f.set(dst, add(get(dst), i32(NR * 4)));
          });
        },
      );
    }));
    f.for(ic, i32(0), get(M), MC, () => {
      f.set(mc, min(i32(MC), sub(get(M), get(ic))));
      f.set(mPanels, shrU(add(get(mc), i32(MR - 1)), i32(2)));
      // Pack A: panel ip holds rows ic+ip*4..+3, 4 floats per k (unless pre-packed).
      f.if(eq(and(get(PACKED), i32(1)), i32(0)), () => f.for(ip, i32(0), get(mPanels), 1, () => {
        f.set(dst, add(get(PA), mul(mul(get(ip), get(kc)), i32(MR * 4))));
        f.for(r, i32(0), i32(MR), 1, () => {
          f.set(i, add(add(get(ic), shl(get(ip), i32(2))), get(r)));
          f.if(
            lt(get(i), get(M)),
            () => {
              f.set(src, add(get(A), shl(add(mul(get(i), get(lda)), get(pc)), i32(2))));
              f.for(k, i32(0), get(kc), 1, () => {
                f.storeF32(add(get(dst), shl(add(shl(get(k), i32(2)), get(r)), i32(2))), loadF32(get(src)));
                f.set(src, add(get(src), i32(4)));
              });
            },
            () => {
              f.for(k, i32(0), get(kc), 1, () => {
                f.storeF32(add(get(dst), shl(add(shl(get(k), i32(2)), get(r)), i32(2))), f.f32(0));
              });
            },
          );
        });
      }));
      f.for(jp, i32(0), get(nPanels), 1, () => {
        f.for(ip, i32(0), get(mPanels), 1, () => {
          f.set(i, add(get(ic), shl(get(ip), i32(2))));
          f.set(j, shl(get(jp), i32(3)));
          f.call(
            micro,
            get(kc),
            select(
              add(get(A), shl(add(mul(get(pc), get(lda)), mul(add(add(get(R0), get(ic)), shl(get(ip), i32(2))), get(kc))), i32(2))),
              add(get(PA), mul(mul(get(ip), get(kc)), i32(MR * 4))),
              and(get(PACKED), i32(1)),
            ),
            select(
              add(get(B), shl(add(mul(get(pc), get(brs)), mul(add(get(bcs), get(jp)), shl(get(kc), i32(3)))), i32(2))),
              add(get(PB), mul(mul(get(jp), get(kc)), i32(NR * 4))),
              and(get(PACKED), i32(2)),
            ),
            add(get(C), shl(add(mul(get(i), get(ldc)), get(j)), i32(2))),
            get(ldc),
            min(i32(MR), sub(get(M), get(i))),
            min(i32(NR), sub(get(N), get(j))),
            eq(get(pc), i32(0)),
            get(SPILL),
          );
        });
      });
    });
  });
  return f;
}

/**
 * im2col rows [R0, R1) of an NCHW image plane stack at X (C x H x W floats) into DST with row
 * stride LD (floats): row r = (ci, ky, kx), column = oy*OW + ox; zeros outside the image.
 */
/** An output column index no row reaches (disables the vector path). */
const OW_NEVER = -1;

export function im2colKernel(): Fn {
  const f = new Fn("im2col", Array.from({ length: 17 }, () => I32));
  const [X, H, W, KH, KW, SH, SW, DH, DW, PT, PL, OH, OW, DST, LD, R0, R1] = f.params;
  const { get, i32, add, sub, mul, shl, divU, remU, lt, ge, and, loadF32, select } = f;
  const [r, ci, ky, kx, oy, ox, iy, ix, o, base, ok, lo, hi, src, dst, cnt] = Array.from({ length: 16 }, () => f.local(I32));
  f.for(r, get(R0), get(R1), 1, () => {
    f.set(ci, divU(get(r), mul(get(KH), get(KW))));
    f.set(ky, remU(divU(get(r), get(KW)), get(KH)));
    f.set(kx, remU(get(r), get(KW)));
    f.set(o, add(get(DST), shl(mul(get(r), get(LD)), i32(2))));
    f.for(oy, i32(0), get(OH), 1, () => {
      f.set(iy, add(sub(mul(get(oy), get(SH)), get(PT)), mul(get(ky), get(DH))));
      f.if(
        and(ge(get(iy), i32(0)), lt(get(iy), get(H))),
        () => {
          f.set(base, add(get(X), shl(mul(add(mul(get(ci), get(H)), get(iy)), get(W)), i32(2))));
          f.set(ix, sub(mul(get(kx), get(DW)), get(PL)));
          f.if(
            f.eq(get(SW), i32(1)),
            () => {
              // Stride 1: zeros left of the image, a SIMD copy of the contiguous middle, zeros right.
              f.set(lo, f.min(get(OW), select(sub(i32(0), get(ix)), i32(0), lt(get(ix), i32(0)))));
              f.set(hi, sub(get(W), get(ix)));
              f.set(hi, select(get(lo), f.min(get(OW), get(hi)), lt(get(hi), get(lo))));
              f.for(ox, i32(0), get(lo), 1, () => f.storeF32(add(get(o), shl(get(ox), i32(2))), f.f32(0)));
              f.set(src, add(get(base), shl(add(get(ix), get(lo)), i32(2))));
              f.set(dst, add(get(o), shl(get(lo), i32(2))));
              f.set(cnt, sub(get(hi), get(lo)));
              copyFloats(f, src, dst, cnt, ox);
              f.for(ox, get(hi), get(OW), 1, () => f.storeF32(add(get(o), shl(get(ox), i32(2))), f.f32(0)));
              f.set(o, add(get(o), shl(get(OW), i32(2))));
            },
            () => {
              // Stride 2: where four outputs' inputs lie inside the row (reading one float past the
              // last), take the even lanes of two vectors; elsewhere one value at a time.
              f.set(lo, i32(OW_NEVER));
              f.set(hi, i32(0));
              f.if(f.eq(get(SW), i32(2)), () => {
                f.set(lo, f.shrU(add(select(sub(i32(0), get(ix)), i32(0), lt(get(ix), i32(0))), i32(1)), i32(1)));
                f.set(hi, select(f.shrS(sub(sub(get(W), i32(2)), get(ix)), i32(1)), i32(-1), ge(sub(sub(get(W), i32(2)), get(ix)), i32(0))));
                f.set(hi, f.min(get(OW), add(get(hi), i32(1))));
              });
              f.for(ox, i32(0), get(OW), 1, () => {
                f.if(
                  and(f.eq(get(ox), get(lo)), lt(add(get(ox), i32(3)), get(hi))),
                  () => {
                    f.for(ox, get(ox), sub(get(hi), i32(3)), 4, () => {
                      f.set(src, add(get(base), shl(get(ix), i32(2))));
                      f.storeV128(get(o), f.shuffle(f.loadV128(get(src)), f.loadV128(get(src), 16), [0, 2, 4, 6]));
                      f.set(o, add(get(o), i32(16)));
                      f.set(ix, add(get(ix), i32(8)));
                    });
                    f.set(ox, sub(get(ox), i32(1)));
                  },
                  () => {
                    f.set(ok, and(ge(get(ix), i32(0)), lt(get(ix), get(W))));
                    f.storeF32(get(o), select(loadF32(add(get(base), shl(select(get(ix), i32(0), get(ok)), i32(2)))), f.f32(0), get(ok)));
                    f.set(o, add(get(o), i32(4)));
                    f.set(ix, add(get(ix), get(SW)));
                  },
                );
              });
            },
          );
        },
        () => {
          f.for(ox, i32(0), get(OW), 1, () => {
            f.storeF32(get(o), f.f32(0));
            f.set(o, add(get(o), i32(4)));
          });
        },
      );
    });
  });
  return f;
}

/**
 * Max pooling of planes [P0, P1) (each H x W at X, output OH x OW at DST) with implicit -inf
 * padding, keeping PyTorch's rule: a value replaces the maximum if greater or NaN (so the first of
 * equal values wins and NaN propagates).
 */
export function maxPoolKernel(): Fn {
  const f = new Fn("maxpool", Array.from({ length: 16 }, () => I32));
  const [X, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW, DST, P0, P1] = f.params;
  const { get, i32, add, sub, mul, shl, lt, ge, and, or, loadF32, select, fgt, fne } = f;
  const [p, oy, ox, ky, kx, iy, ix, base, o] = Array.from({ length: 9 }, () => f.local(I32));
  const best = f.local(F32);
  const v = f.local(F32);
  f.for(p, get(P0), get(P1), 1, () => {
    f.set(base, add(get(X), shl(mul(mul(get(p), get(H)), get(W)), i32(2))));
    f.set(o, add(get(DST), shl(mul(mul(get(p), get(OH)), get(OW)), i32(2))));
    f.for(oy, i32(0), get(OH), 1, () => {
      f.for(ox, i32(0), get(OW), 1, () => {
        f.set(best, f.f32(-Infinity));
        f.for(ky, i32(0), get(KH), 1, () => {
          f.set(iy, add(sub(mul(get(oy), get(SH)), get(PH)), mul(get(ky), get(DH))));
          f.if(and(ge(get(iy), i32(0)), lt(get(iy), get(H))), () => {
            f.for(kx, i32(0), get(KW), 1, () => {
              f.set(ix, add(sub(mul(get(ox), get(SW)), get(PW)), mul(get(kx), get(DW))));
              f.if(and(ge(get(ix), i32(0)), lt(get(ix), get(W))), () => {
                f.set(v, loadF32(add(get(base), shl(add(mul(get(iy), get(W)), get(ix)), i32(2)))));
                f.set(best, select(get(v), get(best), or(fgt(get(v), get(best)), fne(get(v), get(v)))));
              });
            });
          });
        });
        f.storeF32(get(o), get(best));
        f.set(o, add(get(o), i32(4)));
      });
    });
  });
  return f;
}

/** Whether this runtime validates relaxed-SIMD `f32x4.relaxed_madd`. */
function hasRelaxedSimd(): boolean {
  try {
    const probe = new Fn("p", [], [V128]);
    probe.vmadd(probe.splat(probe.f32(1)), probe.splat(probe.f32(2)), probe.splat(probe.f32(3)), true)();
    return WebAssembly.validate(assemble([probe], { initialPages: 1 }));
  } catch {
    return false;
  }
}

/** The instantiated kernel over its own growable (shared, where possible) memory. */
export interface WasmGemm {
  memory: WebAssembly.Memory;
  /** The exported kernels by name (`gemm`, `im2col`, `winoIn`, ...; see `registry.ts`). */
  exports: Record<string, (...args: number[]) => void>;
  fma: boolean;
  /** The module's bytes, for worker threads to instantiate over the same shared memory. */
  bytes: Uint8Array;
  shared: boolean;
}

/** Maximum size of the shared memory (address space is reserved, not committed). */
const MAX_PAGES = 32768;

let instance: WasmGemm | null | undefined;

/** The WASM GEMM, or null where WebAssembly SIMD is unavailable. Built once. */
export function wasmGemm(): WasmGemm | null {
  if (instance !== undefined) return instance;
  instance = buildKernels();
  return instance;
}

/** The kernels' module, assembled from the registry (`fma`: relaxed-SIMD FMA; `shared`: over a shared memory). */
export function kernelModuleBytes(fma: boolean, shared: boolean): Uint8Array {
  return assemble(buildRegistered(fma), shared ? { initialPages: 16, maxPages: MAX_PAGES, shared: true } : { initialPages: 16 });
}

/** The file `npm run build` writes next to the built `gemm.js`: the shared-memory module, pre-assembled. */
export function prebuiltKernelFile(fma: boolean): string {
  return `kernels-${fma ? "fma" : "simd"}.wasm`;
}

/**
 * The pre-assembled shared-memory module in the directory of `base` (the built package has one;
 * running from the TypeScript sources has none), or null. Saves assembling ~50 KB of WebAssembly
 * in JavaScript at import, about a quarter of the package's import time.
 */
export function readPrebuiltKernels(fma: boolean, base: string | URL = import.meta.url): Uint8Array | null {
  try {
    const url = new URL(prebuiltKernelFile(fma), base);
    return existsSync(url) ? new Uint8Array(readFileSync(url)) : null;
  } catch {
    return null;
  }
}

/** Instantiate the kernels over a new memory (shared where the runtime allows). */
function buildKernels(): WasmGemm | null {
  const fma = hasRelaxedSimd();
  const candidates: [boolean, () => Uint8Array | null][] = [
    [true, () => readPrebuiltKernels(fma)],
    [true, () => kernelModuleBytes(fma, true)],
    [false, () => kernelModuleBytes(fma, false)],
  ];
  for (const [shared, make] of candidates) {
    try {
      const bytes = make();
      if (bytes === null) continue;
      const memory = new WebAssembly.Memory(shared ? { initial: 16, maximum: MAX_PAGES, shared: true } : { initial: 16 });
      const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
      return { memory, fma, bytes, shared, exports: inst.exports as unknown as WasmGemm["exports"] };
    } catch {
      // a prebuilt file that does not load, no shared memory or no SIMD: try the next, then give up
    }
  }
  return null;
}

/** Per-thread scratch: edge-tile spill, packed A panels, packed B panels. */
export interface Scratch {
  spill: number;
  pa: number;
  pb: number;
}

/** Byte layout of one call's operands and each thread's panels in WASM memory, from `base` up. */
export function gemmLayout(
  M: number, N: number, K: number, aFloats: number, bFloats: number, threadCols: number[] = [N], base = 0,
): { a: number; b: number; c: number; scratch: Scratch[]; end: number } {
  const align = (x: number): number => Math.ceil(x / 64) * 64;
  const kc = Math.min(KC, Math.max(K, 1));
  const a = align(base);
  const b = align(a + aFloats * 4);
  const c = align(b + bFloats * 4);
  let p = align(c + M * N * 4);
  const scratch = threadCols.map((cols) => {
    const spill = p;
    const pa = align(spill + SCRATCH);
    const pb = align(pa + MC * kc * 4);
    p = align(pb + Math.ceil(cols / NR) * NR * kc * 4);
    return { spill, pa, pb };
  });
  return { a, b, c, scratch, end: p };
}

/** Split `n` rows or columns over up to `threads` threads, in multiples of `unit`. */
export function splitRange(n: number, threads: number, unit: number): number[] {
  const blocks = Math.ceil(n / unit);
  const t = Math.max(1, Math.min(threads, blocks));
  const out: number[] = [];
  let done = 0;
  for (let i = 0; i < t; i++) {
    const take = Math.round(((i + 1) * blocks) / t) - Math.round((i * blocks) / t);
    const part = Math.min(take * unit, n - done);
    out.push(part);
    done += part;
  }
  return out;
}

/** Floats of a pre-packed M x K matrix (`packA`): M rounded up to the panel height, times K. */
export function packedSize(M: number, K: number): number {
  return Math.ceil(M / MR) * MR * K;
}

/**
 * Write the row-major M x K matrix `src[off..]` into `dst[at..]` in the order the GEMM reads
 * packed A: K blocks of 256, each holding 4-row panels of kc x 4 floats (rows past M are zero).
 */
export function packA(src: Float32Array, off: number, M: number, K: number, dst: Float32Array, at: number): void {
  const Mp = Math.ceil(M / MR) * MR;
  for (let pc = 0; pc < K; pc += KC) {
    const kc = Math.min(KC, K - pc);
    for (let i = 0; i < Mp; i++) {
      const base = at + pc * Mp + (i >> 2) * MR * kc + (i & 3);
      if (i >= M) {
        for (let k = 0; k < kc; k++) dst[base + k * MR] = 0;
        continue;
      }
      const row = off + i * K + pc;
      for (let k = 0; k < kc; k++) dst[base + k * MR] = src[row + k];
    }
  }
}


/** Floats of a pre-packed K x N matrix B (`packB`): K times N rounded up to the panel width. */
export function packedBSize(K: number, N: number): number {
  return K * Math.ceil(N / NR) * NR;
}

/**
 * Write B = `src[off..]`ᵀ (src an N x K row-major matrix, e.g. Linear's [out, in] weight) into
 * `dst[at..]` in the order the GEMM reads packed B (`packed` bit 1, `brs` = N rounded up to 8):
 * K blocks of 256, each holding 8-column panels of kc x 8 floats (columns past N are zero).
 */
export function packBTransposed(src: Float32Array, off: number, N: number, K: number, dst: Float32Array, at: number): void {
  const Np = Math.ceil(N / NR) * NR;
  for (let pc = 0; pc < K; pc += KC) {
    const kc = Math.min(KC, K - pc);
    for (let j = 0; j < Np; j++) {
      const base = at + pc * Np + (j >> 3) * NR * kc + (j & 7);
      if (j >= N) {
        for (let k = 0; k < kc; k++) dst[base + k * NR] = 0;
        continue;
      }
      const row = off + j * K + pc;
      for (let k = 0; k < kc; k++) dst[base + k * NR] = src[row + k];
    }
  }
}

/** Panel widths, for callers splitting work. */
export const PANEL = { MR, NR };

/** Grow the kernel's memory to at least `bytes`. */
export function ensureMemory(w: WasmGemm, bytes: number): void {
  const have = w.memory.buffer.byteLength;
  if (bytes <= have) return;
  try {
    w.memory.grow(Math.ceil((bytes - have) / 65536));
  } catch {
    throw new RuntimeError(
      `the WebAssembly kernels need ${Math.ceil(bytes / 2 ** 20)} MiB of working memory, more than they can have ` +
        `(${(MAX_PAGES * 65536) / 2 ** 30} GiB); use a smaller input or setBackend("js")`,
    );
  }
}
