/**
 * maxvit_t against torchvision 0.14 (scripts/make_transformer_fixtures.py →
 * test/fixtures/models/maxvit.json): printout byte for byte, state-dict keys/shapes/dtypes in order,
 * parameter count, and eval logits at 224 px (the smallest input maxvit_t accepts: every block's
 * input must be a multiple of the partition size 7), batch 1, every float entry redrawn by
 * `detStateDict`.
 *
 * Tolerance: PyTorch's own float32 logits differ from its float64 ones by at most 1.1e-5 (logits up
 * to 0.86; fixture field `f32VsF64`); tsnn must be within 10x that of PyTorch's float32 logits.
 * Shared checks: test/models/family.ts.
 */
import { describe, expect, it } from "vitest";
import * as maxvit from "../../src/models/maxvit.js";
import { describeFamily, loadFamily } from "./family.js";

const fam = loadFamily("maxvit");
describeFamily(fam, { title: "MaxVit", builders: { maxvit_t: maxvit.maxvit_t }, logits: { factor: 10 } });

describe("maxvit: input sizes", () => {
  for (const e of fam.raw.errors) {
    it(`inputSize ${JSON.stringify(e.kwargs.inputSize)}: torchvision's error`, () => {
      expect(() => maxvit.maxvit_t(e.kwargs)).toThrow(e.error);
    });
  }
});
