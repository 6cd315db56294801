/**
 * Losses against PyTorch 1.13 (scripts/make_training_fixtures.py → test/fixtures/training/losses.json):
 * the value for every option (weight, ignoreIndex, reduction, labelSmoothing, class-index and
 * probability targets, K-dim inputs, posWeight, BCE's log clamp) and the gradient with respect to
 * the input (of the loss, or of its sum for `reduction: "none"`), plus PyTorch's error texts.
 *
 * Tolerance 1e-6·|y| + 1e-6 (values and gradients); tsnn accumulates in double, PyTorch in float32.
 */
import { describe, expect, it } from "vitest";
import { nn, Tensor, type DType } from "../../src/index.js";
import * as L from "../../src/nn/loss.js";
import { dec, expectClose, fixture, type EncTensor } from "../helpers.js";

interface Case {
  name: string;
  loss: "CrossEntropyLoss" | "NLLLoss" | "MSELoss" | "L1Loss" | "BCEWithLogitsLoss" | "BCELoss";
  options: Record<string, unknown>;
  input: EncTensor;
  target: EncTensor;
  out?: EncTensor;
  gradInput?: EncTensor;
  error?: { type: string; message: string };
}

const CASES = fixture<Case[]>("training/losses.json");
const TOL = { rtol: 1e-6, atol: 1e-6 };

function options(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    const key = k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    out[key] = Array.isArray(v) ? new Tensor(Float32Array.from(v as number[]), [v.length]) : v;
  }
  return out;
}

function module(c: Case): nn.Module {
  const o = options(c.options);
  switch (c.loss) {
    case "CrossEntropyLoss": return new L.CrossEntropyLoss(o);
    case "NLLLoss": return new L.NLLLoss(o);
    case "MSELoss": return new L.MSELoss(o);
    case "L1Loss": return new L.L1Loss(o);
    case "BCEWithLogitsLoss": return new L.BCEWithLogitsLoss(o);
    case "BCELoss": return new L.BCELoss(o);
  }
}

const WITH_GRAD = {
  CrossEntropyLoss: L.crossEntropyWithGrad,
  NLLLoss: L.nllLossWithGrad,
  MSELoss: L.mseLossWithGrad,
  L1Loss: L.l1LossWithGrad,
  BCEWithLogitsLoss: L.binaryCrossEntropyWithLogitsWithGrad,
  BCELoss: L.binaryCrossEntropyWithGrad,
} as Record<Case["loss"], (x: Tensor, t: Tensor<DType>, o: any) => L.LossWithGrad>;

describe("losses: values (modules) against PyTorch", () => {
  for (const c of CASES.filter((c) => c.out)) {
    it(c.name, () => {
      const out = module(c).call(dec(c.input) as Tensor, dec(c.target));
      expectClose(out, dec(c.out!), TOL, c.name);
    });
  }
});

describe("losses: gradient with respect to the input against PyTorch", () => {
  for (const c of CASES.filter((c) => c.gradInput)) {
    it(c.name, () => {
      const r = WITH_GRAD[c.loss](dec(c.input) as Tensor, dec(c.target), options(c.options));
      const g = new Tensor(new Float32Array(r.out.numel()).fill(1), r.out.shape);
      expectClose(r.backward(g), dec(c.gradInput!), TOL, c.name);
    });
  }
});

describe("losses: errors as PyTorch's", () => {
  for (const c of CASES.filter((c) => c.error)) {
    it(`${c.name}: ${c.error!.type}`, () => {
      expect(() => module(c).call(dec(c.input) as Tensor, dec(c.target))).toThrow(c.error!.message);
      try {
        module(c).call(dec(c.input) as Tensor, dec(c.target));
      } catch (e) {
        expect((e as Error).constructor.name.replace(/_$/, "")).toBe(c.error!.type);
      }
    });
  }
});

describe("losses: modules", () => {
  it("weight is a buffer (in stateDict, as PyTorch's _WeightedLoss); BCEWithLogitsLoss registers weight and pos_weight", () => {
    const w = new Tensor(new Float32Array([1, 2]), [2]);
    expect([...new L.CrossEntropyLoss({ weight: w }).stateDict().keys()]).toEqual(["weight"]);
    expect([...new L.BCEWithLogitsLoss({ posWeight: w }).stateDict().keys()]).toEqual(["pos_weight"]);
    expect([...new L.MSELoss().stateDict().keys()]).toEqual([]);
  });
  it("positional weight, options after it", () => {
    const w = new Tensor(new Float32Array([1, 2]), [2]);
    const m = new L.CrossEntropyLoss(w, { labelSmoothing: 0.1 });
    expect(m.weight).toBe(w);
    expect(m.labelSmoothing).toBe(0.1);
    expect(m.toString()).toBe("CrossEntropyLoss()");
  });
});
