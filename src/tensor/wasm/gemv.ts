/**
 * A matrix-vector product over a resident pre-packed A (`packA`), for convolutions whose output
 * has one pixel (squeeze-excitation's 1x1 convolutions on the squeezed vector): the GEMM would
 * pack the vector into an 8-column panel and compute eight columns for one. The arithmetic is
 * the GEMM micro-kernel's for that column, in the same order, so the bits are the same: per block
 * of 256 k, a sum from zero by `madd` (fused when the GEMM fuses), blocks added in order.
 */
import { Fn, I32, V128 } from "./emitter.js";

const MR = 4;
const KC = 256;

/**
 * gemv(A, MP, M, K, X, Y, SPILL): Y[m] = Σₖ A[m, k]·X[k] for m < M, A packed for MP rows (byte
 * addresses; SPILL: 16 bytes for the last panel's rows).
 */
export function gemvKernel(fma: boolean): Fn {
  const f = new Fn("gemv", [I32, I32, I32, I32, I32, I32, I32]);
  const [A, MP, M, K, X, Y, SPILL] = f.params;
  const { get, i32, add, sub, mul, shl, min, lt, loadV128, loadF32, loadSplat } = f;
  const [p, pc, kc, k, pa, px, r] = Array.from({ length: 7 }, () => f.local(I32));
  const [acc, total] = [f.local(V128), f.local(V128)];
  f.for(p, i32(0), get(MP), MR, () => {
    f.for(pc, i32(0), get(K), KC, () => {
      f.set(kc, min(i32(KC), sub(get(K), get(pc))));
      // Panel of rows p..p+3 in block pc: at pc·MP + p·kc floats, four floats (rows) per k.
      f.set(pa, add(get(A), shl(add(mul(get(pc), get(MP)), mul(get(p), get(kc))), i32(2))));
      f.set(px, add(get(X), shl(get(pc), i32(2))));
      f.set(acc, f.splat(f.f32(0)));
      f.for(k, i32(0), get(kc), 1, () => {
        f.set(acc, f.vmadd(loadV128(get(pa)), loadSplat(get(px)), get(acc), fma));
        f.set(pa, add(get(pa), i32(16)));
        f.set(px, add(get(px), i32(4)));
      });
      f.if(f.eq(get(pc), i32(0)), () => f.set(total, get(acc)), () => f.set(total, f.vadd(get(total), get(acc))));
    });
    f.storeV128(get(SPILL), get(total));
    f.for(r, i32(0), min(i32(MR), sub(get(M), get(p))), 1, () => {
      f.storeF32(add(get(Y), shl(add(get(p), get(r)), i32(2))), loadF32(add(get(SPILL), shl(get(r), i32(2)))));
    });
  });
  return f;
}
