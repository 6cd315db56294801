/**
 * MobileNetV2 against torchvision 0.14 (fixtures: scripts/make_zoo_mobile_fixtures.py →
 * test/fixtures/models/mobilenetv2.json): the printout byte for byte, state-dict keys/shapes/order,
 * option variants (widthMult, roundNearest, dropout, numClasses), and eval logits for
 * deterministic weights (every float entry redrawn by `detStateDict`, BatchNorm running stats
 * non-trivial).
 *
 * Tolerance: PyTorch's own float32-vs-float64 difference of these logits is at most 2.8e-5
 * (|y| up to 4.7; 1x3x64x64) and 6.1e-6 (widthMult 0.5, 2x3x40x48).
 * Measured: tsnn's logits differ from PyTorch's float32 ones by 3.1e-5 and 1.4e-5 (1.1x and 2.3x
 * PyTorch's own float32 error). Tolerance: atol = 5 x PyTorch's float32-vs-float64 difference
 * of the case + 1e-6, rtol 1e-5.
 */
import { describe, expect, it } from "vitest";
import { models, nn, ops } from "../../src/index.js";
import { describeFamily, loadFamily } from "./family.js";

const fam = loadFamily("mobilenetv2");
const F = fam.raw;
describeFamily(fam, { title: "MobileNetV2", builders: { mobilenet_v2: models.mobilenet_v2 }, logits: { factor: 5, atol: 1e-6, rtol: 1e-5 } });

describe("MobileNetV2 structure", () => {
  it("_makeDivisible rounds as torchvision's _make_divisible", () => {
    expect(models.mobilenetv2._makeDivisible(32 * 0.5, 8)).toBe(16);
    expect(models.mobilenetv2._makeDivisible(1280 * 1.4, 8)).toBe(1792);
    expect(models.mobilenetv2._makeDivisible(3, 8)).toBe(8);
    expect(models.mobilenetv2._makeDivisible(24 * 0.35, 8)).toBe(8);
    expect(models.mobilenetv2._makeDivisible(83, 8)).toBe(80);
    expect(models.mobilenetv2._makeDivisible(71, 8)).toBe(72);
  });

  it("blocks use residuals where torchvision does", () => {
    const m = nn.init.skipInit(() => models.mobilenet_v2());
    const blocks = [...m.features].slice(1, -1) as models.mobilenetv2.InvertedResidual[];
    expect(blocks.map((b) => b.useResConnect)).toEqual([false, false, true, false, true, true, false, true, true, true, false, true, true, false, true, true, false]);
    expect(m.features.at(0)).toBeInstanceOf(ops.Conv2dNormActivation);
  });

  it("init: convs kaiming-normal fan_out, BN ones/zeros, Linear N(0, 0.01) with zero bias", () => {
    const m = models.mobilenet_v2();
    const fc = m.classifier.at(1) as nn.Linear;
    const w = fc.weight.data as Float32Array;
    let s2 = 0;
    for (const v of w) s2 += v * v;
    expect(Math.sqrt(s2 / w.length)).toBeCloseTo(0.01, 3);
    expect(Array.from(fc.bias!.data as Float32Array).every((v) => v === 0)).toBe(true);
    const conv = (m.features.at(0) as nn.Sequential).at(0) as nn.Conv2d; // 32x3x3x3, fan_out = 32*9
    const cw = conv.weight.data as Float32Array;
    let c2 = 0;
    for (const v of cw) c2 += v * v;
    expect(Math.sqrt(c2 / cw.length)).toBeGreaterThan(Math.sqrt(2 / 288) * 0.85);
    expect(Math.sqrt(c2 / cw.length)).toBeLessThan(Math.sqrt(2 / 288) * 1.15);
    const bn = (m.features.at(0) as nn.Sequential).at(1) as nn.BatchNorm2d;
    expect(Array.from(bn.weight!.data as Float32Array).every((v) => v === 1)).toBe(true);
  });

  it("MobileNetV2(10, 0.5) positionally prints as mobilenet_v2({ widthMult: 0.5, numClasses: 10 })", () => {
    expect(nn.init.skipInit(() => new models.MobileNetV2(10, 0.5)).toString()).toBe(F.variants[0].print);
  });

  it("bad settings: torchvision's errors", () => {
    expect(() => models.mobilenet_v2({ invertedResidualSetting: [] })).toThrow(
      "inverted_residual_setting should be non-empty or a 4-element list, got []",
    );
    expect(() => new models.mobilenetv2.InvertedResidual(8, 8, 3, 6)).toThrow("stride should be 1 or 2 insted of 3");
  });
});
