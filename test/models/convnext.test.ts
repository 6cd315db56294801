/**
 * ConvNeXt Tiny/Small/Base/Large against torchvision 0.14 (fixtures:
 * scripts/make_zoo_modern_fixtures.py → test/fixtures/models/convnext.json).
 *
 * - Every builder: printout byte for byte, state-dict keys/shapes/dtypes in order (`layer_scale`,
 *   a block's own parameter, comes before its children's), parameter count.
 * - Eval logits at x=[1,3,64,64] (tiny) and x=[2,3,40,40] (small, 10 classes) with every float entry
 *   of the state dict redrawn by `det_state_dict`/`detStateDict` (so `layer_scale` is about 1, not
 *   1e-6, and every block contributes).
 * - A small ConvNeXt built from the classes with a custom block setting, its random weights saved
 *   by torch.save (test/fixtures/models/convnext_tiny_custom.pth): loads strictly, same logits.
 * - Train mode with the random layers off: logits and BatchNorm running statistics after one
 *   step, for the same redrawn weights (tolerance as below; running stats also 2e-7 relative).
 * - Tolerance: atol = 4 x PyTorch's own max |float32 - float64| logit difference for the same
 *   weights and input (fixture `f32VsF64MaxAbs`: tiny 2.9e-6 at |logit| <= 1.9, small 1.7e-6 at
 *   1.1), rtol 0: tsnn sums in another order (partly in double), so it may differ from PyTorch's
 *   float32 by about PyTorch's own float32 error. Measured max |tsnn - PyTorch|: tiny 2.3e-6,
 *   small 1.6e-6 (0.8-0.93 x PyTorch's f32-vs-f64; `TSNN_VERBOSE=1` prints it). Shared checks:
 *   test/models/family.ts.
 */
import { describe, expect, it } from "vitest";
import { nn, type Tensor } from "../../src/index.js";
import * as cn from "../../src/models/convnext.js";
import { detTensor, expectClose } from "../helpers.js";
import { describeCheckpoint, describeFamily, describeTrainSteps, expectInitLike, loadFamily, stats } from "./family.js";

const fam = loadFamily("convnext");
const FX = fam.raw;
const BUILDERS = { convnext_tiny: cn.convnext_tiny, convnext_small: cn.convnext_small, convnext_base: cn.convnext_base, convnext_large: cn.convnext_large };
const RULE = { factor: 4 };
const build = (name: string, opts: Record<string, unknown>): nn.Module => BUILDERS[name as keyof typeof BUILDERS](opts);

describeFamily(fam, { title: "ConvNeXt", builders: BUILDERS, logits: RULE });

describe("ConvNeXt blocks", () => {
  it("LayerNorm2d normalises over channels: x=[2,4,3,5] equals LayerNorm over NHWC, permuted back", () => {
    const ln2d = new cn.LayerNorm2d(4, { eps: 1e-6 });
    const ln = new nn.LayerNorm(4, { eps: 1e-6 });
    const x = detTensor(77, [2, 4, 3, 5], 3);
    const a = ln2d.call(x) as Tensor;
    const b = (ln.call(x.permute(0, 2, 3, 1)) as Tensor).permute(0, 3, 1, 2).contiguous();
    expectClose(a.contiguous(), b, { atol: 0, rtol: 0 }, "LayerNorm2d");
  });

  it("CNBlock: layer_scale [C,1,1] filled with layerScale; stochastic depth p per block linear to the last", () => {
    const m = nn.init.skipInit(() => cn.convnext_tiny({ stochasticDepthProb: 0.3, layerScale: 0.5 }));
    const blocks = [...m.modules()].filter((x) => x instanceof cn.CNBlock) as cn.CNBlock[];
    expect(blocks.length).toBe(18);
    expect(blocks[0].layer_scale.shape).toEqual([96, 1, 1]);
    expect(Array.from(blocks[0].layer_scale.data as Float32Array).every((v) => v === 0.5)).toBe(true);
    expect(blocks.map((b) => b.stochastic_depth.p)).toEqual(blocks.map((_, i) => (0.3 * i) / (18 - 1.0)));
  });

  it("CNBlockConfig prints as Python's repr", () => {
    expect(String(new cn.CNBlockConfig(768, null, 3))).toBe("CNBlockConfig(input_channels=768, out_channels=None, num_layers=3)");
  });

  it("rejects an empty block setting (torchvision's ValueError)", () => {
    expect(() => new cn.ConvNeXt([])).toThrow("The block_setting should not be empty");
  });
});

describe("ConvNeXt initialisation (torchvision's, from tsnn's generator)", () => {
  const sd = cn.convnext_tiny().stateDict();
  it("Conv2d and Linear weights: truncated normal, std 0.02 (within 10% of PyTorch's draw); biases 0", () => {
    for (const key of ["features.0.0.weight", "features.1.0.block.0.weight", "features.5.4.block.3.weight", "classifier.2.weight"]) {
      expectInitLike(sd, key, FX.init[key]);
      expect(stats(sd.get(key)!)[2]).toBeLessThanOrEqual(2);
    }
    for (const key of ["features.0.0.bias", "features.1.0.block.3.bias", "classifier.2.bias"]) {
      expect(Array.from(sd.get(key)!.data as Float32Array).every((v) => v === 0), key).toBe(true);
    }
  });
  it("layer_scale 1e-6 (as float32), LayerNorm weight 1 / bias 0", () => {
    expect(Array.from(sd.get("features.1.0.layer_scale")!.data as Float32Array).every((v) => v === Math.fround(1e-6))).toBe(true);
    expect(Array.from(sd.get("features.0.1.weight")!.data as Float32Array).every((v) => v === 1)).toBe(true);
    expect(Array.from(sd.get("classifier.0.bias")!.data as Float32Array).every((v) => v === 0)).toBe(true);
  });
});

describeCheckpoint(
  "two stages, layer_scale 0.5",
  FX.checkpoint,
  () => new cn.ConvNeXt([new cn.CNBlockConfig(16, 32, 2), new cn.CNBlockConfig(32, null, 1)], { stochasticDepthProb: 0.1, layerScale: 0.5, numClasses: 10 }),
  RULE,
);

// Stochastic depth p=0 (the case's kwargs); ConvNeXt has no BatchNorm or Dropout to switch off.
describeTrainSteps("ConvNeXt", FX.train, build, RULE);
