/**
 * torchvision's AlexNet (test/fixtures/models/alexnet.json, scripts/make_zoo_classic_fixtures.py):
 * printout byte for byte, state-dict keys/shapes/order, options, eval logits at x=[1,3,64,64] for
 * deterministic weights. Logit tolerance: 10 × PyTorch's own float32-vs-float64 difference
 * (1.2e-6 with logits up to 0.57, so atol 1.2e-5); see test/models/zoo_classic.ts.
 */
import { describe, expect, it } from "vitest";
import { full, models, nn } from "../../src/index.js";
import { buildForLogits, camelOpts, checkLogits, checkTree, familyFixture } from "./zoo_classic.js";

const fx = familyFixture("alexnet");

describe("AlexNet (torchvision.models.alexnet)", () => {
  it("alexnet(): printout, state dict, parameter count", () => {
    checkTree(nn.init.skipInit(() => models.alexnet()), fx.builders.alexnet);
  });

  for (const v of fx.variants) {
    it(`alexnet(${JSON.stringify(v.kwargs)}): printout and state dict`, () => {
      checkTree(nn.init.skipInit(() => models.alexnet(camelOpts(v.kwargs))), v);
    });
  }

  it("init: PyTorch's default layer init (Linear/Conv2d kaiming-uniform(a=√5) bounds)", () => {
    const m = models.alexnet();
    const w = m.classifier.at(1) as nn.Linear;
    const bound = 1 / Math.sqrt(256 * 6 * 6);
    const d = w.weight.data;
    let max = 0;
    for (let i = 0; i < d.length; i++) max = Math.max(max, Math.abs(d[i]));
    expect(max).toBeLessThanOrEqual(bound * (1 + 1e-6)); // float32 rounding of the draws
    expect(max).toBeGreaterThan(0.99 * bound);
  });

  for (const c of fx.logits) {
    it(`${c.builder} eval logits x=[${c.input[0]}] match PyTorch`, () => {
      checkLogits(buildForLogits(() => models.alexnet(camelOpts(c.kwargs))), c);
    });
  }

  it("x=[1,3,63,63], the smallest input, runs to [1, numClasses]", () => {
    const m = nn.init.skipInit(() => models.alexnet({ numClasses: 10 })).eval();
    expect(m.call(full([1, 3, 63, 63], 0.5)).shape).toEqual([1, 10]);
  });
});
