/**
 * torchvision's Inception v3 (test/fixtures/models/inception.json, scripts/make_zoo_classic_fixtures.py):
 * printouts byte for byte (with and without `AuxLogits`), state-dict keys/shapes/order,
 * torchvision's truncated-normal init (std 0.1; `fc.stddev` 0.001 on the aux head's fc), eval
 * logits at the smallest input x=[1,3,75,75] and with `transformInput` at x=[1,3,80,80], and the
 * auxiliary head alone on its 17x17 grid in eval and train mode, all for deterministic weights.
 * Tolerance: 10 × PyTorch's own float32-vs-float64 difference for each model case (4.0e-7 with
 * logits up to 0.37; 2.7e-7 with transformInput); the aux head alone: 1e-5 + 1e-5·|y| (a conv over
 * 3200 terms and one over 768·25 terms, then BatchNorm).
 */
import { describe, expect, it } from "vitest";
import { models, nn, noGrad, Tensor, type DType } from "../../src/index.js";
import { dec, detStateDict, detTensor, expectClose } from "../helpers.js";
import { describeFamily, loadFamily } from "./family.js";

const fam = loadFamily("inception");
const fx = fam.raw;
describeFamily(fam, { title: "Inception v3", builders: { inception_v3: models.inception_v3 }, logits: { factor: 10 } });

describe("Inception v3 (torchvision.models.inception_v3)", () => {

  it("init: truncated normal std 0.1 for convs and linears, 0.001 for the aux head's fc, BatchNorm eps 0.001", () => {
    const m = models.inception_v3();
    const std = (t: Tensor<DType>): number => {
      const d = t.data as Float32Array;
      return Math.sqrt(d.reduce((s, v) => s + v * v, 0) / d.length);
    };
    expect(std((m.getSubmodule("Mixed_6b.branch7x7_2.conv") as nn.Conv2d).weight)).toBeCloseTo(0.1, 2);
    expect(std((m.getSubmodule("AuxLogits.conv1.conv") as nn.Conv2d).weight)).toBeCloseTo(0.1, 2); // stddev sits on the block
    expect(std((m.getSubmodule("AuxLogits.fc") as nn.Linear).weight)).toBeCloseTo(0.001, 4);
    expect(std(m.fc.weight)).toBeCloseTo(0.1, 2);
    expect((m.getSubmodule("Conv2d_1a_3x3.bn") as nn.BatchNorm2d).eps).toBe(0.001);
  });

  for (const a of fx.auxHead) {
    it(`InceptionAux(768, 10) x=[${a.input[0]}] ${a.train ? "train" : "eval"} matches PyTorch`, () => {
      const aux = nn.init.skipInit(() => new models.inception.InceptionAux(768, 10));
      detStateDict(aux);
      aux.train(a.train);
      expectClose(noGrad(() => aux.call(detTensor(a.input[1], a.input[0]))), dec(a.output), { rtol: 1e-5, atol: 1e-5 }, "aux head");
    });
  }

  it("train mode returns { logits, auxLogits } with AuxLogits' output (stand-in head: 75 px is too small for the real one), the logits alone without auxLogits", () => {
    const m = nn.init.skipInit(() => models.inception_v3({ dropout: 0, numClasses: 7 }));
    detStateDict(m);
    m.AuxLogits = new nn.Flatten(); // Mixed_6e's map is 3x3 here; the real head's 5x5/3 pool needs 17x17 (299 px)
    m.train();
    const out = noGrad(() => m.call(detTensor(5, [2, 3, 75, 75]))) as models.InceptionOutputs;
    expect(Object.keys(out)).toEqual(["logits", "auxLogits"]);
    expect(out.logits.shape).toEqual([2, 7]);
    expect(out.auxLogits!.shape).toEqual([2, 768 * 3 * 3]);
    m.auxLogits = false; // torchvision's eager_outputs: the logits alone unless training with aux_logits
    expect(noGrad(() => m.call(detTensor(5, [2, 3, 75, 75])))).toBeInstanceOf(Tensor);
  });

});
