/**
 * Shared checks of the mobile model-family tests (mobilenetv2, mobilenetv3, mnasnet,
 * shufflenetv2) against torchvision 0.14 fixtures written by scripts/make_zoo_mobile_fixtures.py:
 * printouts byte for byte, state-dict keys/shapes/dtypes in order, `_metadata` versions,
 * parameter counts, and eval logits for deterministic weights.
 */
import { describe, expect, it } from "vitest";
import type { nn } from "../../src/index.js";
import { dec, detStateDict, detTensor, expectClose, fixture } from "../helpers.js";

/** torchvision keyword → tsnn option name. */
const CAMEL: Record<string, string> = {
  num_classes: "numClasses",
  width_mult: "widthMult",
  round_nearest: "roundNearest",
  reduced_tail: "reducedTail",
  dilated: "dilated",
  dropout: "dropout",
};

/** Python kwargs of a fixture case as a tsnn options object. */
export function camelOptions(kwargs: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(kwargs).map(([k, v]) => [CAMEL[k] ?? k, v]));
}

type Builder = (opts?: any) => nn.Module;

interface Tree {
  print: string;
  /** Index into the fixture's `keySets` (each distinct list of key names stored once). */
  keySet: number;
  shapes: number[][];
  /** One letter per key: f = float32, i = int64. */
  dtypes: string;
  versions: [string, number][];
  numParameters: number;
}

/** `[key, shape, dtype]` of a module's state dict, in order. */
export function keysOf(m: nn.Module): [string, number[], string][] {
  return [...m.stateDict()].map(([k, t]) => [k, [...t.shape], t.dtype]);
}

const DTYPES: Record<string, string> = { f: "float32", i: "int64" };

/** The fixture tree's `[key, shape, dtype]` list. */
export function expectedKeys(F: any, t: Tree): [string, number[], string][] {
  return (F.keySets[t.keySet] as string[]).map((k, i) => [k, t.shapes[i], DTYPES[t.dtypes[i]]]);
}

function checkTree(F: any, build: () => nn.Module, t: Tree): void {
  const m = build();
  expect(m.toString()).toBe(t.print);
  expect(keysOf(m)).toEqual(expectedKeys(F, t));
  const sd = m.stateDict();
  const versions = [...sd._metadata!].filter(([, v]) => v.version !== 1).map(([k, v]) => [k, v.version]);
  expect(versions).toEqual(t.versions);
  let n = 0;
  for (const p of m.parameters()) n += p.numel();
  expect(n).toBe(t.numParameters);
}

/**
 * The printout / keys / logits suites of one family fixture. `tol(case)` gives the logits
 * tolerance for a case (see each test file's header for the measured numbers).
 */
export function familySuites(file: string, builders: Record<string, Builder>, tol: (c: any) => { rtol: number; atol: number }): any {
  const F = fixture(`models/${file}`);
  describe(`${file}: builders print and key as torchvision's`, () => {
    it("covers every torchvision builder of the family", () => expect(Object.keys(builders)).toEqual(Object.keys(F.builders)));
    for (const [name, t] of Object.entries<Tree>(F.builders)) {
      it(`${name}()`, () => checkTree(F, () => builders[name](), t));
    }
    for (const v of F.variants) {
      it(`${v.builder}(${JSON.stringify(camelOptions(v.kwargs))})`, () => checkTree(F, () => builders[v.builder](camelOptions(v.kwargs)), v));
    }
  });
  describe(`${file}: builder keywords`, () => {
    const [first] = Object.keys(builders);
    it(`${first}({ fooBar: 1 }): ${F.unknownKeyword ? "Python's TypeError" : "ignored, as torchvision's **kwargs"}`, () => {
      if (F.unknownKeyword) expect(() => builders[first]({ fooBar: 1 })).toThrow(F.unknownKeyword[1]);
      else expect(() => builders[first]({ fooBar: 1 })).not.toThrow();
    });
  });
  describe(`${file}: eval logits for deterministic weights match PyTorch`, () => {
    for (const c of F.logits) {
      const [shape, seed] = c.input as [number[], number];
      it(`${c.builder}(${JSON.stringify(camelOptions(c.kwargs))}) x=[${shape}]`, () => {
        const m = builders[c.builder](camelOptions(c.kwargs)).eval();
        detStateDict(m);
        const y = m.call(detTensor(seed, shape));
        expectClose(y, dec(c.logits), tol(c), c.builder);
      });
    }
  });
  return F;
}
