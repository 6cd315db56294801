/**
 * col2im of the strided convolution's input gradient (`tensor/conv_backward.ts`): the loop that
 * clips each kernel column's output range once against the per-element bounds check it replaced,
 * bit for bit (the same float32 adds in the same order). Geometries: strides 1-3 per axis, input
 * sizes not a multiple of the stride, asymmetric and kernel-exceeding padding, dilation, columns
 * at an offset inside a wider chunk (`col0`, `ld`).
 */
import { describe, expect, it } from "vitest";
import { col2im } from "../../src/tensor/conv_backward.js";
import type { Pads } from "../../src/tensor/conv.js";
import { detUniform } from "../helpers.js";

function col2imChecked(
  cols: Float32Array, col0: number, ld: number, gx: Float32Array, off: number, C: number, H: number, W: number, kh: number, kw: number,
  stride: readonly [number, number], dilation: readonly [number, number], pads: Pads, oh: number, ow: number,
): void {
  const [sh, sw] = stride;
  const [dh, dw] = dilation;
  let r = 0;
  for (let c = 0; c < C; c++) {
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++, r++) {
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy * sh - pads[0] + ky * dh;
          if (iy < 0 || iy >= H) continue;
          for (let ox = 0; ox < ow; ox++) {
            const ix = ox * sw - pads[2] + kx * dw;
            if (ix >= 0 && ix < W) gx[off + (c * H + iy) * W + ix] += cols[r * ld + col0 + oy * ow + ox];
          }
        }
      }
    }
  }
}

// [C, H, W, kh, kw, stride, dilation, pads [top, bottom, left, right]]
const cases: [string, number, number, number, number, number, [number, number], [number, number], Pads][] = [
  ["3x3 s=2 p=1, 11x11", 3, 11, 11, 3, 3, [2, 2], [1, 1], [1, 1, 1, 1]],
  ["1x1 s=2 (downsample), 8x8", 4, 8, 8, 1, 1, [2, 2], [1, 1], [0, 0, 0, 0]],
  ["3x3 s=[2,3] p=[0,2,1,3], 10x13", 2, 10, 13, 3, 3, [2, 3], [1, 1], [0, 2, 1, 3]],
  ["3x2 s=3 d=2 p=4 (beyond the kernel), 9x7", 2, 9, 7, 3, 2, [3, 3], [2, 2], [4, 4, 4, 4]],
  ["7x7 s=2 p=3 (ImageNet stem), 15x15", 1, 15, 15, 7, 7, [2, 2], [1, 1], [3, 3, 3, 3]],
  ["2x2 s=1 d=[1,3] p=[1,0,0,2], 5x6", 3, 5, 6, 2, 2, [1, 1], [1, 3], [1, 0, 0, 2]],
];

describe("col2im: clipped column ranges = per-element bounds checks, bit for bit", () => {
  for (const [name, C, H, W, kh, kw, stride, dilation, pads] of cases) {
    it(name, () => {
      const oh = Math.floor((H + pads[0] + pads[1] - dilation[0] * (kh - 1) - 1) / stride[0]) + 1;
      const ow = Math.floor((W + pads[2] + pads[3] - dilation[1] * (kw - 1) - 1) / stride[1]) + 1;
      const P = oh * ow;
      const ld = 3 * P + 5;
      const col0 = P + 2;
      const cols = Float32Array.from(detUniform(7, C * kh * kw * ld), (v) => v - 0.5);
      const base = Float32Array.from(detUniform(1e6, C * H * W + 9), (v) => v - 0.5);
      const want = base.slice();
      const got = base.slice();
      col2imChecked(cols, col0, ld, want, 9, C, H, W, kh, kw, stride, dilation, pads, oh, ow);
      col2im(cols, col0, ld, got, 9, C, H, W, kh, kw, stride, dilation, pads, oh, ow);
      expect(Array.from(new Uint32Array(got.buffer))).toEqual(Array.from(new Uint32Array(want.buffer)));
    });
  }
});
