/**
 * Swin Transformer v1/v2 builders against torchvision 0.14 (scripts/make_transformer_fixtures.py →
 * test/fixtures/models/swin.json): printouts byte for byte, state-dict keys/shapes/dtypes in order
 * (relative_position_index and v2's relative_coords_table are persistent buffers in 0.14),
 * parameter counts, the v2 buffers' values, and eval logits of swin_t (64 px) and swin_v2_t (72 px),
 * batch 2, with every float entry redrawn by `detStateDict`. Both sizes keep shifted windows with
 * padding in the first two stages.
 *
 * Tolerance: PyTorch's own float32 logits differ from its float64 ones by at most 1.5e-6 (swin_t)
 * and 1.7e-6 (swin_v2_t) (fixture field `f32VsF64`); tsnn must be within 10x that of PyTorch's
 * float32 logits (run under `noGrad`, as the script runs PyTorch under no_grad; a small Swin checks
 * that a forward recording the graph gives the same logits). Shared checks: test/models/family.ts.
 */
import { describe, expect, it } from "vitest";
import { isGradEnabled, nn, noGrad, type Tensor } from "../../src/index.js";
import * as swin from "../../src/models/swin_transformer.js";
import { dec, detStateDict, detTensor, expectClose, values } from "../helpers.js";
import { describeFamily, loadFamily } from "./family.js";

const fam = loadFamily("swin");
const fx = fam.raw;
const { swin_t, swin_s, swin_b, swin_v2_t, swin_v2_s, swin_v2_b } = swin;
describeFamily(fam, { title: "Swin Transformer", builders: { swin_t, swin_s, swin_b, swin_v2_t, swin_v2_s, swin_v2_b }, logits: { factor: 10 } });

describe("swin_transformer: buffers", () => {
  it("ShiftedWindowAttentionV2(16, [8, 8], [0, 0], 2): relative_coords_table and relative_position_index", () => {
    const a = new swin.ShiftedWindowAttentionV2(16, [8, 8], [0, 0], 2);
    expectClose(a.relative_coords_table, dec(fx.v2Buffers.relative_coords_table), { rtol: 1e-6, atol: 1e-7 }, "coords");
    expect(values(a.relative_position_index)).toEqual(fx.v2Buffers.relative_position_index.data);
    expect(a.relative_position_index.shape).toEqual(fx.v2Buffers.relative_position_index.shape);
  });
});

describe("swin_transformer: a forward that records the graph (grad mode on, as a plain PyTorch call)", () => {
  for (const block of [swin.SwinTransformerBlock, swin.SwinTransformerBlockV2]) {
    it(`SwinTransformer([4, 4], 8, [2, 2], [2, 2], [2, 2], ${block.name}) x=[2,3,16,16]: same logits as under noGrad`, () => {
      const m = new swin.SwinTransformer([4, 4], 8, [2, 2], [2, 2], [2, 2], { numClasses: 5, block, downsampleLayer: block === swin.SwinTransformerBlock ? swin.PatchMerging : swin.PatchMergingV2 });
      detStateDict(m, 7);
      m.eval();
      const x = detTensor(3, [2, 3, 16, 16]);
      expect(isGradEnabled()).toBe(true);
      const recorded = m.call(x) as Tensor;
      const plain = noGrad(() => m.call(x)) as Tensor;
      expectClose(recorded, plain, { rtol: 1e-6, atol: 1e-6 }, block.name);
    });
  }
});
