/**
 * torchvision's AlexNet (test/fixtures/models/alexnet.json, scripts/make_zoo_classic_fixtures.py):
 * printout byte for byte, state-dict keys/shapes/order, options, eval logits at x=[1,3,64,64] for
 * deterministic weights. Logit tolerance: 10 × PyTorch's own float32-vs-float64 difference
 * (1.2e-6 with logits up to 0.57, so atol 1.2e-5); see test/models/family.ts.
 */
import { describe, expect, it } from "vitest";
import { full, models, nn, noGrad } from "../../src/index.js";
import { describeFamily, loadFamily } from "./family.js";

describeFamily(loadFamily("alexnet"), { title: "AlexNet", builders: { alexnet: models.alexnet }, logits: { factor: 10 } });

describe("AlexNet (torchvision.models.alexnet)", () => {
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

  it("x=[1,3,63,63], the smallest input, runs to [1, numClasses]", () => {
    const m = nn.init.skipInit(() => models.alexnet({ numClasses: 10 })).eval();
    expect(noGrad(() => m.call(full([1, 3, 63, 63], 0.5))).shape).toEqual([1, 10]);
  });
});
