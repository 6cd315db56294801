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
 *   f32-vs-f64; `TSNN_VERBOSE=1` prints it).
 */
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { fileURLToPath } from "node:url";
import { getModelBuilder, load, nn, type Tensor } from "../../src/index.js";
import * as rn from "../../src/models/regnet.js";
import { dec, detStateDict, detTensor, expectClose, fixture, maxAbsDiff, type EncTensor } from "../helpers.js";

interface Tree {
  print: string;
  keys: [string, number[], string][];
  numParameters: number;
}
interface LogitsCase {
  builder: string;
  kwargs: Record<string, unknown>;
  input: [number[], number];
  logits: EncTensor;
  f32VsF64MaxAbs: number;
  maxAbsLogit: number;
}
interface Params {
  args: { depth: number; w_0: number; w_a: number; w_m: number; group_width: number; bottleneck_multiplier?: number; se_ratio?: number };
  depths: number[];
  widths: number[];
  groupWidths: number[];
  bottleneckMultipliers: number[];
  strides: number[];
  seRatio: number | null;
}
const FX = fixture<{
  buildersGz: string;
  variants: (Tree & { builder: string; kwargs: Record<string, unknown> })[];
  logits: LogitsCase[];
  blockParams: Record<string, Params>;
  blockParamsRandom: Params[];
  blockParamsErrors: { args: Params["args"]; error: [string, string] }[];
  init: Record<string, [number, number, number, number]>;
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
}>("models/regnet.json");
const TREES: Record<string, Tree> = JSON.parse(gunzipSync(Buffer.from(FX.buildersGz, "base64")).toString("utf8"));

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

/** PyTorch kwargs → tsnn options. */
function camel(kwargs: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(kwargs).map(([k, v]) => [k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()), v]));
}

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

function expectTree(m: nn.Module, t: Tree): void {
  expect(m.toString()).toBe(t.print);
  const keys = [...m.stateDict()].map(([k, v]) => [k, v.shape, v.dtype]);
  expect(keys).toEqual(t.keys);
  let n = 0;
  for (const p of m.parameters()) n += p.numel();
  expect(n).toBe(t.numParameters);
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

describe("RegNet builders: printout, state-dict keys/shapes/order, parameter count", () => {
  it("covers every torchvision builder", () => {
    expect(Object.keys(BUILDERS).sort()).toEqual(Object.keys(TREES).sort());
  });
  it("the registry holds these builders under torchvision's names (tsnn print/infer use it)", () => {
    for (const name of Object.keys(TREES)) expect(getModelBuilder(name), name).toBe(BUILDERS[name]);
  });
  for (const name of Object.keys(TREES)) {
    it(name, () => {
      expectTree(nn.init.skipInit(() => BUILDERS[name]()), TREES[name]);
    });
  }
  for (const v of FX.variants) {
    it(`${v.builder}(${JSON.stringify(v.kwargs)})`, () => {
      expectTree(nn.init.skipInit(() => BUILDERS[v.builder](camel(v.kwargs))), v);
    });
  }
});

describe("RegNet eval logits for redrawn weights", () => {
  for (const c of FX.logits) {
    const [shape, seed] = c.input;
    it(`${c.builder}(${JSON.stringify(c.kwargs)}) x=[${shape}] tol 4 x f32-vs-f64 (${c.f32VsF64MaxAbs.toExponential(1)})`, () => {
      const m = BUILDERS[c.builder](camel(c.kwargs)).eval();
      detStateDict(m);
      const y = m.call(detTensor(seed, shape)) as Tensor;
      const expected = dec(c.logits) as Tensor;
      if (process.env.TSNN_VERBOSE) console.log(`MEASURED ${c.builder}: max |tsnn - torch f32| = ${maxAbsDiff(y, expected)}`);
      expectClose(y, expected, { atol: 4 * c.f32VsF64MaxAbs, rtol: 0 }, c.builder);
    });
  }
});

describe("RegNet initialisation (torchvision's, from tsnn's generator)", () => {
  const sd = rn.regnet_y_400mf().stateDict();
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
  it("convolutions N(0, 2/fan_out), fc N(0, 0.01²): std within 10% of PyTorch's draw", () => {
    for (const key of ["stem.0.weight", "trunk_output.block3.block3-0.f.b.0.weight", "trunk_output.block4.block4-1.f.se.fc1.weight", "fc.weight"]) {
      const [mean, std] = stats(sd.get(key) as Tensor);
      const [pm, ps] = FX.init[key];
      expect(Math.abs(mean - pm), key).toBeLessThan(0.1 * ps + 1e-3);
      expect(std / ps, key).toBeGreaterThan(0.9);
      expect(std / ps, key).toBeLessThan(1.1);
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

describe("a torch.save'd checkpoint of a custom-config model (BlockParams depth 6, w_0 16, w_a 8, w_m 2, SE)", () => {
  const c = FX.checkpoint;
  it(`prints as PyTorch, loads strictly, and gives PyTorch's logits for x=[${c.input[0]}] (tol 4 x f32-vs-f64, ${c.f32VsF64MaxAbs.toExponential(1)})`, () => {
    const m = nn.init.skipInit(() => new rn.RegNet(rn.BlockParams.fromInitParams({ depth: 6, w0: 16, wA: 8.0, wM: 2.0, groupWidth: 8, seRatio: 0.25 }), { numClasses: 10, stemWidth: 16 }));
    expect(m.toString()).toBe(c.print);
    const r = m.loadStateDict(load(fileURLToPath(new URL(`../fixtures/${c.file}`, import.meta.url))));
    expect([r.missingKeys, r.unexpectedKeys]).toEqual([[], []]);
    const y = m.eval().call(detTensor(c.input[1], c.input[0])) as Tensor;
    expectClose(y, dec(c.logits) as Tensor, { atol: 4 * c.f32VsF64MaxAbs, rtol: 0 }, c.file);
  });
});

describe("RegNet train mode, random layers off (none to switch off): BatchNorm on batch statistics", () => {
  for (const c of FX.train) {
    const [shape, seed] = c.input;
    it(`${c.builder}(${JSON.stringify(c.kwargs)}) x=[${shape}]: logits (tol 4 x f32-vs-f64, ${c.f32VsF64MaxAbs.toExponential(1)}) and running stats after one step`, () => {
      const m = BUILDERS[c.builder](camel(c.kwargs));
      detStateDict(m);
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
