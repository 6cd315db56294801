/**
 * The model registry against torchvision 0.14 (test/fixtures/models/registry.json, from
 * scripts/make_zoo_classic_fixtures.py): every registered builder is a torchvision builder of the
 * same name and family file, with the evaluation preprocessing of torchvision's default weights
 * (resize, crop, interpolation, mean, std); lookup errors start with torchvision's text.
 */
import { describe, expect, it } from "vitest";
import { models, nn, ValueError } from "../../src/index.js";
import { getModel, getModelBuilder, getModelTransforms, listModels, MODELS } from "../../src/models/registry.js";
import { fixture } from "../helpers.js";

interface TvEntry { family: string; cropSize: number; resizeSize: number; interpolation: string; mean: number[]; std: number[]; weightsOptions?: Record<string, unknown> }
const tv: { models: Record<string, TvEntry>; errors: Record<string, [string, string]> } = fixture("models/registry.json");

describe("model registry (PyTorch: torchvision.models.list_models / get_model_builder)", () => {
  it("listModels() is sorted and names every registered builder", () => {
    const names = listModels();
    expect(names).toEqual(Object.keys(MODELS).sort());
    expect(names).toEqual(expect.arrayContaining(["resnet18", "resnet50", "wide_resnet101_2"]));
  });

  for (const name of Object.keys(MODELS).sort()) {
    it(`${name}: torchvision's family and default-weights eval transforms`, () => {
      const want = tv.models[name];
      expect(want, `${name} is not a torchvision 0.14 classification builder`).toBeDefined();
      const { family, transforms } = MODELS[name];
      expect(family).toBe(want.family);
      expect(transforms).toEqual({
        resizeSize: want.resizeSize,
        cropSize: want.cropSize,
        interpolation: want.interpolation,
        mean: want.mean,
        std: want.std,
      });
      expect(MODELS[name].weightsOptions).toEqual(want.weightsOptions);
      expect(getModelBuilder(name)).toBe((models as Record<string, unknown>)[name]);
    });
  }

  it("lookup lowers the name, as torchvision does", () => {
    expect(getModelBuilder("ResNet18")).toBe(models.resnet18);
    expect(getModelTransforms("RESNET50").resizeSize).toBe(232);
  });

  it("getModel(name, opts) builds with the options (PyTorch: get_model(name, **config))", () => {
    const m = nn.init.skipInit(() => getModel("resnet18", { numClasses: 10 }));
    expect(m.stateDict().get("fc.weight")!.shape).toEqual([10, 512]);
  });

  it("adaptStateDict: DenseNet rows rename torchvision's pre-2018 keys (norm.1 → norm1), others have none", () => {
    const t = nn.init.skipInit(() => getModel("squeezenet1_1")).stateDict().get("features.0.weight")!;
    const sd = new Map([["features.denseblock1.denselayer1.norm.1.weight", t]]);
    expect([...MODELS.densenet121.adaptStateDict!(sd).keys()]).toEqual(["features.denseblock1.denselayer1.norm1.weight"]);
    expect(MODELS.resnet18.adaptStateDict).toBeUndefined();
  });

  it("unknown name: torchvision's ValueError text, then the closest registered names", () => {
    for (const [bad, [type, text]] of Object.entries(tv.errors)) {
      expect(type).toBe("ValueError");
      expect(() => getModelBuilder(bad)).toThrow(ValueError);
      let msg = "";
      try {
        getModelBuilder(bad);
      } catch (e) {
        msg = (e as Error).message;
      }
      expect(msg.startsWith(text)).toBe(true);
    }
    expect(() => getModelBuilder("resnet19")).toThrow(/did you mean resnet18, resnet101/);
    expect(() => getModelBuilder("zzzzzzzzzzzzzzzzz")).toThrow(/^Unknown model zzzzzzzzzzzzzzzzz; `tsnn list`/);
  });
});
