/**
 * MNASNet (0.5, 0.75, 1.0, 1.3) against torchvision 0.14 (fixtures:
 * scripts/make_zoo_mobile_fixtures.py → test/fixtures/models/mnasnet.json): printouts byte for
 * byte (BatchNorm momentum 1 - 0.9997 printed as Python does), state-dict keys/shapes/order and
 * the `_metadata` version 2 of the root, a numClasses/dropout variant, torchvision's rebuild of
 * version-1 checkpoints, and eval logits for deterministic weights (every float entry redrawn by
 * `detStateDict`, BatchNorm running stats non-trivial).
 *
 * Tolerance: PyTorch's own float32-vs-float64 difference of these logits is at most 3.7e-4 for
 * mnasnet0_5 at 1x3x64x64 (|y| up to 295) and 2.7e-4 for mnasnet1_3 at 1x3x48x48 (|y| up to 210).
 * Measured: tsnn's logits differ from PyTorch's float32 ones by 4.4e-4 and 3.4e-4 (1.2x PyTorch's
 * own float32 error). Tolerance: atol = 5 x PyTorch's float32-vs-float64 difference of the
 * case + 1e-6, rtol 1e-5.
 */
import { describe, expect, it } from "vitest";
import { models, nn, Tensor, int64, zeros, type DType } from "../../src/index.js";
import { describeFamily, loadFamily } from "./family.js";

const fam = loadFamily("mnasnet");
const F = fam.raw;
describeFamily(fam, { title: "MNASNet", builders: { mnasnet0_5: models.mnasnet0_5, mnasnet0_75: models.mnasnet0_75, mnasnet1_0: models.mnasnet1_0, mnasnet1_3: models.mnasnet1_3 }, logits: { factor: 5, atol: 1e-6, rtol: 1e-5 } });

/** A state dict with the given keys and shapes (zeros; int64 for num_batches_tracked) and root version. */
function stateDictOf(keys: [string, number[]][], version: number): Map<string, Tensor<DType>> {
  const sd = new Map<string, Tensor<DType>>(
    keys.map(([k, shape]) => [k, k.endsWith("num_batches_tracked") ? (int64(0) as Tensor<DType>) : zeros(shape)]),
  ) as Map<string, Tensor<DType>> & { _metadata?: Map<string, { version?: number }> };
  sd._metadata = new Map([["", { version }]]);
  return sd;
}

describe("MNASNet checkpoints of older torchvision", () => {
  it("a version-1 mnasnet0_5 checkpoint rebuilds the stem as torchvision does, with its warning", () => {
    const v1 = F.v1Checkpoint;
    const m = nn.init.skipInit(() => models.mnasnet0_5());
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on("warning", onWarning);
    try {
      m.loadStateDict(stateDictOf(v1.keys, 1));
    } finally {
      process.off("warning", onWarning);
    }
    expect(m.toString()).toBe(v1.printAfterLoad);
    expect(models.mnasnet.MNASNET_V1_WARNING).toBe(v1.warning);
    // torchvision sets self._version = 1: the state dict says version 1 and loads into a fresh model.
    const sd = m.stateDict();
    expect(sd._metadata!.get("")).toEqual({ version: 1 });
    const fresh = nn.init.skipInit(() => models.mnasnet0_5());
    fresh.loadStateDict(sd);
    expect(fresh.toString()).toBe(v1.printAfterLoad);
  });

  it("an unknown version is refused with torchvision's text", () => {
    const [type, msg] = F.badVersionError;
    expect(type).toBe("ValueError");
    expect(() => nn.init.skipInit(() => models.mnasnet0_5()).loadStateDict(stateDictOf(F.v1Checkpoint.keys, 3))).toThrow(msg);
  });

  it("a state dict without _metadata loads as the current version", () => {
    const keys = fam.trees.mnasnet0_5.keys.map(([k, s]) => [k, s] as [string, number[]]);
    const sd = stateDictOf(keys, 2) as Map<string, Tensor<DType>> & { _metadata?: unknown };
    delete sd._metadata;
    expect(() => nn.init.skipInit(() => models.mnasnet0_5()).loadStateDict(sd)).not.toThrow();
  });
});

describe("MNASNet helpers", () => {
  const { _roundToMultipleOf, _getDepths } = models.mnasnet;
  it("_roundToMultipleOf rounds up unless within 10%: (83, 8) → 80, (84, 8) → 88", () => {
    expect(_roundToMultipleOf(83, 8)).toBe(80);
    expect(_roundToMultipleOf(84, 8)).toBe(88);
  });
  it("_getDepths(0.5) and (1.3)", () => {
    expect(_getDepths(0.5)).toEqual([16, 8, 16, 24, 40, 48, 96, 160]);
    expect(_getDepths(1.3)).toEqual([40, 24, 32, 56, 104, 128, 248, 416]);
  });
  it("MNASNet(1.0, 10, 0.5) positionally prints as mnasnet1_0({ numClasses: 10, dropout: 0.5 })", () => {
    expect(nn.init.skipInit(() => new models.MNASNet(1.0, 10, 0.5)).toString()).toBe(F.variants[0].print);
    expect(nn.init.skipInit(() => new models.MNASNet(1.0, 10, { dropout: 0.5 })).toString()).toBe(F.variants[0].print);
  });
  it("init: classifier Linear kaiming-uniform (fan_out = 1000, gain 1): U(-sqrt(3/1000), +), zero bias", () => {
    const fc = models.mnasnet0_5().classifier.at(1) as any;
    let maxAbs = 0;
    for (const v of fc.weight.data as Float32Array) maxAbs = Math.max(maxAbs, Math.abs(v));
    const bound = Math.sqrt(3 / 1000);
    expect(maxAbs).toBeLessThanOrEqual(bound);
    expect(maxAbs).toBeGreaterThan(bound * 0.99);
    expect(Array.from(fc.bias.data as Float32Array).every((v) => v === 0)).toBe(true);
  });
  it("bad alpha and stride: torchvision's errors", () => {
    expect(() => new models.MNASNet(0)).toThrow("alpha should be greater than 0.0 instead of 0.0");
    expect(() => new models.mnasnet._InvertedResidual(8, 8, 3, 3, 3)).toThrow("stride should be 1 or 2 instead of 3");
    expect(() => new models.mnasnet._InvertedResidual(8, 8, 7, 1, 3)).toThrow("kernel_size should be 3 or 5 instead of 7");
  });
});
