/**
 * Shared checks of the classic model-zoo tests (alexnet, vgg, squeezenet, densenet, googlenet,
 * inception) against test/fixtures/models/<family>.json from scripts/make_zoo_classic_fixtures.py.
 *
 * Logit tolerance, per case: |tsnn - PyTorch| <= 10 × (PyTorch's own largest |float32 - float64|
 * logit difference for that model, weights and input), the fixture's `f32VsF64MaxAbs`. Two
 * float32 implementations that sum in different orders differ by about the float32 rounding error
 * of each, so the factor 10 leaves room without hiding a wrong layer (a wrong layer moves logits
 * by whole percent of their size, 1e3 to 1e5 times more).
 */
import { expect } from "vitest";
import { nn, Tensor, type DType } from "../../src/index.js";
import { dec, detStateDict, detTensor, expectClose, fixture, maxAbsDiff, type EncTensor } from "../helpers.js";

export interface TreeFixture {
  print: string;
  keys: [string, number[], string][];
  numParameters: number;
}
export interface LogitsFixture {
  builder: string;
  kwargs: Record<string, unknown>;
  input: [number[], number];
  logits: EncTensor;
  f32VsF64MaxAbs: number;
  f32VsF64MaxRel: number;
  maxAbsLogit: number;
}
export interface FamilyFixture {
  builders: Record<string, TreeFixture>;
  variants: (TreeFixture & { builder: string; kwargs: Record<string, unknown> })[];
  logits: LogitsFixture[];
  [extra: string]: any;
}

/** Load test/fixtures/models/<family>.json. */
export function familyFixture(family: string): FamilyFixture {
  return fixture(`models/${family}.json`);
}

/** PyTorch keyword arguments → tsnn options (snake_case → camelCase, tuples → arrays). */
export function camelOpts(kwargs: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(kwargs)) out[k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())] = v;
  return out;
}

/** `toString()` equals PyTorch's `repr`; state-dict keys, shapes, dtypes and order; parameter count. */
export function checkTree(m: nn.Module, want: TreeFixture): void {
  expect(m.toString()).toBe(want.print);
  expect([...m.stateDict()].map(([k, t]) => [k, t.shape, t.dtype])).toEqual(want.keys);
  expect([...m.parameters()].reduce((s, p) => s + p.numel(), 0)).toBe(want.numParameters);
}

/** A model built without random init (its weights are overwritten by `detStateDict`). */
export function buildForLogits<M extends nn.Module>(build: () => M): M {
  return nn.init.skipInit(build);
}

/**
 * Eval logits of `m` for the deterministic weights and input of `c`, against PyTorch's within
 * 10 × PyTorch's own float32-vs-float64 difference; returns tsnn's largest |difference|.
 */
export function checkLogits(m: nn.Module, c: LogitsFixture): number {
  detStateDict(m);
  m.eval();
  const [shape, seed] = c.input;
  const y = m.call(detTensor(seed, shape)) as Tensor<DType>;
  const want = dec(c.logits);
  const atol = 10 * c.f32VsF64MaxAbs;
  expectClose(y, want, { rtol: 0, atol }, `${c.builder}(${JSON.stringify(c.kwargs)}) x=[${shape}]`);
  return maxAbsDiff(y, want);
}
