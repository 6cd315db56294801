/**
 * stochastic depth (torchvision: `ops.stochastic_depth`, `ops.StochasticDepth`): identity in eval
 * and for p=0, whole-row or whole-batch drops with survivors scaled by 1/(1-p), torchvision's error
 * texts (fixtures: scripts/make_zoo_mobile_fixtures.py → test/fixtures/ops/ops.json). The drop
 * rate is checked statistically: tsnn's generator is not PyTorch's, so the masks differ.
 */
import { describe, expect, it } from "vitest";
import { ops, ones, Generator } from "../../src/index.js";
import { fixture } from "../helpers.js";

const F = fixture("ops/ops.json");

describe("stochasticDepth", () => {
  it("eval mode and p=0 return the input itself", () => {
    const x = ones([4, 3, 2, 2]);
    expect(ops.stochasticDepth(x, 0.5, "row", false)).toBe(x);
    expect(ops.stochasticDepth(x, 0.0, "row", true)).toBe(x);
    const m = new ops.StochasticDepth(0.5, "row").eval();
    expect(m.call(x)).toBe(x);
  });

  it("row mode x=[4000,2,3]: each row all 0 or all 1/(1-p), drop rate ≈ p", () => {
    const p = 0.3;
    const y = ops.stochasticDepth(ones([4000, 2, 3]), p, "row", true, new Generator(7));
    expect(y.shape).toEqual([4000, 2, 3]);
    const d = y.data as Float32Array;
    let dropped = 0;
    for (let r = 0; r < 4000; r++) {
      const row = Array.from(d.subarray(r * 6, r * 6 + 6));
      expect(new Set(row).size).toBe(1);
      expect([0, Math.fround(1 / (1 - p))]).toContain(row[0]);
      if (row[0] === 0) dropped++;
    }
    expect(Math.abs(dropped / 4000 - p)).toBeLessThan(0.03);
  });

  it("batch mode x=[8,3]: the whole tensor is kept or dropped", () => {
    const gen = new Generator(11);
    let dropped = 0;
    for (let i = 0; i < 400; i++) {
      const y = ops.stochasticDepth(ones([8, 3]), 0.5, "batch", true, gen);
      const vals = new Set(Array.from(y.data as Float32Array));
      expect(vals.size).toBe(1);
      if (vals.has(0)) dropped++;
      else expect(vals.has(2)).toBe(true);
    }
    expect(Math.abs(dropped / 400 - 0.5)).toBeLessThan(0.1);
  });

  it("p=1 drops everything (no division by zero)", () => {
    const y = ops.stochasticDepth(ones([5, 2]), 1.0, "row", true);
    expect(Array.from(y.data as Float32Array)).toEqual(new Array(10).fill(0));
  });

  it("module in train mode uses its p and mode", () => {
    const m = new ops.StochasticDepth(1.0, "batch").train();
    expect(Array.from(m.call(ones([2, 2])).data as Float32Array)).toEqual([0, 0, 0, 0]);
  });

  for (const [id, p, mode] of [["p_high", 1.5, "row"], ["p_low", -0.25, "row"], ["mode", 0.5, "rows"]] as const) {
    it(`error ${id}: torchvision's text`, () => {
      const [type, msg] = F.errors[id];
      expect(type).toBe("ValueError");
      expect(() => ops.stochasticDepth(ones([2, 3]), p, mode)).toThrow(msg);
    });
  }
});
