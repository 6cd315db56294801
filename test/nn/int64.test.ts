/**
 * Float-only kernels given an int64 input refuse it with PyTorch's message (`"max_pool2d" not
 * implemented for 'Long'`), not a JavaScript BigInt error. Texts: scripts/make_layer_fixtures.py
 * (PyTorch 1.13) → test/fixtures/layers/errors.json; input x=[1,2,4,4] (x=[1,2,4] for 1-D pad).
 */
import { describe, expect, it } from "vitest";
import { nn, zeros, type Tensor } from "../../src/index.js";
import { fixture } from "../helpers.js";

const F = nn.functional;
const errs = fixture<Record<string, [string, string]>>("layers/errors.json");
// The functional API is typed for float32 inputs; the point here is what a JS caller gets at run time.
const x = () => zeros([1, 2, 4, 4], { dtype: "int64" }) as unknown as Tensor;

const cases: Record<string, () => unknown> = {
  "int64 F.batch_norm": () => F.batchNorm(x(), zeros(2), zeros(2).add(1)),
  "int64 F.layer_norm": () => F.layerNorm(x(), [4]),
  "int64 F.group_norm": () => F.groupNorm(x(), 1),
  "int64 F.interpolate nearest": () => F.interpolate(x(), { scaleFactor: 2 }),
  "int64 F.interpolate bilinear": () => F.interpolate(x(), { scaleFactor: 2, mode: "bilinear" }),
  "int64 F.interpolate bicubic": () => F.interpolate(x(), { scaleFactor: 2, mode: "bicubic" }),
  "int64 F.pad reflect 2d": () => F.pad(x(), [1, 1, 1, 1], "reflect"),
  "int64 F.pad replicate 1d": () => F.pad(zeros([1, 2, 4], { dtype: "int64" }) as unknown as Tensor, [1, 1], "replicate"),
  "int64 F.max_pool2d": () => F.maxPool2d(x(), 2),
  "int64 F.adaptive_avg_pool2d": () => F.adaptiveAvgPool2d(x(), 2),
  "int64 F.adaptive_max_pool2d": () => F.adaptiveMaxPool2d(x(), 2),
};

describe("float-only kernels refuse int64 input as PyTorch does", () => {
  for (const [name, fn] of Object.entries(cases)) {
    it(`${name}: ${errs[name][1]}`, () => {
      let caught: Error | null = null;
      try {
        fn();
      } catch (e) {
        caught = e as Error;
      }
      expect(caught && [caught.name, caught.message]).toEqual(errs[name]);
    });
  }
});
