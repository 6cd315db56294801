/**
 * ViT builders against torchvision 0.14 (scripts/make_transformer_fixtures.py →
 * test/fixtures/models/vit.json): printouts byte for byte, state-dict keys/shapes/dtypes in order,
 * parameter counts, and eval logits of vit_b_32 (imageSize 64, batch 2) with every float entry
 * redrawn by `detStateDict`.
 *
 * Tolerance: PyTorch's own float32 logits differ from its float64 ones by at most 3.0e-6 (logits
 * up to 2.1; fixture field `f32VsF64`); tsnn must be within 10x that of PyTorch's float32 logits.
 */
import { describe, expect, it } from "vitest";
import { nn, Tensor } from "../../src/index.js";
import * as vit from "../../src/models/vision_transformer.js";
import { dec, detStateDict, detTensor, expectClose, fixture, values } from "../helpers.js";

const fx = fixture("models/vit.json");
const builders = vit as unknown as Record<string, (o?: any) => nn.Module>;

describe("vision_transformer: printouts and state-dict keys (torchvision 0.14)", () => {
  for (const b of fx.builders) {
    it(`${b.name}: ${b.keys.length} keys, ${b.numParams.toLocaleString("en-US")} parameters`, () => {
      const m = nn.init.skipInit(() => builders[b.name]());
      expect(m.toString()).toBe(b.repr);
      expect([...m.stateDict()].map(([k, t]) => [k, t.shape, t.dtype])).toEqual(b.keys);
      let n = 0;
      for (const p of m.parameters()) n += p.numel();
      expect(n).toBe(b.numParams);
    });
  }
});

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

describe("vision_transformer: eval logits for redrawn weights", () => {
  for (const c of fx.logits) {
    it(`${c.builder}(${JSON.stringify(c.kwargs)}) x=[${c.input[1]}]`, () => {
      const m = builders[c.builder](c.kwargs).eval();
      detStateDict(m, c.seed);
      const y = m.call(detTensor(c.input[0], c.input[1])) as Tensor;
      expectClose(y, dec(c.logits), { atol: 10 * c.f32VsF64.maxAbs, rtol: 0 }, c.builder);
    });
  }
});
