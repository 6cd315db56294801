/**
 * torchvision's VGG 11/13/16/19 with and without BatchNorm (test/fixtures/models/vgg.json,
 * scripts/make_zoo_classic_fixtures.py): every builder's printout byte for byte, state-dict
 * keys/shapes/order, options, torchvision's init, and vgg11_bn eval logits at x=[1,3,64,64] for
 * deterministic weights (BatchNorm running stats non-trivial). Logit tolerance: 10 × PyTorch's own
 * float32-vs-float64 difference for that case (see test/models/zoo_classic.ts and the fixture).
 */
import { describe, expect, it } from "vitest";
import { models, nn } from "../../src/index.js";
import { buildForLogits, camelOpts, checkLogits, checkTree, familyFixture } from "./zoo_classic.js";

const fx = familyFixture("vgg");
const build = models as unknown as Record<string, (opts?: object) => nn.Module>;

describe("VGG (torchvision.models.vgg*)", () => {
  for (const [name, want] of Object.entries(fx.builders)) {
    it(`${name}(): printout, state dict, parameter count`, () => {
      checkTree(nn.init.skipInit(() => build[name]()), want);
    });
  }

  for (const v of fx.variants) {
    it(`${v.builder}(${JSON.stringify(v.kwargs)}): printout and state dict`, () => {
      const m = build[v.builder](camelOpts(v.kwargs));
      checkTree(m, v);
      // init_weights=False keeps PyTorch's default layer init: conv biases are not zeroed
      if (v.kwargs.init_weights === false) expect([...(m.stateDict().get("features.0.bias")!.data)].some((x) => x !== 0)).toBe(true);
    });
  }

  it("init: convs kaiming-normal(fan_out) with zero bias, BatchNorm 1/0, linears N(0, 0.01) with zero bias", () => {
    const m = models.vgg11_bn({ numClasses: 10 });
    const conv = (m.features as nn.Sequential).at(4) as nn.Conv2d; // 64 → 128, 3x3
    const std = (t: Float32Array): number => Math.sqrt(t.reduce((s, v) => s + v * v, 0) / t.length);
    expect(std(conv.weight.data as Float32Array)).toBeCloseTo(Math.sqrt(2 / (128 * 9)), 3);
    expect([...conv.bias!.data].every((v) => v === 0)).toBe(true);
    const bn = (m.features as nn.Sequential).at(1) as nn.BatchNorm2d;
    expect([...bn.weight!.data].every((v) => v === 1)).toBe(true);
    const fc = m.classifier.at(6) as nn.Linear;
    expect(std(fc.weight.data as Float32Array)).toBeCloseTo(0.01, 3);
    expect([...fc.bias!.data].every((v) => v === 0)).toBe(true);
  });

  for (const c of fx.logits) {
    it(`${c.builder} eval logits x=[${c.input[0]}] match PyTorch`, () => {
      checkLogits(buildForLogits(() => build[c.builder](camelOpts(c.kwargs))), c);
    }, 60_000);
  }
});
