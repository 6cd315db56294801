/**
 * torchvision's GoogLeNet (test/fixtures/models/googlenet.json, scripts/make_zoo_classic_fixtures.py):
 * printouts byte for byte (with and without the auxiliary heads), state-dict keys/shapes/order,
 * torchvision's truncated-normal init, eval logits at x=[2,3,64,64] and with `transformInput` at
 * x=[1,3,64,64], and train mode without dropout (deterministic: BatchNorm on batch statistics)
 * returning `{ logits, auxLogits2, auxLogits1 }`, all for deterministic weights. Tolerance:
 * 10 × PyTorch's own float32-vs-float64 difference for each case (8.0e-6 with logits up to 7.4;
 * 3.5e-6 with transformInput; train mode 4.4e-5 with logits up to 1.0: BatchNorm on batch statistics
 * of 2x2 maps amplifies rounding), see test/models/family.ts.
 */
import { describe, expect, it } from "vitest";
import { models, nn, noGrad, Tensor, type DType } from "../../src/index.js";
import { dec, detStateDict, detTensor, expectClose } from "../helpers.js";
import { camelOpts, describeFamily, loadFamily } from "./family.js";

const fam = loadFamily("googlenet");
const fx = fam.raw;
describeFamily(fam, { title: "GoogLeNet", builders: { googlenet: models.googlenet }, logits: { factor: 10 } });

describe("GoogLeNet (torchvision.models.googlenet)", () => {

  it("auxLogits: false leaves aux1/aux2 as plain null attributes (no children, not printed)", () => {
    const m = nn.init.skipInit(() => models.googlenet({ auxLogits: false }));
    expect(m.aux1).toBeNull();
    expect([...m.namedChildren()].map(([n]) => n)).not.toContain("aux1");
  });

  it("init: convs and linears truncated normal(0, 0.01) in [-2, 2], BatchNorm 1/0", () => {
    const m = models.googlenet();
    const w = m.inception4e.getSubmodule("branch2.1.conv") as nn.Conv2d;
    const d = w.weight.data as Float32Array;
    const std = Math.sqrt(d.reduce((s, v) => s + v * v, 0) / d.length);
    expect(std).toBeCloseTo(0.01, 3);
    expect(d.every((v) => v >= -2 && v <= 2)).toBe(true);
    expect([...m.fc.bias!.data].some((v) => v !== 0)).toBe(true); // Linear's default bias init stays
    const bn = m.getSubmodule("conv1.bn") as nn.BatchNorm2d;
    expect(bn.eps).toBe(0.001);
    expect([...bn.weight!.data].every((v) => v === 1)).toBe(true);
  });

  it("nn.init.truncNormal_ keeps every draw inside [a, b] (PyTorch: trunc_normal_ with absolute bounds)", () => {
    const t = new Tensor(new Float32Array(20000), [20000]);
    nn.init.truncNormal_(t, 0, 1, -0.5, 1.5);
    const d = t.data as Float32Array;
    expect(d.every((v) => v >= -0.5 && v <= 1.5)).toBe(true);
    const mean = d.reduce((s, v) => s + v, 0) / d.length;
    expect(Math.abs(mean - 0.35627)).toBeLessThan(0.02); // the mean of N(0,1) truncated to [-0.5, 1.5]
  });

  it("train mode (dropout 0): { logits, auxLogits2, auxLogits1 } match PyTorch's GoogLeNetOutputs", () => {
    const t = fx.train;
    const m = nn.init.skipInit(() => models.googlenet(camelOpts(t.kwargs)));
    detStateDict(m);
    m.train();
    const heads: Record<string, unknown> = {};
    m.aux1!.registerForwardHook((_m, _i, o) => void (heads.aux1 = o));
    m.aux2!.registerForwardHook((_m, _i, o) => void (heads.aux2 = o));
    const out = noGrad(() => m.call(detTensor(t.input[1], t.input[0]))) as models.GoogLeNetOutputs; // PyTorch: under no_grad
    expect(Object.keys(out)).toEqual(["logits", "auxLogits2", "auxLogits1"]);
    // torchvision 0.14's field order: aux_logits2 is head aux1's output, aux_logits1 head aux2's.
    expect(out.auxLogits2).toBe(heads.aux1);
    expect(out.auxLogits1).toBe(heads.aux2);
    const tol = { rtol: 0, atol: 10 * t.f32VsF64MaxAbs };
    expectClose(out.logits as Tensor<DType>, dec(t.logits), tol, "logits");
    expectClose(out.auxLogits2 as Tensor<DType>, dec(t.auxLogits2), tol, "auxLogits2");
    expectClose(out.auxLogits1 as Tensor<DType>, dec(t.auxLogits1), tol, "auxLogits1");
  });
});
