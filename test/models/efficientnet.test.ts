/**
 * EfficientNet B0-B7 and V2 S/M/L against torchvision 0.14 (fixtures: scripts/make_zoo_modern_fixtures.py
 * → test/fixtures/models/efficientnet.json).
 *
 * - Every builder: printout byte for byte, state-dict keys/shapes/dtypes in order, parameter count.
 * - Eval logits at x=[1,3,64,64] (b0, v2_s) and x=[1,3,48,48] (b5, 10 classes) with every float
 *   entry of the state dict redrawn by `det_state_dict`/`detStateDict` (BatchNorm running stats
 *   non-trivial). For V2-S the last BatchNorm weight of every block is halved on both sides (an
 *   exact float32 step): with the raw redrawn weights its 40 residual blocks grow activations to
 *   1e6 and PyTorch's own float32 and float64 logits differ by 70%.
 * - A small EfficientNet built from the classes with a custom stage table, its random weights
 *   saved by torch.save (test/fixtures/models/efficientnet_tiny.pth): loads strictly, same logits.
 * - Train mode with the random layers off: logits and BatchNorm running statistics after one
 *   step, for the same redrawn weights (tolerance as below; running stats also 2e-7 relative).
 * - Tolerance: atol = 4 x PyTorch's own max |float32 - float64| logit difference for the same
 *   weights and input (fixture `f32VsF64MaxAbs`: b0 2.0e-7 at |logit| <= 0.24, v2_s 6.1e-7 at 0.54,
 *   b5 1.7e-7 at 0.14), rtol 0: tsnn sums in another order (partly in double), so it may differ
 *   from PyTorch's float32 by about PyTorch's own float32 error. Measured max |tsnn - PyTorch|:
 *   b0 1.6e-7, v2_s 6.1e-7, b5 1.5e-7 (0.8-1.0 x PyTorch's f32-vs-f64; `TSNN_VERBOSE=1` prints it).
 *   Shared checks: test/models/family.ts.
 */
import { describe, expect, it } from "vitest";
import { nn, noGrad, type Tensor } from "../../src/index.js";
import * as eff from "../../src/models/efficientnet.js";
import { detTensor } from "../helpers.js";
import { camelOpts, describeCheckpoint, describeFamily, describeTrainSteps, expectInitLike, loadFamily, stats } from "./family.js";

const fam = loadFamily("efficientnet");
const FX = fam.raw;
const BUILDERS: Record<string, (opts?: any) => nn.Module> = {
  efficientnet_b0: eff.efficientnet_b0,
  efficientnet_b1: eff.efficientnet_b1,
  efficientnet_b2: eff.efficientnet_b2,
  efficientnet_b3: eff.efficientnet_b3,
  efficientnet_b4: eff.efficientnet_b4,
  efficientnet_b5: eff.efficientnet_b5,
  efficientnet_b6: eff.efficientnet_b6,
  efficientnet_b7: eff.efficientnet_b7,
  efficientnet_v2_s: eff.efficientnet_v2_s,
  efficientnet_v2_m: eff.efficientnet_v2_m,
  efficientnet_v2_l: eff.efficientnet_v2_l,
};
const RULE = { factor: 4 };

let b0Model: nn.Module | null = null;
/** efficientnet_b0() with torchvision's init, built once for the checks that only read it. */
const b0 = (): nn.Module => (b0Model ??= eff.efficientnet_b0());

/** The fixture script's `halve_residual_branches`: last BatchNorm weight of each block x 0.5. */
function halveResidualBranches(m: nn.Module): void {
  for (const mod of m.modules()) {
    if (mod instanceof eff.MBConv || mod instanceof eff.FusedMBConv) {
      const bn = (mod.block.at(-1) as nn.Sequential).at(1) as nn.BatchNorm2d;
      const w = bn.weight!.data as Float32Array;
      for (let i = 0; i < w.length; i++) w[i] *= 0.5;
      bn.weight!._bumpVersion();
    }
  }
}

describeFamily(fam, {
  title: "EfficientNet",
  builders: BUILDERS,
  logits: RULE,
  prepare: (m, c) => {
    if (c.raw.halveResidualBranches) halveResidualBranches(m);
  },
});

describe("EfficientNet configuration", () => {
  for (const [name, c] of Object.entries(FX.confs as Record<string, { widthMult: number; depthMult: number; lastChannel: number | null; stages: (string | number)[][] }>)) {
    it(`${name}: stage table (width ${c.widthMult}, depth ${c.depthMult}; channels to multiples of 8, depth rounded up)`, () => {
      const [setting, last] = eff._efficientnetConf(name, c.widthMult, c.depthMult);
      expect(last).toBe(c.lastChannel);
      const rows = setting.map((s) => [s.constructor.name, s.expandRatio, s.kernel, s.stride, s.inputChannels, s.outChannels, s.numLayers]);
      expect(rows).toEqual(c.stages);
    });
  }

  it("stochastic depth probability grows linearly with the block index (b0: 0.2 * i / 16)", () => {
    const m = nn.init.skipInit(() => eff.efficientnet_b0());
    const ps = [...m.modules()].filter((x) => x instanceof eff.MBConv).map((x) => (x as eff.MBConv).stochastic_depth.p);
    expect(ps).toEqual(Array.from({ length: 16 }, (_, i) => (0.2 * i) / 16));
  });

  it("stochastic depth and dropout are identities in eval (two calls agree bit for bit)", () => {
    const m = b0().eval(); // torchvision's init (shared with the initialisation checks below)
    const x = detTensor(5, [1, 3, 32, 32]);
    const [a, b] = noGrad(() => [m.call(x) as Tensor, m.call(x) as Tensor]);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });

  it("rejects what torchvision rejects, with its error text", () => {
    const run: Record<string, () => unknown> = {
      efficientnet_b0: () => null,
      EfficientNet: () => new eff.EfficientNet([], 0.2),
      MBConv: () => new eff.MBConv(new eff.MBConvConfig(1, 3, 3, 8, 8, 1), 0.0, nn.BatchNorm2d),
    };
    for (const e of FX.errors) {
      let fn = run[e.what];
      if (e.what.startsWith("efficientnet_")) {
        const opts = camelOpts(e.kwargs);
        if (opts.normLayer === "BatchNorm2d") opts.normLayer = nn.BatchNorm2d;
        fn = () => BUILDERS[e.what](opts);
      }
      expect(fn, `${e.what} ${JSON.stringify(e.kwargs)}`).toThrow(e.error[1]);
      try {
        fn();
      } catch (err) {
        expect((err as Error).name).toBe(e.error[0]);
      }
    }
  });
});

describe("EfficientNet initialisation (torchvision's, from tsnn's generator)", () => {
  const sd = b0().stateDict();
  it("convolutions: kaiming normal, fan_out (stem std = sqrt(2 / (32*3*3)))", () => {
    for (const key of ["features.0.0.weight", "features.8.0.weight", "features.6.0.block.0.0.weight"]) expectInitLike(sd, key, FX.init[key]);
  });
  it("SE convolution biases 0, BatchNorm weight 1 / bias 0", () => {
    expect(Array.from(sd.get("features.1.0.block.1.fc1.bias")!.data as Float32Array).every((v) => v === 0)).toBe(true);
    expect(Array.from(sd.get("features.1.0.block.0.1.weight")!.data as Float32Array).every((v) => v === 1)).toBe(true);
  });
  it("classifier: U(-1/sqrt(1000), 1/sqrt(1000)), bias 0", () => {
    const w = sd.get("classifier.1.weight")!.data as Float32Array;
    const r = 1 / Math.sqrt(1000);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of w) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect(lo).toBeGreaterThanOrEqual(-r);
    expect(hi).toBeLessThanOrEqual(r);
    expect(hi - lo).toBeGreaterThan(1.99 * r);
    const [, ps] = FX.init["classifier.1.weight"];
    expect(stats(sd.get("classifier.1.weight")!)[1] / ps).toBeCloseTo(1, 1);
  });
});

describeCheckpoint(
  "MBConv and FusedMBConv stages, width 0.5, BatchNorm eps 1e-3, lastChannel 64",
  FX.checkpoint,
  () =>
    new eff.EfficientNet(
      [new eff.MBConvConfig(1, 3, 1, 16, 16, 1, 0.5), new eff.FusedMBConvConfig(4, 3, 2, 8, 16, 2), new eff.FusedMBConvConfig(1, 3, 1, 16, 16, 1), new eff.MBConvConfig(6, 5, 2, 16, 24, 2)],
      0.1,
      { stochasticDepthProb: 0.2, numClasses: 10, normLayer: (c: number) => new nn.BatchNorm2d(c, { eps: 1e-3 }), lastChannel: 64 },
    ),
  RULE,
);

// Stochastic depth p=0 (the case's kwargs), Dropout p=0.
describeTrainSteps("EfficientNet", FX.train, (name, opts) => BUILDERS[name](opts), RULE, (m) => {
  for (const mod of m.modules()) if (mod instanceof nn.Dropout) mod.p = 0.0;
});
