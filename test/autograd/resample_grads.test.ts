/**
 * Backward of F.interpolate (linear, bilinear, bicubic with alignCorners both ways, size and
 * scaleFactor, up- and downsampling; area as the adaptive average pool) and of
 * F.localResponseNorm (PyTorch's own composition of recorded ops), against PyTorch 1.13
 * (scripts/make_resample_grad_fixtures.py → test/fixtures/autograd/resample_grads.json): the
 * recorded forward's values, the node's name, and x.grad for the loss (y * w).sum().
 * Tolerance: each case stores PyTorch's float32-vs-float64 difference of x.grad ("noise": 0 to
 * 1.7e-6, largest for bicubic); x.grad must match within 4×noise + 2e-7 absolute, 1e-6 relative.
 */
import { describe, expect, it } from "vitest";
import { nn, noGrad, Tensor } from "../../src/index.js";
import { dec, expectClose, fixture, type EncTensor } from "../helpers.js";

const F = nn.functional;

interface Case {
  name: string;
  op: "interpolate" | "local_response_norm";
  kwargs: Record<string, unknown>;
  x: EncTensor;
  w: EncTensor;
  out: EncTensor;
  grad: EncTensor;
  gradFn: string;
  noise: number;
}
const camel = (k: string): string => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

describe("backward of interpolate (linear/bilinear/bicubic/area) and localResponseNorm as PyTorch's", () => {
  for (const c of fixture<Case[]>("autograd/resample_grads.json")) {
    it(`${c.name}: x=[${c.x.shape}] → [${c.out.shape}], ${c.gradFn}`, () => {
      const opts = Object.fromEntries(Object.entries(c.kwargs).map(([k, v]) => [camel(k), v]));
      const call = (x: Tensor): Tensor => {
        if (c.op === "interpolate") return F.interpolate(x, opts);
        const { size, ...rest } = opts as { size: number };
        return F.localResponseNorm(x, size, rest);
      };
      const x = (dec(c.x) as Tensor).requiresGrad_();
      const y = call(x);
      expect(y.gradFn?.name).toBe(c.gradFn);
      expectClose(y, dec(c.out), { rtol: 1e-6, atol: 1e-6 }, "output");
      expectClose(y, noGrad(() => call(x)), { rtol: 1e-6, atol: 1e-7 }, "recorded vs plain forward");
      y.mul(dec(c.w) as Tensor).sum().backward();
      expectClose(x.grad!, dec(c.grad), { atol: 4 * c.noise + 2e-7, rtol: 1e-6 }, "x.grad");
    });
  }
});
