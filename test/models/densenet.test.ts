/**
 * torchvision's DenseNet-121/161/169/201 (test/fixtures/models/densenet.json,
 * scripts/make_zoo_classic_fixtures.py): printouts byte for byte, state-dict keys/shapes/order and
 * `_metadata` versions (_DenseBlock 2), options (`dropRate`, `memoryEfficient`, the `DenseNet`
 * class's own arguments), torchvision's init, the loading of pre-2018 checkpoints whose keys
 * torchvision renames (`norm.1` → `norm1`), and densenet121 eval logits at x=[1,3,64,64] for
 * deterministic weights. Logit tolerance: 10 × PyTorch's own float32-vs-float64 difference
 * (2.5e-6 with logits up to 2.3); see test/models/family.ts.
 */
import { describe, expect, it } from "vitest";
import { models, nn, Tensor, type DType } from "../../src/index.js";
import { renameLegacyDenseNetKeys } from "../../src/models/densenet.js";
import { describeFamily, loadFamily } from "./family.js";

const fam = loadFamily("densenet");
const fx = fam.raw;
const { densenet121, densenet161, densenet169, densenet201 } = models;

describeFamily(fam, {
  title: "DenseNet",
  builders: { densenet121, densenet161, densenet169, densenet201 },
  logits: { factor: 10 },
  // The `DenseNet` class's own arguments are positional: growthRate, blockConfig, numInitFeatures.
  build: (name, opts) => {
    if (name !== "DenseNet") return (models as unknown as Record<string, (o: object) => nn.Module>)[name](opts);
    const { growthRate, blockConfig, numInitFeatures, ...rest } = opts as Record<string, any>;
    return new models.DenseNet(growthRate, blockConfig, numInitFeatures, rest);
  },
});

describe("DenseNet (torchvision.models.densenet*)", () => {
  it("stateDict()._metadata: _DenseBlock is version 2 (torchvision's _version), as BatchNorm", () => {
    const sd = nn.init.skipInit(() => models.densenet121()).stateDict();
    const versions = [...sd._metadata!].filter(([, v]) => (v.version ?? 1) !== 1).map(([k, v]) => [k, v.version]);
    expect(versions.slice(0, fx.metadataVersions.length)).toEqual(fx.metadataVersions);
  });

  it("options: memoryEfficient is kept (no effect on results), dropRate reaches every dense layer", () => {
    const m = nn.init.skipInit(() => models.densenet121({ dropRate: 0.2, memoryEfficient: true, numClasses: 10 }));
    const dl = m.getSubmodule("features.denseblock3.denselayer7") as models._DenseLayer;
    expect(dl.memoryEfficient).toBe(true);
    expect(dl.dropRate).toBe(0.2);
    expect(m.getSubmodule("features.denseblock1")).toBeInstanceOf(nn.ModuleDict);
  });

  it("init: convs kaiming-normal(fan_in), BatchNorm 1/0, classifier bias 0", () => {
    const m = models.densenet121();
    const conv = m.getSubmodule("features.denseblock2.denselayer1.conv2") as nn.Conv2d; // [32, 128, 3, 3]
    const w = conv.weight.data as Float32Array;
    const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    expect(std).toBeCloseTo(Math.sqrt(2 / (128 * 9)), 3);
    expect([...m.classifier.bias!.data].every((v) => v === 0)).toBe(true);
  });

  it("pre-2018 checkpoints (`denselayer1.norm.1.weight`, no num_batches_tracked) load strictly, values in place", () => {
    const m = nn.init.skipInit(() => models.densenet121());
    const sd = m.stateDict();
    const newKeys = [...sd.keys()].filter((k) => !k.endsWith("num_batches_tracked"));
    expect(newKeys.length).toBe(fx.legacyKeys.length);
    const legacy = new Map<string, Tensor<DType>>();
    fx.legacyKeys.forEach((k: string, i: number) => {
      const t = sd.get(newKeys[i])!;
      legacy.set(k, new Tensor(new Float32Array(t.numel()).fill(i), t.shape));
    });
    const renamed = renameLegacyDenseNetKeys(legacy);
    expect([...renamed.keys()]).toEqual(newKeys);
    m.loadStateDict(legacy); // strict
    const conv2 = m.getSubmodule("features.denseblock4.denselayer16.conv2") as nn.Conv2d;
    expect(conv2.weight.data[0]).toBe(newKeys.indexOf("features.denseblock4.denselayer16.conv2.weight"));
    expect(() => nn.init.skipInit(() => models.densenet121()).loadStateDict(new Map([["features.denseblock1.denselayer1.norm.3.weight", legacy.get(fx.legacyKeys[5])!]]))).toThrow(
      /Unexpected key\(s\) in state_dict: "features.denseblock1.denselayer1.norm.3.weight"/,
    );
  });

  it("renameLegacyDenseNetKeys leaves today's keys (and the map itself) untouched", () => {
    const sd = nn.init.skipInit(() => models.densenet121({ numClasses: 3 })).stateDict();
    expect(renameLegacyDenseNetKeys(sd)).toBe(sd);
  });
});
