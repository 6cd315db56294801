/**
 * ViT builders against torchvision 0.14 (scripts/make_transformer_fixtures.py →
 * test/fixtures/models/vit.json): printouts byte for byte, state-dict keys/shapes/dtypes in order,
 * parameter counts, and eval logits of vit_b_32 (imageSize 64, batch 2) with every float entry
 * redrawn by `detStateDict`.
 *
 * Tolerance: PyTorch's own float32 logits differ from its float64 ones by at most 3.0e-6 (logits
 * up to 2.1; fixture field `f32VsF64`); tsnn must be within 10x that of PyTorch's float32 logits.
 * The small VisionTransformers (2 layers, width 8) use the same rule (at least 1e-6); the
 * version-1 checkpoint case 1e-6 + 1e-6·|y|. Shared checks: test/models/family.ts.
 */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { AssertionError, load, nn, noGrad, Tensor } from "../../src/index.js";
import * as vit from "../../src/models/vision_transformer.js";
import { dec, detStateDict, detTensor, expectClose, values } from "../helpers.js";
import { describeFamily, loadFamily } from "./family.js";

const fam = loadFamily("vit");
const fx = fam.raw;
const builders = vit as unknown as Record<string, (o?: any) => nn.Module>;
const { vit_b_16, vit_b_32, vit_l_16, vit_l_32, vit_h_14 } = vit;
describeFamily(fam, { title: "VisionTransformer", builders: { vit_b_16, vit_b_32, vit_l_16, vit_l_32, vit_h_14 }, logits: { factor: 10 } });

describe("vision_transformer: init as torchvision", () => {
  it("vit_b_32: zero head, zero class token, pos_embedding std 0.02, MLP biases ~1e-6", () => {
    const m = vit.vit_b_32({ imageSize: 64 });
    expect(values(m.heads._modules.get("head")!.stateDict().get("weight")!).every((v) => v === 0)).toBe(true);
    expect(m.class_token.data.every((v) => v === 0)).toBe(true);
    const pe = m.encoder.pos_embedding.data;
    const std = Math.sqrt(pe.reduce((s, v) => s + v * v, 0) / pe.length);
    expect(std).toBeGreaterThan(0.015);
    expect(std).toBeLessThan(0.025);
    const mlp = (m.encoder.layers.at(0) as vit.EncoderBlock).mlp;
    const b0 = (mlp.at(0) as nn.Linear).bias!.data;
    expect(Math.max(...b0.map(Math.abs))).toBeLessThan(1e-5);
  });

  for (const e of fx.errors) {
    it(`${e.builder}(${JSON.stringify(e.kwargs)}): torchvision's error`, () => {
      expect(() => builders[e.builder](e.kwargs)).toThrow(e.error);
    });
  }
});

describe("vision_transformer: forward errors as torchvision's (AssertionError)", () => {
  const m = nn.init.skipInit(() => vit.vit_b_32({ imageSize: 64 }));
  for (const e of fx.forwardErrors) {
    it(`${e.what}: x=[${e.input}]`, () => {
      const x = new Tensor(new Float32Array(e.input.reduce((a: number, b: number) => a * b, 1)), e.input);
      const target = e.module === "encoder" ? m.encoder : m;
      expect(() => target.call(x)).toThrow(AssertionError);
      expect(() => target.call(x)).toThrow(e.error);
    });
  }
});

describe("VisionTransformer options and checkpoints", () => {
  const small = fx.small;
  const build = (name: string): vit.VisionTransformer => {
    const stem = [
      { outChannels: 4, kernelSize: 3, stride: 2 },
      { outChannels: 6, kernelSize: 3, stride: 2, normLayer: nn.BatchNorm2d, activationLayer: nn.SiLU },
    ];
    const opts = name === "conv stem" ? { convStemConfigs: stem } : { representationSize: 12 };
    return new vit.VisionTransformer(16, 4, 2, 2, 8, 16, { numClasses: 5, ...opts });
  };
  for (const c of small.cases) {
    it(`VisionTransformer(16, 4, 2, 2, 8, 16, ${c.name}): printout, keys, logits`, () => {
      const m = nn.init.skipInit(() => build(c.name)).eval(); // every float entry is redrawn below
      expect(m.toString()).toBe(c.repr);
      expect([...m.stateDict()].map(([k, t]) => [k, t.shape])).toEqual(c.keys);
      detStateDict(m, c.seed);
      expectClose(noGrad(() => m.call(detTensor(c.input[0], c.input[1]))), dec(c.logits), { rtol: 0, atol: Math.max(10 * c.f32VsF64.maxAbs, 1e-6) }, c.name);
    });
  }

  it("a checkpoint saved with MLPBlock's version-1 keys (linear_1/linear_2) loads strictly, as torchvision", () => {
    const sd = load(readFileSync(fileURLToPath(new URL(`../fixtures/${small.v1Checkpoint.file}`, import.meta.url))));
    expect([...sd.keys()]).toEqual(small.v1Checkpoint.keys);
    const m = nn.init.skipInit(() => new vit.VisionTransformer(16, 4, 1, 2, 8, 16, { numClasses: 5 })).eval();
    m.loadStateDict(sd);
    expectClose(noGrad(() => m.call(detTensor(small.v1Checkpoint.input[0], small.v1Checkpoint.input[1]))), dec(small.v1Checkpoint.logits), { rtol: 1e-6, atol: 1e-6 }, "v1");
  });
});
