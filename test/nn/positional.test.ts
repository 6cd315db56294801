/**
 * Conv2d, Linear and BatchNorm take PyTorch's optional arguments positionally too, as published
 * models write them (`nn.Conv2d(16, 33, 3, 2)`, `nn.Linear(10, 5, False)`), mixed with keywords;
 * a value given both ways or an unknown keyword is Python's TypeError. Expected printouts, keys and
 * error texts: scripts/make_layer_fixtures.py (PyTorch 1.13) → test/fixtures/layers/positional.json.
 */
import { describe, expect, it } from "vitest";
import { fixture } from "../helpers.js";
import { build, label, type Spec } from "./layer_fixtures.js";

const cases = fixture<{
  modules: { spec: Spec; repr: string; stateDict: [string, number[]][] }[];
  errors: { spec: Spec; error: [string, string] }[];
}>("layers/positional.json");

describe("optional arguments given positionally", () => {
  for (const c of cases.modules) {
    it(`${label(c.spec)} prints and registers as PyTorch`, () => {
      const m = build(c.spec);
      expect(m.toString()).toBe(c.repr);
      expect([...m.stateDict()].map(([k, v]) => [k, v.shape])).toEqual(c.stateDict);
    });
  }
  for (const c of cases.errors) {
    it(`${label(c.spec)} is ${c.error[0]}: ${c.error[1]}`, () => {
      let caught: unknown = null;
      try {
        build(c.spec);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(Error);
      expect([(caught as Error).name, (caught as Error).message]).toEqual(c.error);
    });
  }
});
