/**
 * Max pooling in WebAssembly SIMD for horizontal strides 1 and 2: each plane is copied into a
 * -inf-padded scratch plane, then four adjacent outputs are computed at once, visiting the window
 * in row-major order with the JS kernel's rule per lane (a value replaces the maximum if greater,
 * or if it is the first NaN), so results are bit-identical to it, -0.0 and NaN included.
 */
import { copyFloats, Fn, I32, V128, type Local } from "./emitter.js";

/** Padded scratch plane the kernel needs per thread (rows, columns; plus 4 floats of spill). */
export function poolPlane(kh: number, kw: number, sh: number, sw: number, dh: number, dw: number, oh: number, ow: number): { hp: number; wp: number } {
  const owr = Math.ceil(ow / 4) * 4;
  return { hp: (oh - 1) * sh + (kh - 1) * dh + 1, wp: (owr - 1) * sw + (kw - 1) * dw + 1 + 8 };
}

/**
 * maxpoolV(X, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW, DST, P0, P1, S, HP, WP): planes
 * [P0, P1) of H x W at X into OH x OW at DST; S is this thread's HP x WP scratch plane. SW is 1 or 2.
 */
export function maxPoolVKernel(): Fn {
  const f = new Fn("maxpoolV", Array.from({ length: 19 }, () => I32));
  const [X, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW, DST, P0, P1, S, HP, WP] = f.params;
  const { get, i32, add, sub, mul, shl, min, loadV128, loadF32, shuffle } = f;
  const [p, i, iy, n, src, dst, oy, ox, ky, kx, rowAt, at, o, k, end] = Array.from({ length: 15 }, () => f.local(I32));
  const [best, v, ninf] = Array.from({ length: 3 }, () => f.local(V128)) as Local[];
  f.set(ninf, f.splat(f.f32(-Infinity)));
  f.set(end, add(get(S), shl(mul(get(HP), get(WP)), i32(2))));
  f.for(p, get(P0), get(P1), 1, () => {
    // -inf everywhere, then the plane's rows at (PH, PW).
    // (The last store may run up to 12 bytes past the plane, into the spill floats.)
    f.for(dst, get(S), get(end), 16, () => f.storeV128(get(dst), get(ninf)));
    f.set(n, min(get(W), sub(get(WP), get(PW))));
    f.for(iy, i32(0), min(get(H), sub(get(HP), get(PH))), 1, () => {
      f.set(src, add(get(X), shl(add(mul(get(p), mul(get(H), get(W))), mul(get(iy), get(W))), i32(2))));
      f.set(dst, add(get(S), shl(add(mul(add(get(iy), get(PH)), get(WP)), get(PW)), i32(2))));
      copyFloats(f, src, dst, n, i);
    });
    f.set(o, add(get(DST), shl(mul(get(p), mul(get(OH), get(OW))), i32(2))));
    f.for(oy, i32(0), get(OH), 1, () => {
      f.for(ox, i32(0), get(OW), 4, () => {
        f.set(best, get(ninf));
        f.for(ky, i32(0), get(KH), 1, () => {
          f.set(rowAt, add(get(S), shl(mul(add(mul(get(oy), get(SH)), mul(get(ky), get(DH))), get(WP)), i32(2))));
          f.for(kx, i32(0), get(KW), 1, () => {
            f.set(at, add(get(rowAt), shl(add(mul(get(ox), get(SW)), mul(get(kx), get(DW))), i32(2))));
            f.if(
              f.eq(get(SW), i32(1)),
              () => f.set(v, loadV128(get(at))),
              () => f.set(v, shuffle(loadV128(get(at)), loadV128(get(at), 16), [0, 2, 4, 6])),
            );
            // Replace where v > best, or where v is NaN and best is not yet NaN (first NaN wins).
            const take = f.vor(f.vgt(get(v), get(best)), f.vand(f.vne(get(v), get(v)), f.veq(get(best), get(best))));
            f.set(best, f.bitselect(get(v), get(best), take));
          });
        });
        f.if(
          f.le(add(get(ox), i32(4)), get(OW)),
          () => f.storeV128(add(get(o), shl(get(ox), i32(2))), get(best)),
          () => {
            f.storeV128(get(end), get(best));
            f.for(k, get(ox), get(OW), 1, () => f.storeF32(add(get(o), shl(get(k), i32(2))), loadF32(add(get(end), shl(sub(get(k), get(ox)), i32(2))))));
          },
        );
      });
      f.set(o, add(get(o), shl(get(OW), i32(2))));
    });
  });
  return f;
}
