/**
 * RegNet X and Y (all 15 builders) against torchvision 0.14 (fixtures:
 * scripts/make_zoo_modern_fixtures.py → test/fixtures/models/regnet.json).
 *
 * - `BlockParams.fromInitParams`: depths, widths, group widths of every builder and of 60 random
 *   settings (torch computes the block widths in float32; so does tsnn), and its error.
 * - Every builder: printout byte for byte, state-dict keys/shapes/dtypes in order, parameter count
 *   (built under `nn.init.skipInit`: regnet_y_128gf has 645 M parameters).
 * - Eval logits at x=[1,3,64,64] (y_400mf, x_400mf) and x=[2,3,40,40] (y_800mf, 10 classes) with
 *   every float entry of the state dict redrawn by `det_state_dict`/`detStateDict` (BatchNorm
 *   running stats non-trivial).
 * - A small RegNet built from the classes with custom BlockParams, its random weights saved by
 *   torch.save (test/fixtures/models/regnet_tiny.pth): loads strictly, same logits.
 * - Train mode with the random layers off: logits and BatchNorm running statistics after one
 *   step, for the same redrawn weights (tolerance as below; running stats also 2e-7 relative).
 * - Tolerance: atol = 4 x PyTorch's own max |float32 - float64| logit difference for the same
 *   weights and input (fixture `f32VsF64MaxAbs`: y_400mf 2.0e-5 at |logit| <= 25, x_400mf 1.8e-3
 *   at 2360, y_800mf 4.9e-6 at 6.7), rtol 0: tsnn sums in another order (partly in double), so it
 *   may differ from PyTorch's float32 by about PyTorch's own float32 error. Measured max
 *   |tsnn - PyTorch|: y_400mf 1.8e-5, x_400mf 2.2e-3, y_800mf 6.6e-6 (0.9-1.34 x PyTorch's
 *   f32-vs-f64; `TSNN_VERBOSE=1` prints it). Shared checks: test/models/family.ts.
 */
import { describe, expect, it } from "vitest";
import { type nn } from "../../src/index.js";
import * as rn from "../../src/models/regnet.js";
import { describeCheckpoint, describeFamily, describeTrainSteps, expectInitLike, loadFamily } from "./family.js";

interface Params {
  args: { depth: number; w_0: number; w_a: number; w_m: number; group_width: number; bottleneck_multiplier?: number; se_ratio?: number };
  depths: number[];
  widths: number[];
  groupWidths: number[];
  bottleneckMultipliers: number[];
  strides: number[];
  seRatio: number | null;
}
const fam = loadFamily("regnet");
const FX = fam.raw as { blockParams: Record<string, Params>; blockParamsRandom: Params[]; blockParamsErrors: { args: Params["args"]; error: [string, string] }[]; [k: string]: any };

const BUILDERS: Record<string, (opts?: any) => nn.Module> = {
  regnet_y_400mf: rn.regnet_y_400mf,
  regnet_y_800mf: rn.regnet_y_800mf,
  regnet_y_1_6gf: rn.regnet_y_1_6gf,
  regnet_y_3_2gf: rn.regnet_y_3_2gf,
  regnet_y_8gf: rn.regnet_y_8gf,
  regnet_y_16gf: rn.regnet_y_16gf,
  regnet_y_32gf: rn.regnet_y_32gf,
  regnet_y_128gf: rn.regnet_y_128gf,
  regnet_x_400mf: rn.regnet_x_400mf,
  regnet_x_800mf: rn.regnet_x_800mf,
  regnet_x_1_6gf: rn.regnet_x_1_6gf,
  regnet_x_3_2gf: rn.regnet_x_3_2gf,
  regnet_x_8gf: rn.regnet_x_8gf,
  regnet_x_16gf: rn.regnet_x_16gf,
  regnet_x_32gf: rn.regnet_x_32gf,
};
const RULE = { factor: 4 };

/** from_init_params' Python keyword arguments → `BlockParamsInit`. */
function initOf(a: Params["args"]): rn.BlockParamsInit {
  return { depth: a.depth, w0: a.w_0, wA: a.w_a, wM: a.w_m, groupWidth: a.group_width, bottleneckMultiplier: a.bottleneck_multiplier, seRatio: a.se_ratio };
}

function expectParams(p: rn.BlockParams, e: Params): void {
  expect({ depths: p.depths, widths: p.widths, groupWidths: p.groupWidths, bottleneckMultipliers: p.bottleneckMultipliers, strides: p.strides, seRatio: p.seRatio }).toEqual({
    depths: e.depths,
    widths: e.widths,
    groupWidths: e.groupWidths,
    bottleneckMultipliers: e.bottleneckMultipliers,
    strides: e.strides,
    seRatio: e.seRatio,
  });
}

describe("BlockParams.fromInitParams (float32 block widths as torch's)", () => {
  for (const [name, e] of Object.entries(FX.blockParams)) {
    it(`${name}: depth=${e.args.depth} w_0=${e.args.w_0} w_a=${e.args.w_a} w_m=${e.args.w_m} group_width=${e.args.group_width}`, () => {
      expectParams(rn.BlockParams.fromInitParams(initOf(e.args)), e);
    });
  }
  it(`${FX.blockParamsRandom.length} random settings (bottleneck multipliers 0.25-2)`, () => {
    for (const e of FX.blockParamsRandom) expectParams(rn.BlockParams.fromInitParams(initOf(e.args)), e);
  });
  it("invalid settings: torchvision's ValueError", () => {
    for (const e of FX.blockParamsErrors) {
      expect(() => rn.BlockParams.fromInitParams(initOf(e.args)), JSON.stringify(e.args)).toThrow(e.error[1]);
    }
  });
});

describeFamily(fam, { title: "RegNet", builders: BUILDERS, logits: RULE });

describe("RegNet initialisation (torchvision's, from tsnn's generator)", () => {
  const sd = rn.regnet_y_400mf().stateDict();
  it("convolutions N(0, 2/fan_out), fc N(0, 0.01²): std within 10% of PyTorch's draw", () => {
    for (const key of ["stem.0.weight", "trunk_output.block3.block3-0.f.b.0.weight", "trunk_output.block4.block4-1.f.se.fc1.weight", "fc.weight"]) {
      expectInitLike(sd, key, FX.init[key]);
    }
  });
  it("BatchNorm weight 1 / bias 0; fc bias 0; SE biases keep Conv2d's default uniform init", () => {
    expect(Array.from(sd.get("stem.1.weight")!.data as Float32Array).every((v) => v === 1)).toBe(true);
    expect(Array.from(sd.get("fc.bias")!.data as Float32Array).every((v) => v === 0)).toBe(true);
    const seBias = sd.get("trunk_output.block1.block1-0.f.se.fc1.bias")!.data as Float32Array;
    const fanIn = sd.get("trunk_output.block1.block1-0.f.se.fc1.weight")!.shape[1];
    expect(seBias.some((v) => v !== 0)).toBe(true);
    expect(Array.from(seBias).every((v) => Math.abs(v) <= 1 / Math.sqrt(fanIn))).toBe(true);
  });
});

describeCheckpoint(
  "BlockParams depth 6, w_0 16, w_a 8, w_m 2, SE",
  FX.checkpoint,
  () => new rn.RegNet(rn.BlockParams.fromInitParams({ depth: 6, w0: 16, wA: 8.0, wM: 2.0, groupWidth: 8, seRatio: 0.25 }), { numClasses: 10, stemWidth: 16 }),
  RULE,
);

// RegNet has no random layer to switch off.
describeTrainSteps("RegNet", FX.train, (name, opts) => BUILDERS[name](opts), RULE);
