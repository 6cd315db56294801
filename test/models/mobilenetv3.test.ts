/**
 * MobileNetV3 (small and large) against torchvision 0.14 (fixtures:
 * scripts/make_zoo_mobile_fixtures.py → test/fixtures/models/mobilenetv3.json): printouts byte for
 * byte, state-dict keys/shapes/order, option variants (reducedTail, dilated, widthMult, dropout,
 * numClasses), and eval logits for deterministic weights (every float entry redrawn by
 * `detStateDict`, BatchNorm running stats non-trivial). `summary` totals of mobilenet_v3_large at
 * 1x3x224x224 (parameters; Conv2d + Linear mult-adds) equal PyTorch's forward-hook counts exactly.
 *
 * Tolerance: PyTorch's own float32-vs-float64 difference of these logits is at most 8.7e-5 for
 * mobilenet_v3_large at 1x3x64x64 (|y| up to 27), 1.0e-7 for mobilenet_v3_small at 2x3x48x40 (|y| up
 * to 0.17) and 2.7e-8 for the dilated reduced-tail small model. Measured: tsnn's logits differ from
 * PyTorch's float32 ones by 1.1e-4, 1.0e-7 and 1.9e-8 (1.3x, 1.0x and 0.7x PyTorch's own float32
 * error). Tolerance: atol = 5 x PyTorch's float32-vs-float64 difference of the case + 1e-6,
 * rtol 1e-5.
 */
import { describe, expect, it } from "vitest";
import { models, nn, noGrad, ops, summary } from "../../src/index.js";
import { describeFamily, loadFamily } from "./family.js";

const fam = loadFamily("mobilenetv3");
const F = fam.raw;
describeFamily(fam, { title: "MobileNetV3", builders: { mobilenet_v3_small: models.mobilenet_v3_small, mobilenet_v3_large: models.mobilenet_v3_large }, logits: { factor: 5, atol: 1e-6, rtol: 1e-5 } });

describe("MobileNetV3 structure", () => {
  const { InvertedResidualConfig, _mobilenetV3Conf } = models.mobilenetv3;

  it("the large table: 15 blocks, last width 1280; small: 11 blocks, 1024", () => {
    const [large, lastL] = _mobilenetV3Conf("mobilenet_v3_large");
    expect(large.length).toBe(15);
    expect(lastL).toBe(1280);
    const [small, lastS] = _mobilenetV3Conf("mobilenet_v3_small", { reducedTail: true });
    expect(small.length).toBe(11);
    expect(lastS).toBe(512);
    expect(small[10].outChannels).toBe(48);
  });

  it("squeeze-excitation gates with Hardsigmoid, as torchvision's partial(SElayer, scale_activation=nn.Hardsigmoid)", () => {
    const m = nn.init.skipInit(() => models.mobilenet_v3_small());
    const se = (m.features.at(1) as models.mobilenetv3.InvertedResidual).block.at(1);
    expect(se).toBeInstanceOf(ops.SqueezeExcitation);
    expect((se as ops.SqueezeExcitation).scale_activation).toBeInstanceOf(nn.Hardsigmoid);
  });

  it("errors: empty setting, wrong setting type, unknown arch, bad stride", () => {
    expect(() => new models.MobileNetV3([], 1280)).toThrow("The inverted_residual_setting should not be empty");
    expect(() => new models.MobileNetV3([[1, 2]] as any, 1280)).toThrow("The inverted_residual_setting should be List[InvertedResidualConfig]");
    expect(() => _mobilenetV3Conf("mobilenet_v3_tiny")).toThrow("Unsupported model type mobilenet_v3_tiny");
    const cnf = new InvertedResidualConfig(16, 3, 16, 16, false, "RE", 3, 1, 1.0);
    expect(() => new models.mobilenetv3.InvertedResidual(cnf, nn.BatchNorm2d)).toThrow("illegal stride value");
  });
});

describe("summary(mobilenet_v3_large) totals equal PyTorch's hook counts", () => {
  it("x=[1,3,224,224]: params and Conv2d + Linear mult-adds", () => {
    const s = F.summary;
    const got = noGrad(() => summary(nn.init.skipInit(() => models.mobilenet_v3_large()), s.input)); // counts do not depend on the values
    expect(got.totalParams).toBe(s.totalParams);
    expect(got.totalMultAdds).toBe(s.multAdds);
  });
});
