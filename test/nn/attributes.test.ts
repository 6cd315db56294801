/**
 * Attribute assignment as PyTorch's `__setattr__`: a plain attribute (a TS class field declared
 * before the constructor assigns it, or `self.w = None`) replaced by a Parameter registers the
 * parameter in assignment order. Expected keys: scripts/make_module_fixtures.py (PyTorch 1.13).
 */
import { describe, expect, it } from "vitest";
import { nn, zeros, ones } from "../../src/index.js";
import { fixture } from "../helpers.js";

const expected = fixture<Record<string, { stateDict: [string, number[]][]; repr: string }>>("module/attributes.json");

class PlainThenParameter extends nn.Module {
  weight: nn.Parameter | null = null;
  scale: nn.Parameter | number = 1.0;
  declare bias: nn.Parameter;

  constructor() {
    super();
    this.weight = new nn.Parameter(zeros(3));
    this.bias = new nn.Parameter(zeros(2));
    this.scale = new nn.Parameter(ones(1));
  }
}

describe("a plain attribute replaced by a Parameter", () => {
  it("registers the parameters in assignment order, as PyTorch: weight [3], bias [2], scale [1]", () => {
    const m = new PlainThenParameter();
    const e = expected.plain_then_parameter;
    expect([...m.stateDict()].map(([k, v]) => [k, v.shape])).toEqual(e.stateDict);
    expect(m.toString()).toBe(e.repr);
    expect(m.weight).toBeInstanceOf(nn.Parameter);
  });
});
