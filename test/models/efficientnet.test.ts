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
 */
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { fileURLToPath } from "node:url";
import { getModelBuilder, load, nn, type Tensor } from "../../src/index.js";
import * as eff from "../../src/models/efficientnet.js";
import { dec, detStateDict, detTensor, expectClose, fixture, maxAbsDiff, type EncTensor } from "../helpers.js";

interface Tree {
  print: string;
  keys: [string, number[], string][];
  numParameters: number;
}
interface LogitsCase {
  builder: string;
  kwargs: Record<string, unknown>;
  halveResidualBranches: boolean;
  input: [number[], number];
  logits: EncTensor;
  f32VsF64MaxAbs: number;
  maxAbsLogit: number;
}
const FX = fixture<{
  buildersGz: string;
  variants: (Tree & { builder: string; kwargs: Record<string, unknown> })[];
  logits: LogitsCase[];
  init: Record<string, [number, number, number, number]>;
  errors: { what: string; kwargs: Record<string, unknown>; error: [string, string] }[];
  confs: Record<string, { widthMult: number; depthMult: number; lastChannel: number | null; stages: (string | number)[][] }>;
  checkpoint: { file: string; print: string; input: [number[], number]; logits: EncTensor; f32VsF64MaxAbs: number };
  train: {
    builder: string;
    kwargs: Record<string, unknown>;
    input: [number[], number];
    logits: EncTensor;
    f32VsF64MaxAbs: number;
    runningStats: [string, EncTensor, number][];
    numBatchesTracked: number | null;
  }[];
}>("models/efficientnet.json");
const TREES: Record<string, Tree> = JSON.parse(gunzipSync(Buffer.from(FX.buildersGz, "base64")).toString("utf8"));

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

/** PyTorch kwargs → tsnn options. */
function camel(kwargs: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(kwargs).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), v]));
}

function expectTree(m: nn.Module, t: Tree): void {
  expect(m.toString()).toBe(t.print);
  const keys = [...m.stateDict()].map(([k, v]) => [k, v.shape, v.dtype]);
  expect(keys).toEqual(t.keys);
  let n = 0;
  for (const p of m.parameters()) n += p.numel();
  expect(n).toBe(t.numParameters);
}

describe("EfficientNet builders: printout, state-dict keys/shapes/order, parameter count", () => {
  it("covers every torchvision builder", () => {
    expect(Object.keys(BUILDERS).sort()).toEqual(Object.keys(TREES).sort());
  });
  it("the registry holds these builders under torchvision's names (tsnn print/infer use it)", () => {
    for (const name of Object.keys(TREES)) expect(getModelBuilder(name), name).toBe(BUILDERS[name]);
  });
  for (const name of Object.keys(TREES)) {
    it(name, () => {
      const m = nn.init.skipInit(() => BUILDERS[name]());
      expectTree(m, TREES[name]);
    });
  }
  for (const v of FX.variants) {
    it(`${v.builder}(${JSON.stringify(v.kwargs)})`, () => {
      expectTree(nn.init.skipInit(() => BUILDERS[v.builder](camel(v.kwargs))), v);
    });
  }
});

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

describe("EfficientNet eval logits for redrawn weights", () => {
  for (const c of FX.logits) {
    const [shape, seed] = c.input;
    it(`${c.builder}(${JSON.stringify(c.kwargs)}) x=[${shape}] tol 4 x f32-vs-f64 (${c.f32VsF64MaxAbs.toExponential(1)})`, () => {
      const m = BUILDERS[c.builder](camel(c.kwargs)).eval();
      detStateDict(m);
      if (c.halveResidualBranches) halveResidualBranches(m);
      const y = m.call(detTensor(seed, shape)) as Tensor;
      const expected = dec(c.logits) as Tensor;
      if (process.env.TSNN_VERBOSE) console.log(`MEASURED ${c.builder}: max |tsnn - torch f32| = ${maxAbsDiff(y, expected)}`);
      expectClose(y, expected, { atol: 4 * c.f32VsF64MaxAbs, rtol: 0 }, c.builder);
    });
  }
});

describe("EfficientNet configuration", () => {
  for (const [name, c] of Object.entries(FX.confs)) {
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
    const m = eff.efficientnet_b0({ numClasses: 3 }).eval();
    const x = detTensor(5, [1, 3, 32, 32]);
    const a = m.call(x) as Tensor;
    const b = m.call(x) as Tensor;
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
        const opts = camel(e.kwargs);
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
  const m = eff.efficientnet_b0();
  const sd = m.stateDict();
  const stats = (t: Tensor): [number, number] => {
    const d = t.data as Float32Array;
    let s = 0;
    let s2 = 0;
    for (const v of d) {
      s += v;
      s2 += v * v;
    }
    const mean = s / d.length;
    return [mean, Math.sqrt((s2 - d.length * mean * mean) / (d.length - 1))];
  };
  it("convolutions: kaiming normal, fan_out (stem std = sqrt(2 / (32*3*3)))", () => {
    for (const key of ["features.0.0.weight", "features.8.0.weight", "features.6.0.block.0.0.weight"]) {
      const [mean, std] = stats(sd.get(key) as Tensor);
      const [pm, ps] = FX.init[key];
      expect(Math.abs(mean - pm)).toBeLessThan(0.1 * ps + 1e-3);
      expect(std / ps).toBeGreaterThan(0.9);
      expect(std / ps).toBeLessThan(1.1);
    }
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
    expect(stats(sd.get("classifier.1.weight") as Tensor)[1] / ps).toBeCloseTo(1, 1);
  });
});

describe("a torch.save'd checkpoint of a custom-config model (MBConv and FusedMBConv stages, width 0.5, BatchNorm eps 1e-3, lastChannel 64)", () => {
  const c = FX.checkpoint;
  it(`prints as PyTorch, loads strictly, and gives PyTorch's logits for x=[${c.input[0]}] (tol 4 x f32-vs-f64, ${c.f32VsF64MaxAbs.toExponential(1)})`, () => {
    const m = nn.init.skipInit(() => new eff.EfficientNet(
        [new eff.MBConvConfig(1, 3, 1, 16, 16, 1, 0.5), new eff.FusedMBConvConfig(4, 3, 2, 8, 16, 2), new eff.FusedMBConvConfig(1, 3, 1, 16, 16, 1), new eff.MBConvConfig(6, 5, 2, 16, 24, 2)],
        0.1,
        { stochasticDepthProb: 0.2, numClasses: 10, normLayer: (c: number) => new nn.BatchNorm2d(c, { eps: 1e-3 }), lastChannel: 64 },
      ));
    expect(m.toString()).toBe(c.print);
    const r = m.loadStateDict(load(fileURLToPath(new URL(`../fixtures/${c.file}`, import.meta.url))));
    expect([r.missingKeys, r.unexpectedKeys]).toEqual([[], []]);
    const y = m.eval().call(detTensor(c.input[1], c.input[0])) as Tensor;
    expectClose(y, dec(c.logits) as Tensor, { atol: 4 * c.f32VsF64MaxAbs, rtol: 0 }, c.file);
  });
});

describe("EfficientNet train mode, random layers off (stochastic depth p=0, Dropout p=0): BatchNorm on batch statistics", () => {
  for (const c of FX.train) {
    const [shape, seed] = c.input;
    it(`${c.builder}(${JSON.stringify(c.kwargs)}) x=[${shape}]: logits (tol 4 x f32-vs-f64, ${c.f32VsF64MaxAbs.toExponential(1)}) and running stats after one step`, () => {
      const m = BUILDERS[c.builder](camel(c.kwargs));
      detStateDict(m);
      for (const mod of m.modules()) if (mod instanceof nn.Dropout) mod.p = 0.0;
      m.train();
      const y = m.call(detTensor(seed, shape)) as Tensor;
      expectClose(y, dec(c.logits) as Tensor, { atol: 4 * c.f32VsF64MaxAbs, rtol: 0 }, c.builder);
      const sd = m.stateDict();
      for (const [key, value, err] of c.runningStats) {
        // 4 x PyTorch's own float32-vs-float64 error, plus 2e-7 relative (one float32 ulp).
        expectClose(sd.get(key) as Tensor, dec(value) as Tensor, { atol: 4 * err, rtol: 2e-7 }, key);
        const nbt = sd.get(key.replace(/running_(mean|var)$/, "num_batches_tracked"))!;
        expect(Number(nbt.data[0])).toBe(c.numBatchesTracked);
      }
    });
  }
});
