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
 * float32 logits.
 */
import { describe, expect, it } from "vitest";
import { nn, Tensor } from "../../src/index.js";
import * as swin from "../../src/models/swin_transformer.js";
import { dec, detStateDict, detTensor, expectClose, fixture, values } from "../helpers.js";

const fx = fixture("models/swin.json");
const builders = swin as unknown as Record<string, (o?: any) => nn.Module>;

describe("swin_transformer: printouts and state-dict keys (torchvision 0.14)", () => {
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

describe("swin_transformer: buffers", () => {
  it("ShiftedWindowAttentionV2(16, [8, 8], [0, 0], 2): relative_coords_table and relative_position_index", () => {
    const a = new swin.ShiftedWindowAttentionV2(16, [8, 8], [0, 0], 2);
    expectClose(a.relative_coords_table, dec(fx.v2Buffers.relative_coords_table), { rtol: 1e-6, atol: 1e-7 }, "coords");
    expect(values(a.relative_position_index)).toEqual(fx.v2Buffers.relative_position_index.data);
    expect(a.relative_position_index.shape).toEqual(fx.v2Buffers.relative_position_index.shape);
  });
});

describe("swin_transformer: eval logits for redrawn weights", () => {
  for (const c of fx.logits) {
    it(`${c.builder} x=[${c.input[1]}]`, () => {
      const m = nn.init.skipInit(() => builders[c.builder](c.kwargs)).eval(); // every float entry is redrawn below
      detStateDict(m, c.seed);
      const y = m.call(detTensor(c.input[0], c.input[1])) as Tensor; // with autograd recording (the default), as a plain PyTorch call
      expectClose(y, dec(c.logits), { atol: 10 * c.f32VsF64.maxAbs, rtol: 0 }, c.builder);
    });
  }
});
