/**
 * Activations inside the convolution kernels' epilogue (`act`): an activation kernel is matched
 * to the WASM `act` kind with its exact bits (or to none), and a convolution that runs it inside
 * (GEMM 1x1 and im2col, depthwise stride 1 and 2, with a residual or not) gives the bits of the
 * convolution with the epilogue followed by the activation's own kernel. No tolerance.
 */
import { describe, expect, it } from "vitest";
import { Generator, kernels, Tensor } from "../../src/index.js";
import { epilogueActivation } from "../../src/tensor/actepilogue.js";
import { hardsigmoidKernel, hardswishKernel, reluKernel, sigmoidKernel, siluKernel, leakyReluKernel } from "../../src/tensor/activation.js";
import { acquire, release } from "../../src/tensor/arena.js";

const gen = new Generator(20261129);
const rnd = (shape: number[]): Tensor => kernels.randn(shape, gen);
const u32 = (a: Float32Array): Uint32Array => new Uint32Array(a.slice().buffer);

describe("epilogueActivation: a kernel's WASM act kind, verified on a probe", () => {
  it("SiLU, sigmoid, Hardswish, Hardsigmoid have one; ReLU and kernels with parameters have none", () => {
    for (const k of [siluKernel, sigmoidKernel, hardswishKernel, hardsigmoidKernel]) expect(epilogueActivation(k, [])).toBeGreaterThan(0);
    expect(new Set([siluKernel, sigmoidKernel, hardswishKernel, hardsigmoidKernel].map((k) => epilogueActivation(k, []))).size).toBe(4);
    expect(epilogueActivation(reluKernel, [])).toBe(0);
    expect(epilogueActivation(leakyReluKernel as never, [0.1])).toBe(0);
    expect(epilogueActivation(((s: Float32Array, d: Float32Array, n: number) => siluKernel(s, d, n)) as never, [])).toBeGreaterThan(0);
    expect(epilogueActivation(((s: Float32Array, d: Float32Array, n: number) => { siluKernel(s, d, n); if (n > 5) d[5] = 0; }) as never, [])).toBe(0);
  });
});

describe("a convolution running the activation in its kernels = epilogue, then the activation's kernel", () => {
  // [cin, cout, h, w, k, stride, groups]: 1x1 (GEMM), 3x3 stride 2 (im2col), depthwise 3x3/5x5 at strides 1 and 2; odd sizes.
  const shapes = [[16, 40, 13, 11, 1, 1, 1], [8, 24, 15, 9, 3, 2, 1], [24, 24, 17, 13, 3, 1, 24], [24, 24, 17, 13, 5, 2, 24], [32, 32, 7, 7, 3, 2, 32], [3, 5, 3, 5, 1, 1, 1]] as const;
  for (const [cin, cout, h, w, k, stride, groups] of shapes) {
    for (const [name, kernel] of [["SiLU", siluKernel], ["Hardswish", hardswishKernel], ["sigmoid", sigmoidKernel]] as const) {
      for (const withResidual of [false, true]) {
        it(`x=[1,${cin},${h},${w}] w=[${cout},${cin / groups},${k},${k}] s=${stride} groups=${groups}, ${name}${withResidual ? ", residual" : ""}`, () => {
          const x = rnd([1, cin, h, w]);
          const wt = rnd([cout, cin / groups, k, k]);
          const args: kernels.Conv2dArgs = { stride: [stride, stride], padding: [k >> 1, k >> 1], groups };
          const scale = Float64Array.from({ length: cout }, (_, i) => 0.5 + i / cout);
          const shift = Float64Array.from({ length: cout }, (_, i) => i / 7 - 1);
          const n = kernels.conv2d(x, wt, null, args).numel();
          const residual = withResidual ? (rnd([n]).data as Float32Array) : null;
          const want = kernels.conv2d(x, wt, null, args, { scale, shift, relu: false, residual }).data as Float32Array;
          kernel(want, want, want.length);
          const act = epilogueActivation(kernel, []);
          const out = acquire(n);
          try {
            const epilogue = { scale, shift, relu: false, residual, act, actDone: false };
            const got = kernels.conv2d(x, wt, null, args, epilogue, out).data as Float32Array;
            expect(epilogue.actDone).toBe(true);
            expect(u32(got)).toEqual(u32(want));
          } finally {
            release(out);
          }
        });
      }
    }
  }
});
