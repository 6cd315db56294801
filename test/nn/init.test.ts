/**
 * nn.init takes PyTorch's optional arguments positionally or as one options object
 * (`nn.init.normal_(w, std=0.01)` → `nn.init.normal_(w, { std: 0.01 })`), and wrong ones raise
 * PyTorch's errors (texts: scripts/make_module_fixtures.py, PyTorch 1.13). Draws come from tsnn's
 * generator, so values are checked by their statistics over 40,000 draws (bounds: 5 sigma).
 */
import { describe, expect, it } from "vitest";
import { manualSeed, nn, zeros } from "../../src/index.js";
import { fixture } from "../helpers.js";

const errors = fixture<Record<string, [string, string]>>("module/errors.json");

function stats(d: Float32Array): { mean: number; std: number; min: number; max: number } {
  let s = 0, q = 0, min = Infinity, max = -Infinity;
  for (const v of d) { s += v; q += v * v; min = Math.min(min, v); max = Math.max(max, v); }
  const mean = s / d.length;
  return { mean, std: Math.sqrt(q / d.length - mean * mean), min, max };
}

function thrown(fn: () => unknown): [string, string] {
  try {
    fn();
  } catch (e) {
    return [(e as Error).name, (e as Error).message];
  }
  throw new Error("expected an error");
}

describe("nn.init keyword forms, w=[200, 200]", () => {
  const N = 40_000;
  const sigma = (std: number) => (5 * std) / Math.sqrt(N);

  it("normal_(w, { mean: 1, std: 0.01 }) = normal_(w, 1, 0.01)", () => {
    manualSeed(1);
    const a = nn.init.normal_(zeros(200, 200), { mean: 1, std: 0.01 });
    manualSeed(1);
    const b = nn.init.normal_(zeros(200, 200), 1, 0.01);
    expect(a.data).toEqual(b.data);
    const s = stats(a.data);
    expect(Math.abs(s.mean - 1)).toBeLessThan(sigma(0.01));
    expect(Math.abs(s.std - 0.01)).toBeLessThan(0.01 * 0.02);
  });

  it("uniform_(w, { a: -2, b: 3 }), constant_(w, { val: 0.5 }), truncNormal_(w, { std: 0.02 })", () => {
    const u = stats(nn.init.uniform_(zeros(200, 200), { a: -2, b: 3 }).data);
    expect(u.min).toBeGreaterThanOrEqual(-2);
    expect(u.max).toBeLessThan(3);
    expect(Math.abs(u.mean - 0.5)).toBeLessThan(sigma(5 / Math.sqrt(12)));
    expect(stats(nn.init.constant_(zeros(200, 200), { val: 0.5 }).data)).toMatchObject({ min: 0.5, max: 0.5 });
    const t = stats(nn.init.truncNormal_(zeros(200, 200), { std: 0.02 }).data);
    expect(t.min).toBeGreaterThanOrEqual(-2);
    expect(Math.abs(t.std - 0.02)).toBeLessThan(0.02 * 0.02);
  });

  it("kaimingNormal_(w, 0, 'fan_out', 'relu') = kaimingNormal_(w, { mode: 'fan_out', nonlinearity: 'relu' }); xavierUniform_(w, { gain: 2 })", () => {
    manualSeed(2);
    const a = nn.init.kaimingNormal_(zeros(200, 200), 0, "fan_out", "relu");
    manualSeed(2);
    const b = nn.init.kaimingNormal_(zeros(200, 200), { mode: "fan_out", nonlinearity: "relu" });
    expect(a.data).toEqual(b.data);
    expect(Math.abs(stats(a.data).std - Math.sqrt(2 / 200))).toBeLessThan(Math.sqrt(2 / 200) * 0.02);
    const x = stats(nn.init.xavierUniform_(zeros(200, 200), { gain: 2 }).data);
    expect(x.max).toBeLessThanOrEqual(2 * Math.sqrt(6 / 400));
    expect(x.max).toBeGreaterThan(0.99 * 2 * Math.sqrt(6 / 400));
  });

  it("wrong arguments raise PyTorch's errors", () => {
    const w = () => zeros(3, 4);
    expect(thrown(() => nn.init.normal_(w(), { std: {} as unknown as number }))).toEqual(errors.init_normal_std_dict);
    expect(thrown(() => nn.init.uniform_(w(), { a: "x" as unknown as number }))).toEqual(errors.init_uniform_a_str);
    expect(thrown(() => nn.init.kaimingNormal_(w(), { mode: "fan_avg" as "fan_in" }))).toEqual(errors.init_kaiming_mode);
    expect(thrown(() => nn.init.normal_(w(), { sd: 1 } as object))).toEqual(errors.init_normal_unknown_kw);
    expect(thrown(() => nn.init.uniform_(w(), 2.0, -2.0))).toEqual(errors.init_trunc_normal_range);
  });
});
