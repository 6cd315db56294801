/**
 * The convolution's gradients on the fast kernels (`conv2dGradients`: dX by a convolution of dY
 * with the flipped weight at stride 1, by one GEMM + col2im per chunk of images otherwise; dW by
 * one GEMM per chunk over WASM im2col columns) against the per-image reference
 * (`conv2dGradientsReference`, itself checked against PyTorch through the autograd fixtures).
 *
 * Tolerance: both sum the same products in different orders (Winograd's transforms for 3x3
 * stride 1), so they agree to float32 rounding of sums of up to K·N·oh·ow terms: 1e-5 relative to
 * the largest gradient entry.
 */
import { afterEach, describe, expect, it } from "vitest";
import { _setConvBackwardChunkFloats, conv2dGradients, conv2dGradientsReference, type Conv2dGradientArgs } from "../../src/tensor/conv_backward.js";
import type { Pads } from "../../src/tensor/conv.js";
import { detUniform } from "../helpers.js";

interface Case {
  x: [number, number, number, number];
  w: [number, number, number, number];
  stride?: [number, number];
  pads?: Pads;
  dilation?: [number, number];
  groups?: number;
}

function args(c: Case, seed: number): Conv2dGradientArgs {
  const [N, , H, W] = c.x;
  const [Cout, , kh, kw] = c.w;
  const stride = c.stride ?? [1, 1];
  const pads = c.pads ?? [0, 0, 0, 0];
  const dilation = c.dilation ?? [1, 1];
  const oh = Math.floor((H + pads[0] + pads[1] - dilation[0] * (kh - 1) - 1) / stride[0]) + 1;
  const ow = Math.floor((W + pads[2] + pads[3] - dilation[1] * (kw - 1) - 1) / stride[1]) + 1;
  const f32 = (off: number, n: number): Float32Array => Float32Array.from(detUniform(off, n), (v) => 2 * v - 1);
  return {
    x: f32(seed, c.x.reduce((a, b) => a * b)), xShape: c.x,
    weight: f32(seed + 100_000, c.w.reduce((a, b) => a * b)), wShape: c.w,
    gOut: f32(seed + 200_000, N * Cout * oh * ow), oh, ow,
    stride, pads, dilation, groups: c.groups ?? 1, needInput: true, needWeight: true,
  };
}

function expectNear(actual: Float32Array | null, expected: Float32Array | null, what: string): void {
  expect(actual, what).not.toBeNull();
  expect(actual!.length, what).toBe(expected!.length);
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < expected!.length; i++) {
    scale = Math.max(scale, Math.abs(expected![i]));
    worst = Math.max(worst, Math.abs(actual![i] - expected![i]));
  }
  expect(worst, `${what}: max |diff| ${worst} at scale ${scale}`).toBeLessThanOrEqual(1e-5 * scale);
}

const cases: [string, Case][] = [
  ["x=[2,16,10,10] w=[16,16,3,3] p=1 (Winograd dX)", { x: [2, 16, 10, 10], w: [16, 16, 3, 3], pads: [1, 1, 1, 1] }],
  ["x=[3,5,9,7] w=[6,5,3,3] p=1 (few channels)", { x: [3, 5, 9, 7], w: [6, 5, 3, 3], pads: [1, 1, 1, 1] }],
  ["x=[2,8,11,11] w=[12,8,3,3] s=2 p=1", { x: [2, 8, 11, 11], w: [12, 8, 3, 3], stride: [2, 2], pads: [1, 1, 1, 1] }],
  ["x=[2,8,8,8] w=[16,8,1,1] s=2 (downsample)", { x: [2, 8, 8, 8], w: [16, 8, 1, 1], stride: [2, 2] }],
  ["x=[2,6,9,9] w=[4,6,5,5] p=2 d=1", { x: [2, 6, 9, 9], w: [4, 6, 5, 5], pads: [2, 2, 2, 2] }],
  ["x=[1,4,12,12] w=[4,4,3,3] d=2 p=2", { x: [1, 4, 12, 12], w: [4, 4, 3, 3], dilation: [2, 2], pads: [2, 2, 2, 2] }],
  ["x=[2,8,7,7] w=[8,2,3,3] groups=4 p=1", { x: [2, 8, 7, 7], w: [8, 2, 3, 3], groups: 4, pads: [1, 1, 1, 1] }],
  ["x=[2,8,7,7] w=[8,1,3,3] depthwise p=1", { x: [2, 8, 7, 7], w: [8, 1, 3, 3], groups: 8, pads: [1, 1, 1, 1] }],
  ["x=[2,3,6,8] w=[5,3,3,2] pads=[0,2,3,1] (asymmetric)", { x: [2, 3, 6, 8], w: [5, 3, 3, 2], pads: [0, 2, 3, 1] }],
  ["x=[2,3,5,5] w=[4,3,3,3] pads=[4,3,3,5] (beyond the kernel)", { x: [2, 3, 5, 5], w: [4, 3, 3, 3], pads: [4, 3, 3, 5] }],
  ["x=[2,4,9,9] w=[6,4,3,3] s=[2,1] p=1 d=[1,2]", { x: [2, 4, 9, 9], w: [6, 4, 3, 3], stride: [2, 1], pads: [1, 1, 2, 2], dilation: [1, 2] }],
];

describe("conv2dGradients (fast kernels) against the per-image reference", () => {
  afterEach(() => _setConvBackwardChunkFloats(1 << 22));

  for (const [name, c] of cases) {
    it(name, () => {
      const a = args(c, 7);
      const ref = conv2dGradientsReference(a);
      const got = conv2dGradients(a);
      expectNear(got.gInput, ref.gInput, "dX");
      expectNear(got.gWeight, ref.gWeight, "dW");
    });
  }

  it("x=[5,8,6,6] w=[8,8,3,3] s=2: a batch split into chunks of one and two images gives the same sums", () => {
    const a = args({ x: [5, 8, 6, 6], w: [8, 8, 3, 3], stride: [2, 2], pads: [1, 1, 1, 1] }, 11);
    const ref = conv2dGradientsReference(a);
    for (const floats of [72 * 9, 2 * 72 * 9]) {
      _setConvBackwardChunkFloats(floats);
      const got = conv2dGradients(a);
      expectNear(got.gInput, ref.gInput, `dX, chunk ${floats}`);
      expectNear(got.gWeight, ref.gWeight, `dW, chunk ${floats}`);
    }
  });

  it("only the gradients asked for are computed", () => {
    const a = { ...args({ x: [1, 4, 6, 6], w: [4, 4, 3, 3], pads: [1, 1, 1, 1] }, 3), needInput: false };
    const got = conv2dGradients(a);
    expect(got.gInput).toBeNull();
    expectNear(got.gWeight, conv2dGradientsReference(a).gWeight, "dW");
  });

  it("a changed weight (same array, new version) gives the new weight's input gradient", async () => {
    const { bumpStorageVersion } = await import("../../src/tensor/tensor.js");
    const a = args({ x: [1, 16, 8, 8], w: [16, 16, 3, 3], pads: [1, 1, 1, 1] }, 5);
    conv2dGradients(a);
    for (let i = 0; i < a.weight.length; i++) a.weight[i] *= -0.5;
    bumpStorageVersion(a.weight);
    expectNear(conv2dGradients(a).gInput, conv2dGradientsReference(a).gInput, "dX after the weight changed");
  });
});
