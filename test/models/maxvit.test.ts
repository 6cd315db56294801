/**
 * maxvit_t against torchvision 0.14 (scripts/make_transformer_fixtures.py →
 * test/fixtures/models/maxvit.json): printout byte for byte, state-dict keys/shapes/dtypes in order,
 * parameter count, and eval logits at 224 px (the smallest input maxvit_t accepts: every block's
 * input must be a multiple of the partition size 7), batch 1, every float entry redrawn by
 * `detStateDict`.
 *
 * Tolerance: PyTorch's own float32 logits differ from its float64 ones by at most 1.1e-5 (logits up
 * to 0.86; fixture field `f32VsF64`); tsnn must be within 10x that of PyTorch's float32 logits.
 */
import { describe, expect, it } from "vitest";
import { nn, noGrad, Tensor } from "../../src/index.js";
import * as maxvit from "../../src/models/maxvit.js";
import { dec, detStateDict, detTensor, expectClose, fixture } from "../helpers.js";

const fx = fixture("models/maxvit.json");
const builders = maxvit as unknown as Record<string, (o?: any) => nn.Module>;

describe("maxvit: printout and state-dict keys (torchvision 0.14)", () => {
  for (const b of fx.builders) {
    it(`${b.name}: ${b.keys.length} keys, ${b.numParams.toLocaleString("en-US")} parameters`, () => {
      const m = builders[b.name]();
      expect(m.toString()).toBe(b.repr);
      expect([...m.stateDict()].map(([k, t]) => [k, t.shape, t.dtype])).toEqual(b.keys);
      let n = 0;
      for (const p of m.parameters()) n += p.numel();
      expect(n).toBe(b.numParams);
    });
  }

  for (const e of fx.errors) {
    it(`inputSize ${JSON.stringify(e.kwargs.inputSize)}: torchvision's error`, () => {
      expect(() => maxvit.maxvit_t(e.kwargs)).toThrow(e.error);
    });
  }
});

describe("maxvit: eval logits for redrawn weights", () => {
  for (const c of fx.logits) {
    it(`${c.builder} x=[${c.input[1]}]`, () => {
      const m = nn.init.skipInit(() => builders[c.builder](c.kwargs)).eval(); // every float entry is redrawn below
      detStateDict(m, c.seed);
      const y = noGrad(() => m.call(detTensor(c.input[0], c.input[1]))) as Tensor; // PyTorch: with torch.no_grad()
      expectClose(y, dec(c.logits), { atol: 10 * c.f32VsF64.maxAbs, rtol: 0 }, c.builder);
    });
  }
});
