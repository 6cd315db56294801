/**
 * Every layer's forward against PyTorch: the fixture holds PyTorch's parameters (loaded through
 * loadStateDict), inputs and outputs, plus the state after the steps (BatchNorm running stats).
 *
 * Tolerance: |diff| <= 1e-6 + 1e-6·|expected|. Outputs are O(1); a conv/linear output sums up to
 * 300 products, PyTorch accumulates them in float32 and tsnn in double, so the two differ by a few
 * float32 ulps (ulp(1.4) = 1.2e-7). Measured worst case over all cases: 1.07e-6 at |y| = 1.38.
 */
import { describe, expect, it } from "vitest";
import { Tensor, type DType } from "../src/index.js";
import { buildLayer, dec, decStateDict, expectClose, fixture, specLabel, type EncTensor, values } from "./helpers.js";

const TOL = { rtol: 1e-6, atol: 1e-6 };

interface Case {
  name: string;
  type: string;
  args: any[];
  kwargs: Record<string, any>;
  mode: "train" | "eval";
  state: [string, EncTensor][];
  steps: { input: EncTensor; output: EncTensor | EncTensor[] }[];
  stateAfter: [string, EncTensor][];
}

describe("layer forward matches PyTorch", () => {
  for (const c of fixture<Case[]>("forward.json")) {
    const shapes = c.steps.map((s) => `x=[${s.input.shape.join(",")}]`).join(" then ");
    it(`${c.name}: ${specLabel(c.type, c.args, c.kwargs)} ${c.mode} ${shapes}`, () => {
      const m = buildLayer(c.type, c.args, c.kwargs);
      m.loadStateDict(decStateDict(c.state));
      m.train(c.mode === "train");
      c.steps.forEach((step, i) => {
        const y = m.call(dec(step.input) as Tensor);
        if (Array.isArray(step.output)) {
          const [out, idx] = y as [Tensor, Tensor<"int64">];
          expectClose(out, dec(step.output[0]), TOL, `step ${i} output`);
          expect(idx.dtype).toBe("int64");
          expect(values(idx)).toEqual(values(dec(step.output[1])));
        } else {
          expectClose(y as Tensor, dec(step.output), TOL, `step ${i} output`);
        }
      });
      const after = m.stateDict();
      for (const [key, expected] of decStateDict(c.stateAfter)) {
        const actual = after.get(key) as Tensor<DType>;
        expect(actual, key).toBeDefined();
        expectClose(actual, expected, TOL, key);
      }
    });
  }
});
