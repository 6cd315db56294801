/**
 * torchvision's VGG 11/13/16/19 with and without BatchNorm (test/fixtures/models/vgg.json,
 * scripts/make_zoo_classic_fixtures.py): every builder's printout byte for byte, state-dict
 * keys/shapes/order, options, torchvision's init, and vgg11_bn eval logits at x=[1,3,64,64] for
 * deterministic weights (BatchNorm running stats non-trivial). Logit tolerance: 10 × PyTorch's own
 * float32-vs-float64 difference for that case (see test/models/family.ts and the fixture).
 */
import { describe, expect, it } from "vitest";
import { models, nn } from "../../src/index.js";
import { camelOpts, describeFamily, loadFamily } from "./family.js";

const fam = loadFamily("vgg");
const { vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn } = models;
describeFamily(fam, { title: "VGG", builders: { vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn }, logits: { factor: 10 } });

describe("VGG (torchvision.models.vgg*)", () => {
  it("initWeights: false keeps PyTorch's default layer init: conv biases are not zeroed", () => {
    const v = fam.variants.find((x) => x.builder === "vgg11" && x.kwargs.init_weights === false)!;
    const m = models.vgg11(camelOpts(v.kwargs));
    expect([...m.stateDict().get("features.0.bias")!.data].some((x) => x !== 0)).toBe(true);
  });

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
});
