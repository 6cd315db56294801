/**
 * The channel gate of squeeze-excitation in WebAssembly SIMD: every plane of an NCHW tensor times
 * its own factor (`gate[n, c] · x[n, c, :, :]`, PyTorch's `scale * input` with `scale` of shape
 * `[N, C, 1, 1]`). One float32 multiply per element, the gate as the left operand, as the JS
 * broadcast `mul` computes it, so the bits are the same.
 */
import { Fn, I32, V128 } from "./emitter.js";

/**
 * chanScale(GATE, X, OUT, P, Q0, Q1): planes [Q0, Q1) of P floats: OUT[q·P + i] = GATE[q] · X[q·P + i]
 * (byte addresses; OUT may be X).
 */
export function chanScaleKernel(): Fn {
  const f = new Fn("chanScale", [I32, I32, I32, I32, I32, I32]);
  const [GATE, X, OUT, P, Q0, Q1] = f.params;
  const { get, i32, add, sub, mul, shl, loadV128, loadF32, loadSplat } = f;
  const [q, i, src, dst] = Array.from({ length: 4 }, () => f.local(I32));
  const g = f.local(V128);
  f.for(q, get(Q0), get(Q1), 1, () => {
    f.set(g, loadSplat(add(get(GATE), shl(get(q), i32(2)))));
    f.set(src, add(get(X), shl(mul(get(q), get(P)), i32(2))));
    f.set(dst, add(get(OUT), shl(mul(get(q), get(P)), i32(2))));
    f.for(i, i32(0), sub(get(P), i32(3)), 4, () => {
      f.storeV128(get(dst), f.vmul(get(g), loadV128(get(src))));
      f.set(src, add(get(src), i32(16)));
      f.set(dst, add(get(dst), i32(16)));
    });
    f.for(i, get(i), get(P), 1, () => {
      f.storeF32(get(dst), f.fmul(loadF32(add(get(GATE), shl(get(q), i32(2)))), loadF32(get(src))));
      f.set(src, add(get(src), i32(4)));
      f.set(dst, add(get(dst), i32(4)));
    });
  });
  return f;
}
