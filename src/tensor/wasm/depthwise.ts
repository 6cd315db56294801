/**
 * Depthwise convolution in WebAssembly SIMD (each output channel reads one input channel), any
 * kernel size, strides 1 and 2, dilation, zero padding. Each input plane is copied into a
 * zero-bordered scratch plane, then four adjacent outputs of a row are computed per f32x4 (four
 * vectors at a time where the row is wide enough), the window visited in row-major order. The
 * bias starts the sum; the BatchNorm(+residual)(+ReLU) epilogue runs in f64 exactly as BatchNorm's
 * JS kernel does (`epilogue.ts`), so a fused result is bit-identical to the unfused one.
 */
import { copyFloats, Fn, I32, paramBlock, V128, type Expr, type Local } from "./emitter.js";
import { affineRegs, applyAffine, loadAffine } from "./epilogue.js";

/**
 * The i32 parameter block `dwconv` reads (byte offset = 4·index): named arguments instead of a
 * long positional list (a job carries only the block's address and its plane range).
 */
export const DW_PARAMS = [
  "x", "weight", "bias", "out", "cout", "cin", "mult", "h", "w", "kh", "kw", "sh", "sw", "dh", "dw",
  "padTop", "padLeft", "oh", "ow", "hp", "wp", "scale", "shift", "relu", "residual", "act",
] as const;

/**
 * A `dwconv` parameter block's values by name (addresses in bytes; `scale` 0: no epilogue,
 * `residual` 0: none; `act`: 1 + the `act` kernel's activation kind run on each finished output
 * plane, or 0).
 */
export type DwParams = Record<(typeof DW_PARAMS)[number], number>;

/** The `dwconv` parameter block. */
export const DW_BLOCK = paramBlock(DW_PARAMS);

/**
 * The zero-bordered scratch plane one thread needs (rows, columns; floats = hp·wp + 4 of spill):
 * every row/column a window of the output reads, the last f32x4 of a row rounded up to 4 outputs
 * (and one column more at stride 2, where a vector of four outputs reads eight floats).
 */
export function dwScratch(kh: number, kw: number, sh: number, sw: number, dh: number, dw: number, oh: number, ow: number): { hp: number; wp: number; floats: number } {
  const owr = Math.ceil(ow / 4) * 4;
  const hp = (oh - 1) * sh + (kh - 1) * dh + 1;
  const wp = Math.ceil(((owr - 1) * sw + (kw - 1) * dw + 1 + (sw === 2 ? 1 : 0)) / 4) * 4;
  return { hp, wp, floats: hp * wp + 4 };
}

/** Kernel widths whose row of taps is unrolled (at dilation 1). */
const UNROLLED = [3, 5, 7];

/**
 * dwconv(P, Q0, Q1, S): output planes [Q0, Q1) (plane q = image·cout + channel) of the
 * convolution described by the parameter block at P; S is this thread's scratch plane. `actIndex`:
 * the function index of the `act` kernel (-1: the block's `act` must be 0).
 */
export function depthwiseKernel(fma: boolean, unroll: readonly number[] = UNROLLED, actIndex = -1): Fn {
  const f = new Fn("dwconv", [I32, I32, I32, I32]);
  const [P, Q0, Q1, S] = f.params;
  const { get, i32, add, sub, mul, shl, divU, remU, lt, le, ne, and, loadV128, loadF32, loadSplat, shuffle } = f;
  const prm = DW_BLOCK.load(f, get(P));
  const [q, co, plane, last, iy, n, rows, src, dst, i, end, oy, ox, rowAt, at, ky, kx, wAt, kk, o, rowStep, colStep, reluInner, k, px, unrolled] =
    Array.from({ length: 26 }, () => f.local(I32));
  // Stride 2 with an unrolled kernel width: scratch rows hold the even padded columns, then (at
  // byte `half`) the odd ones, so each tap reads four adjacent outputs' inputs with one load.
  const [deint, half, atOdd, dstOdd] = Array.from({ length: 4 }, () => f.local(I32));
  const [ve, vo] = [f.local(V128), f.local(V128)];
  const acc = Array.from({ length: 4 }, () => f.local(V128));
  const [wv, bias, zero] = Array.from({ length: 3 }, () => f.local(V128));
  const regs = affineRegs(f, reluInner);
  // The ReLU runs inside the affine step unless a residual comes between them.
  f.set(reluInner, and(ne(get(prm.relu), i32(0)), f.eq(get(prm.residual), i32(0))));
  const bytes = (e: Expr): Expr => shl(e, i32(2));
  // Clear the scratch plane once: only its interior is rewritten per input plane, the border stays zero.
  f.set(end, add(get(S), bytes(add(mul(get(prm.hp), get(prm.wp)), i32(4)))));
  f.for(dst, get(S), get(end), 16, () => f.storeV128(get(dst), get(zero)));
  f.set(n, f.min(get(prm.w), sub(get(prm.wp), get(prm.padLeft))));
  f.set(rows, f.min(get(prm.h), sub(get(prm.hp), get(prm.padTop))));
  f.set(rowStep, bytes(mul(get(prm.dh), get(prm.wp))));
  f.set(colStep, bytes(get(prm.dw)));
  f.set(kk, mul(get(prm.kh), get(prm.kw)));
  f.set(last, i32(-1));
  f.set(unrolled, f.select(get(prm.kw), i32(0), f.eq(get(prm.dw), i32(1))));
  f.set(end, sub(get(end), i32(16)));
  let isUnrolled: Expr = f.eq(get(unrolled), i32(unroll[0] ?? -1));
  for (const u of unroll.slice(1)) isUnrolled = f.or(isUnrolled, f.eq(get(unrolled), i32(u)));
  f.set(deint, and(f.eq(get(prm.sw), i32(2)), isUnrolled));
  f.set(half, shl(get(prm.wp), i32(1)));

  /**
   * Sum of `nv` vectors (4·nv outputs) starting at scratch byte `at`, weights of this channel;
   * `kwc`: the kernel width when it is known here with dilation 1 (the row of taps unrolled, every
   * offset an immediate), else null (a loop over the taps).
   */
  const window = (nv: number, stride: 1 | 2 | "even-odd", kwc: number | null): void => {
    for (let v = 0; v < nv; v++) f.set(acc[v], get(bias));
    f.set(wAt, add(get(prm.weight), bytes(mul(get(co), get(kk)))));
    const tap = (ptr: Local, wOff: number, xOff: number): void => {
      f.set(wv, loadSplat(get(wAt), wOff));
      for (let v = 0; v < nv; v++) {
        const x = stride !== 2 ? loadV128(get(ptr), 16 * v + xOff) : shuffle(loadV128(get(ptr), 32 * v + xOff), loadV128(get(ptr), 32 * v + xOff + 16), [0, 2, 4, 6]);
        f.set(acc[v], f.vmadd(get(wv), x, get(acc[v]), fma));
      }
    };
    f.for(ky, i32(0), get(prm.kh), 1, () => {
      // Taps unrolled in blocks of 1-2 vectors (in the 4-vector blocks too, V8 spills: measured 35%
      // slower at 96x56x56 7x7).
      if (kwc !== null && stride === "even-odd") {
        // Tap kx reads padded column 2·ox + kx: even kx in the even half, odd kx in the odd half.
        f.set(atOdd, add(get(at), get(half)));
        for (let kx = 0; kx < kwc; kx++) tap(kx % 2 ? atOdd : at, 4 * kx, 4 * (kx >> 1));
        f.set(wAt, add(get(wAt), i32(4 * kwc)));
      } else if (kwc !== null && nv <= 2) {
        for (let kx = 0; kx < kwc; kx++) tap(at, 4 * kx, 4 * kx);
        f.set(wAt, add(get(wAt), i32(4 * kwc)));
      } else {
        f.set(px, get(at));
        f.for(kx, i32(0), get(prm.kw), 1, () => {
          tap(px, 0, 0);
          f.set(px, add(get(px), get(colStep)));
          f.set(wAt, add(get(wAt), i32(4)));
        });
      }
      f.set(at, add(get(at), get(rowStep)));
    });
    f.if(get(prm.scale), () => {
      for (let v = 0; v < nv; v++) {
        applyAffine(f, regs, acc[v]);
        f.if(get(prm.residual), () => {
          f.set(acc[v], f.vadd(get(acc[v]), loadV128(add(get(prm.residual), sub(get(o), get(prm.out))), 16 * v)));
          f.if(get(prm.relu), () => f.set(acc[v], f.vpmax(get(acc[v]), get(zero))));
        });
      }
    });
  };
  /** One output row at stride `stride`: blocks of 16 outputs, then of 4, then the last 1-3 via the spill. */
  const row = (stride: 1 | 2 | "even-odd", kwc: number | null): void => {
    const blockAt = (): Expr => add(get(rowAt), bytes(mul(get(ox), i32(stride === 2 ? 2 : 1))));
    f.set(ox, i32(0));
    // Even-odd rows: blocks of 8 outputs (two accumulators share each weight, every tap unrolled).
    const big = stride === "even-odd" ? 2 : 4;
    f.for(ox, get(ox), sub(get(prm.ow), i32(4 * big - 1)), 4 * big, () => {
      f.set(at, blockAt());
      window(big, stride, kwc);
      for (let v = 0; v < big; v++) f.storeV128(get(o), get(acc[v]), 16 * v);
      f.set(o, add(get(o), i32(16 * big)));
    });
    if (big === 4 && kwc !== null) {
      // Then blocks of 8 with every tap unrolled (rows narrower than 16 outputs, and the rest).
      f.for(ox, get(ox), sub(get(prm.ow), i32(7)), 8, () => {
        f.set(at, blockAt());
        window(2, stride, kwc);
        for (let v = 0; v < 2; v++) f.storeV128(get(o), get(acc[v]), 16 * v);
        f.set(o, add(get(o), i32(32)));
      });
    }
    f.for(ox, get(ox), sub(get(prm.ow), i32(3)), 4, () => {
      f.set(at, blockAt());
      window(1, stride, kwc);
      f.storeV128(get(o), get(acc[0]));
      f.set(o, add(get(o), i32(16)));
    });
    f.if(lt(get(ox), get(prm.ow)), () => {
      // The last 1-3 outputs: a full vector into the spill, then the valid lanes out. (A residual
      // read here may run up to 12 bytes past the residual; it only feeds the discarded lanes.)
      f.set(at, blockAt());
      window(1, stride, kwc);
      f.storeV128(get(end), get(acc[0]));
      f.for(k, i32(0), sub(get(prm.ow), get(ox)), 1, () => f.storeF32(add(get(o), bytes(get(k))), loadF32(add(get(end), bytes(get(k))))));
      f.set(o, add(get(o), bytes(sub(get(prm.ow), get(ox)))));
    });
  };

  f.for(q, get(Q0), get(Q1), 1, () => {
    f.set(co, remU(get(q), get(prm.cout)));
    f.set(plane, add(mul(divU(get(q), get(prm.cout)), get(prm.cin)), divU(get(co), get(prm.mult))));
    f.if(ne(get(plane), get(last)), () => {
      f.set(last, get(plane));
      f.for(iy, i32(0), get(rows), 1, () => {
        f.set(src, add(get(prm.x), bytes(add(mul(get(plane), mul(get(prm.h), get(prm.w))), mul(get(iy), get(prm.w))))));
        f.if(get(deint), () => {
          // Padded column j = ix + padLeft goes to the even half at j/2 or the odd half at (j-1)/2:
          // eight inputs at a time, their even-indexed four to one half, the odd-indexed to the other.
          f.set(dst, add(get(S), bytes(mul(add(get(iy), get(prm.padTop)), get(prm.wp)))));
          const pl = get(prm.padLeft);
          const plOdd = and(pl, i32(1));
          f.set(dstOdd, add(get(dst), f.select(bytes(f.shrU(add(pl, i32(1)), i32(1))), add(get(half), bytes(f.shrU(pl, i32(1)))), plOdd)));
          f.set(dst, add(get(dst), f.select(add(get(half), bytes(f.shrU(pl, i32(1)))), bytes(f.shrU(pl, i32(1))), plOdd)));
          f.for(i, i32(0), sub(get(n), i32(7)), 8, () => {
            f.set(ve, loadV128(get(src)));
            f.set(vo, loadV128(get(src), 16));
            f.storeV128(get(dst), shuffle(get(ve), get(vo), [0, 2, 4, 6]));
            f.storeV128(get(dstOdd), shuffle(get(ve), get(vo), [1, 3, 5, 7]));
            f.set(src, add(get(src), i32(32)));
            f.set(dst, add(get(dst), i32(16)));
            f.set(dstOdd, add(get(dstOdd), i32(16)));
          });
          // The last 1-7 inputs one by one, alternating between the halves.
          f.for(i, get(i), get(n), 1, () => {
            f.storeF32(get(dst), loadF32(get(src)));
            f.set(src, add(get(src), i32(4)));
            f.set(k, get(dst));
            f.set(dst, get(dstOdd));
            f.set(dstOdd, add(get(k), i32(4)));
          });
        }, () => {
          f.set(dst, add(get(S), bytes(add(mul(add(get(iy), get(prm.padTop)), get(prm.wp)), get(prm.padLeft)))));
          copyFloats(f, src, dst, n, i);
        });
      });
    });
    f.set(bias, f.splat(f.f32(0)));
    f.if(get(prm.bias), () => f.set(bias, loadSplat(add(get(prm.bias), bytes(get(co))))));
    f.if(get(prm.scale), () => loadAffine(f, regs, add(get(prm.scale), shl(get(co), i32(3))), add(get(prm.shift), shl(get(co), i32(3)))));
    f.set(o, add(get(prm.out), bytes(mul(get(q), mul(get(prm.oh), get(prm.ow))))));
    f.for(oy, i32(0), get(prm.oh), 1, () => {
      f.set(rowAt, add(get(S), bytes(mul(mul(get(oy), get(prm.sh)), get(prm.wp)))));
      const widths = (stride: 1 | 2, list: number[]): void => {
        if (list.length === 0) return row(stride, null);
        f.if(f.eq(get(unrolled), i32(list[0])), () => row(stride === 2 ? "even-odd" : stride, list[0]), () => widths(stride, list.slice(1)));
      };
      f.if(le(get(prm.sw), i32(1)), () => widths(1, [...unroll]), () => widths(2, [...unroll]));
    });
    if (actIndex >= 0) {
      // The activation on the finished plane (the spill after the scratch plane is free again).
      f.if(get(prm.act), () => {
        f.set(k, add(get(prm.out), bytes(mul(get(q), mul(get(prm.oh), get(prm.ow))))));
        f.call(actIndex, sub(get(prm.act), i32(1)), get(k), get(k), mul(get(prm.oh), get(prm.ow)), get(end));
      });
    }
  });
  return f;
}
