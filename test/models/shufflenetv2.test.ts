/**
 * ShuffleNetV2 (x0.5, x1.0, x1.5, x2.0) against torchvision 0.14 (fixtures:
 * scripts/make_zoo_mobile_fixtures.py → test/fixtures/models/shufflenetv2.json): printouts byte
 * for byte (stride-1 units print an empty `(branch1): Sequential()`), state-dict keys/shapes/order,
 * a numClasses variant, the channel shuffle, and eval logits for deterministic weights (every
 * float entry redrawn by `detStateDict`, BatchNorm running stats non-trivial).
 *
 * Tolerance: PyTorch's own float32-vs-float64 difference of these logits is at most 1.2e-4 for
 * shufflenet_v2_x0_5 at 1x3x64x64 (|y| up to 127) and 2.2e-5 for shufflenet_v2_x1_0 at 2x3x40x48
 * (|y| up to 26).
 * Measured: tsnn's logits differ from PyTorch's float32 ones by 1.7e-4 and 3.7e-5 (1.5x and 1.7x
 * PyTorch's own float32 error). Tolerance: atol = 5 x PyTorch's float32-vs-float64 difference
 * of the case + 1e-6, rtol 1e-5.
 */
import { describe, expect, it } from "vitest";
import { models, tensor } from "../../src/index.js";
import { describeFamily, loadFamily } from "./family.js";

const fam = loadFamily("shufflenetv2");
describeFamily(fam, { title: "ShuffleNetV2", builders: {
    shufflenet_v2_x0_5: models.shufflenet_v2_x0_5,
    shufflenet_v2_x1_0: models.shufflenet_v2_x1_0,
    shufflenet_v2_x1_5: models.shufflenet_v2_x1_5,
    shufflenet_v2_x2_0: models.shufflenet_v2_x2_0,
  }, logits: { factor: 5, atol: 1e-6, rtol: 1e-5 } });

describe("ShuffleNetV2 structure", () => {
  it("channelShuffle x=[1,6,1,1] groups=2 interleaves the halves: 0 3 1 4 2 5", () => {
    const x = tensor([0, 1, 2, 3, 4, 5], [1, 6, 1, 1]);
    const y = models.shufflenetv2.channelShuffle(x, 2);
    expect(y.shape).toEqual([1, 6, 1, 1]);
    expect(Array.from(y.contiguous().data as Float32Array)).toEqual([0, 3, 1, 4, 2, 5]);
  });

  it("errors: torchvision's texts", () => {
    const { InvertedResidual, ShuffleNetV2 } = models.shufflenetv2;
    expect(() => new InvertedResidual(24, 48, 4)).toThrow("illegal stride value");
    expect(() => new InvertedResidual(24, 58, 1)).toThrow(
      "Invalid combination of stride 1, inp 24 and oup 58 values. If stride == 1 then inp should be equal to oup // 2 << 1.",
    );
    expect(() => new ShuffleNetV2([4, 8], [24, 48, 96, 192, 1024])).toThrow("expected stages_repeats as list of 3 positive ints");
    expect(() => new ShuffleNetV2([4, 8, 4], [24, 48, 96, 192])).toThrow("expected stages_out_channels as list of 5 positive ints");
  });
});
