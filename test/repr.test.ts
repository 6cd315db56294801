/**
 * Python value formatting used by every printout; expected strings are Python's own repr.
 */
import { describe, expect, it } from "vitest";
import { nn } from "../src/index.js";
import { fixture } from "./helpers.js";

describe("pyFloat equals Python's repr(float)", () => {
  for (const [value, repr] of fixture("printouts.json").floats as [number, string][]) {
    it(`${repr}`, () => expect(nn.pyFloat(value)).toBe(repr));
  }
});

describe("pyRepr", () => {
  it("formats tuples, one-tuples, booleans, None and nested arrays", () => {
    expect(nn.pyRepr([3, 3])).toBe("(3, 3)");
    expect(nn.pyRepr([3])).toBe("(3,)");
    expect(nn.pyRepr([null, 7])).toBe("(None, 7)");
    expect(nn.pyRepr(true)).toBe("True");
    expect(nn.pyRepr(false)).toBe("False");
    expect(nn.pyRepr(null)).toBe("None");
    expect(nn.pyRepr("same")).toBe("same");
    expect(nn.pyRepr(0.5)).toBe("0.5");
    expect(nn.pyRepr(2)).toBe("2");
  });
  it("addIndent indents all lines but the first", () => {
    expect(nn.addIndent("a\nb\nc", 2)).toBe("a\n  b\n  c");
    expect(nn.addIndent("single", 2)).toBe("single");
  });
});
