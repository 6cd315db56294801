/**
 * torchvision's SqueezeNet 1.0/1.1 (test/fixtures/models/squeezenet.json,
 * scripts/make_zoo_classic_fixtures.py): printouts byte for byte, state-dict keys/shapes/order,
 * options, torchvision's init, eval logits of both builders at 64x64 for deterministic weights.
 * Logit tolerance: 10 × PyTorch's own float32-vs-float64 difference for each case (squeezenet1_0
 * x=[2,3,64,64]: 3.9e-6 with logits up to 15; squeezenet1_1 x=[1,3,64,64]: 1.9e-6 with logits up
 * to 5.7); see test/models/family.ts.
 */
import { describe, expect, it } from "vitest";
import { models, nn, ValueError } from "../../src/index.js";
import { describeFamily, loadFamily } from "./family.js";

const { squeezenet1_0, squeezenet1_1 } = models;
describeFamily(loadFamily("squeezenet"), { title: "SqueezeNet", builders: { squeezenet1_0, squeezenet1_1 }, logits: { factor: 10 } });

describe("SqueezeNet (torchvision.models.squeezenet1_0/1_1)", () => {
  it("init: final conv N(0, 0.01), other convs kaiming-uniform (bound √6/√fan_in), all biases 0", () => {
    const m = models.squeezenet1_1();
    const final = m.classifier.at(1) as nn.Conv2d;
    const w = final.weight.data as Float32Array;
    const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    expect(std).toBeCloseTo(0.01, 3);
    const fire = m.features.at(3) as models.Fire;
    const bound = Math.sqrt(6 / (16 * 9));
    const e = fire.expand3x3.weight.data as Float32Array;
    const max = e.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
    expect(max).toBeLessThanOrEqual(bound * (1 + 1e-6)); // float32 rounding of the draws
    expect(max).toBeGreaterThan(0.98 * bound);
    for (const [k, t] of m.stateDict()) if (k.endsWith("bias")) expect([...t.data].every((v) => v === 0)).toBe(true);
  });

  it("an unknown version is refused with torchvision's message", () => {
    expect(() => new models.SqueezeNet("2_0" as "1_0")).toThrow(ValueError);
    expect(() => new models.SqueezeNet("2_0" as "1_0")).toThrow("Unsupported SqueezeNet version 2_0: 1_0 or 1_1 expected");
  });
});
