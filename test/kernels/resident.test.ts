/**
 * Resident weight images (src/tensor/wasm/resident.ts: packed and Winograd-transformed weights in
 * the kernels' memory): past a high-water mark, the start of an outermost module call drops the
 * images not used since the previous one, so a synchronous loop over many models (whose dead
 * weights wait for finalization between tasks) stays within the kernels' memory, and a dropped
 * image is rebuilt, giving the same bits, when its model runs again.
 */
import { afterEach, describe, expect, it } from "vitest";
import { models, noGrad, Tensor } from "../../src/index.js";
import { _setResidentHighWater, residentEnd } from "../../src/tensor/wasm/resident.js";
import { detStateDict, detTensor } from "../helpers.js";

const bits = (t: Tensor): Buffer => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);

function cifarResNet18(seed: number): models.ResNet {
  const m = models.resnet18({ numClasses: 10, cifarStem: true }) as models.ResNet;
  detStateDict(m, seed);
  return m.eval();
}

let restore: number | null = null;
afterEach(() => {
  if (restore !== null) _setResidentHighWater(restore);
  restore = null;
});

describe("resident weight images past the high-water mark", () => {
  it("two models run alternately, their images dropped at every call, give their own bits each time (ResNet-18 CIFAR stem, x=[1,3,32,32])", () => {
    const a = cifarResNet18(1);
    const b = cifarResNet18(2);
    const x = detTensor(3, [1, 3, 32, 32]);
    const wantA = noGrad(() => a.call(x)).clone();
    const wantB = noGrad(() => b.call(x)).clone();
    restore = _setResidentHighWater(0);
    for (let i = 0; i < 3; i++) {
      expect(bits(noGrad(() => a.call(x)))).toEqual(bits(wantA));
      expect(bits(noGrad(() => b.call(x)))).toEqual(bits(wantB));
    }
  });

  it("eight models in one synchronous loop: the resident area stays about one model's size instead of growing with each", () => {
    const x = detTensor(4, [1, 3, 32, 32]);
    restore = _setResidentHighWater(0);
    const ends: number[] = [];
    for (let i = 0; i < 8; i++) {
      const m = cifarResNet18(10 + i);
      noGrad(() => m.call(x));
      noGrad(() => m.call(x));
      ends.push(residentEnd());
    }
    const first = ends[0];
    // One ResNet-18's images are ~60 MB (Winograd transforms included); eight would be ~8x.
    expect(Math.max(...ends)).toBeLessThan(first + 2 * first);
  });
});
