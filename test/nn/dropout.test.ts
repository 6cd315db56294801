/**
 * Dropout and Dropout2d in training mode. Masks come from tsnn's generator (`manualSeed`), which
 * cannot reproduce PyTorch's bits, so these tests check what PyTorch guarantees: the drop rate
 * (within 4.5 standard deviations of a Bernoulli count), kept values scaled by exactly
 * float32(1/(1-p)) as `bernoulli_(1-p).div_(1-p)` gives, whole channels for Dropout2d, p=0 and
 * p=1, in-place writes and reproducibility under a seed. Eval mode (identity) is tested in
 * layers.test.ts.
 */
import { describe, expect, it } from "vitest";
import { manualSeed, nn, ones, Tensor } from "../../src/index.js";
import { detTensor } from "../helpers.js";

function within(rate: number, p: number, n: number): void {
  const sigma = Math.sqrt((p * (1 - p)) / n);
  expect(Math.abs(rate - p), `rate ${rate} vs p=${p} (n=${n}, sigma=${sigma})`).toBeLessThan(4.5 * sigma);
}

describe("Dropout (train)", () => {
  for (const p of [0.1, 0.3, 0.5, 0.8]) {
    it(`p=${p} on x=ones([200000]): drop rate p, kept values exactly float32(1/(1-p))`, () => {
      manualSeed(1234);
      const y = new nn.Dropout(p).train().call(ones(200000));
      const scale = Math.fround(1 / Math.fround(1 - p));
      let zeros = 0;
      let other = 0;
      for (const v of y.data) {
        if (v === 0) zeros++;
        else if (v !== scale) other++;
      }
      expect(other, "kept values other than the scale").toBe(0);
      within(zeros / y.numel(), p, y.numel());
    });
  }

  it("kept elements are x·float32(1/(1-p)) for x=[64, 1000] of mixed values; the expectation is preserved", () => {
    manualSeed(7);
    const x = detTensor(11, [64, 1000], 3);
    const y = new nn.Dropout(0.25).call(x);
    const scale = Math.fround(1 / Math.fround(0.75));
    let sx = 0;
    let sy = 0;
    let bad = 0;
    for (let i = 0; i < x.numel(); i++) {
      if (y.data[i] !== 0 && y.data[i] !== Math.fround(x.data[i] * scale)) bad++;
      sx += Math.abs(x.data[i]);
      sy += Math.abs(y.data[i]);
    }
    expect(bad).toBe(0);
    expect(Math.abs(sy / sx - 1)).toBeLessThan(0.02);
  });

  it("p=0 keeps every value; p=1 gives zeros (x·0: NaN stays NaN)", () => {
    const x = detTensor(12, [3, 5]);
    expect(Array.from(new nn.Dropout(0).call(x).data)).toEqual(Array.from(x.data));
    const z = new nn.Dropout(1).call(new Tensor(Float32Array.from([NaN, -1, 2]), [3]));
    expect(Array.from(z.data)).toEqual([NaN, -0, 0]);
  });

  it("inplace=True writes the masked values into the input and bumps its version", () => {
    manualSeed(3);
    const x = detTensor(13, [1000]);
    const v0 = x._version;
    const y = new nn.Dropout(0.5, true).call(x);
    expect(y).toBe(x);
    expect(x._version).toBe(v0 + 1);
    expect(Array.from(x.data).filter((v) => v === 0).length).toBeGreaterThan(400);
  });

  it("manualSeed makes masks reproducible", () => {
    const x = detTensor(14, [500]);
    manualSeed(99);
    const a = new nn.Dropout(0.5).call(x);
    manualSeed(99);
    const b = new nn.Dropout(0.5).call(x);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });
});

describe("Dropout2d (train)", () => {
  it("x=[64,50,3,3] p=0.4: whole channels dropped at rate p, kept ones scaled by float32(1/(1-p))", () => {
    manualSeed(5);
    const x = ones([64, 50, 3, 3]);
    const y = new nn.Dropout2d(0.4).call(x);
    const scale = Math.fround(1 / Math.fround(0.6));
    let dropped = 0;
    for (let c = 0; c < 64 * 50; c++) {
      const slice = Array.from(y.data.subarray(c * 9, c * 9 + 9));
      const first = slice[0];
      expect(slice.every((v) => v === first)).toBe(true);
      expect(first === 0 || first === scale).toBe(true);
      if (first === 0) dropped++;
    }
    within(dropped / 3200, 0.4, 3200);
  });

  it("a 3-D input is treated as [N, C, L], as PyTorch 1.13 does; 1-D input is an error", () => {
    manualSeed(6);
    const y = new nn.Dropout2d(0.5).call(ones([40, 30, 7]));
    for (let c = 0; c < 1200; c++) {
      const s = Array.from(y.data.subarray(c * 7, c * 7 + 7));
      expect(new Set(s).size).toBe(1);
    }
    expect(() => new nn.Dropout2d(0.5).call(ones([3]))).toThrow("Feature dropout requires at least 2 dimensions in the input");
  });
});
