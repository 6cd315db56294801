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
 *   small 1.6e-6 (0.8-0.93 x PyTorch's f32-vs-f64; `TSNN_VERBOSE=1` prints it).
 */
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { fileURLToPath } from "node:url";
import { getModelBuilder, load, nn, type Tensor } from "../../src/index.js";
import * as cn from "../../src/models/convnext.js";
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
const FX = fixture<{
  buildersGz: string;
  variants: (Tree & { builder: string; kwargs: Record<string, unknown> })[];
  logits: LogitsCase[];
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
}>("models/convnext.json");
const TREES: Record<string, Tree> = JSON.parse(gunzipSync(Buffer.from(FX.buildersGz, "base64")).toString("utf8"));

const BUILDERS: Record<string, (opts?: any) => nn.Module> = {
  convnext_tiny: cn.convnext_tiny,
  convnext_small: cn.convnext_small,
  convnext_base: cn.convnext_base,
  convnext_large: cn.convnext_large,
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

describe("ConvNeXt builders: printout, state-dict keys/shapes/order, parameter count", () => {
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

describe("ConvNeXt eval logits for redrawn weights", () => {
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
  const stats = (t: Tensor): [number, number, number] => {
    const d = t.data as Float32Array;
    let s = 0;
    let s2 = 0;
    let amax = 0;
    for (const v of d) {
      s += v;
      s2 += v * v;
      amax = Math.max(amax, Math.abs(v));
    }
    const mean = s / d.length;
    return [mean, Math.sqrt((s2 - d.length * mean * mean) / (d.length - 1)), amax];
  };
  it("Conv2d and Linear weights: truncated normal, std 0.02 (within 10% of PyTorch's draw); biases 0", () => {
    for (const key of ["features.0.0.weight", "features.1.0.block.0.weight", "features.5.4.block.3.weight", "classifier.2.weight"]) {
      const [mean, std, amax] = stats(sd.get(key) as Tensor);
      const [pm, ps] = FX.init[key];
      expect(Math.abs(mean - pm), key).toBeLessThan(0.1 * ps + 1e-3);
      expect(std / ps, key).toBeGreaterThan(0.9);
      expect(std / ps, key).toBeLessThan(1.1);
      expect(amax).toBeLessThanOrEqual(2);
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

describe("a torch.save'd checkpoint of a custom-config model (two stages, layer_scale 0.5)", () => {
  const c = FX.checkpoint;
  it(`prints as PyTorch, loads strictly, and gives PyTorch's logits for x=[${c.input[0]}] (tol 4 x f32-vs-f64, ${c.f32VsF64MaxAbs.toExponential(1)})`, () => {
    const m = nn.init.skipInit(() => new cn.ConvNeXt([new cn.CNBlockConfig(16, 32, 2), new cn.CNBlockConfig(32, null, 1)], { stochasticDepthProb: 0.1, layerScale: 0.5, numClasses: 10 }));
    expect(m.toString()).toBe(c.print);
    const r = m.loadStateDict(load(fileURLToPath(new URL(`../fixtures/${c.file}`, import.meta.url))));
    expect([r.missingKeys, r.unexpectedKeys]).toEqual([[], []]);
    const y = m.eval().call(detTensor(c.input[1], c.input[0])) as Tensor;
    expectClose(y, dec(c.logits) as Tensor, { atol: 4 * c.f32VsF64MaxAbs, rtol: 0 }, c.file);
  });
});

describe("ConvNeXt train mode, random layers off (stochastic depth p=0; no BatchNorm): BatchNorm on batch statistics", () => {
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
