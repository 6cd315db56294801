/**
 * torchvision.ops blocks against torchvision 0.14 (fixtures: scripts/make_zoo_mobile_fixtures.py →
 * test/fixtures/ops/ops.json): every printout byte for byte, state-dict keys and shapes in order,
 * and eval forwards with deterministic weights (`detStateDict`) within 1e-5 + 1e-5·|y| (single
 * blocks of one to three layers; float32 accumulation order differs from PyTorch's).
 */
import { describe, expect, it } from "vitest";
import { nn, ops } from "../../src/index.js";
import { dec, detStateDict, detTensor, expectClose, fixture } from "../helpers.js";

const F = fixture("ops/ops.json");

/** The TypeScript twin of every case of OPS_CASES in the fixture script, by id. */
const CASES: Record<string, () => nn.Module> = {
  cna_default: () => new ops.Conv2dNormActivation(3, 8),
  cna_k1_relu6: () => new ops.Conv2dNormActivation(8, 16, { kernelSize: 1, activationLayer: nn.ReLU6 }),
  cna_dw_s2_hardswish: () => new ops.Conv2dNormActivation(8, 8, { stride: 2, groups: 8, activationLayer: nn.Hardswish }),
  cna_no_norm: () => new ops.Conv2dNormActivation(4, 6, { normLayer: null }),
  cna_no_act: () => new ops.Conv2dNormActivation(4, 6, { kernelSize: 1, activationLayer: null }),
  cna_no_norm_no_act: () => new ops.Conv2dNormActivation(4, 6, { normLayer: null, activationLayer: null }),
  cna_partial_bn_silu: () =>
    new ops.Conv2dNormActivation(4, 6, { kernelSize: 5, normLayer: (c: number) => new nn.BatchNorm2d(c, { eps: 1e-3 }), activationLayer: nn.SiLU }),
  cna_bn_momentum: () => new ops.Conv2dNormActivation(4, 6, { normLayer: (c: number) => new nn.BatchNorm2d(c, { eps: 0.001, momentum: 0.01 }) }),
  cna_dilation2: () => new ops.Conv2dNormActivation(4, 4, { kernelSize: 3, dilation: 2 }),
  cna_tuple_kernel: () => new ops.Conv2dNormActivation(4, 4, { kernelSize: [1, 3], dilation: [1, 2] }),
  cna_padding_given: () => new ops.Conv2dNormActivation(4, 4, { kernelSize: 3, padding: 0 }),
  cna_inplace_false: () => new ops.Conv2dNormActivation(4, 4, { inplace: false }),
  cna_inplace_none_gelu: () => new ops.Conv2dNormActivation(4, 4, { activationLayer: nn.GELU, inplace: null }),
  cna_bias_true: () => new ops.Conv2dNormActivation(4, 4, { bias: true }),
  se_default: () => new ops.SqueezeExcitation(16, 4),
  se_hardsigmoid: () => new ops.SqueezeExcitation(16, 8, { scaleActivation: nn.Hardsigmoid }),
  se_silu: () => new ops.SqueezeExcitation(24, 6, { activation: nn.SiLU }),
  mlp_default: () => new ops.MLP(8, [16, 4]),
  mlp_one: () => new ops.MLP(8, [3]),
  mlp_gelu_dropout: () => new ops.MLP(8, [32, 16, 8], { activationLayer: nn.GELU, inplace: null, dropout: 0.1 }),
  mlp_norm_nobias: () => new ops.MLP(8, [16, 4], { normLayer: nn.LayerNorm, bias: false, inplace: false }),
  permute: () => new ops.Permute([0, 2, 3, 1]),
  sd_row: () => new ops.StochasticDepth(0.1, "row"),
  sd_batch_0: () => new ops.StochasticDepth(0.0, "batch"),
  sd_row_small: () => new ops.StochasticDepth(0.0125, "row"),
};

describe("ops printouts equal torchvision's", () => {
  it("covers every fixture case", () => expect(Object.keys(CASES)).toEqual(Object.keys(F.printouts)));
  for (const [id, expected] of Object.entries<string>(F.printouts)) {
    it(id, () => expect(CASES[id]().toString()).toBe(expected));
  }
});

describe("ops state-dict keys and shapes equal torchvision's", () => {
  for (const [id, expected] of Object.entries<[string, number[]][]>(F.stateDictKeys)) {
    it(id, () => expect([...CASES[id]().stateDict()].map(([k, t]) => [k, t.shape])).toEqual(expected));
  }
});

describe("ops eval forwards match torchvision", () => {
  for (const { case: id, input, output } of F.forwards) {
    const [shape, seed] = input as [number[], number];
    it(`${id} x=[${shape}]`, () => {
      const m = CASES[id]().eval();
      detStateDict(m);
      expectClose(m.call(detTensor(seed, shape)), dec(output), { rtol: 1e-5, atol: 1e-5 }, id);
    });
  }
});

describe("Conv2dNormActivation", () => {
  it("is a Sequential with children 0, 1, 2 and outChannels", () => {
    const b = new ops.Conv2dNormActivation(3, 8, { stride: 2 });
    expect(b).toBeInstanceOf(nn.Sequential);
    expect([...b.namedChildren()].map(([k]) => k)).toEqual(["0", "1", "2"]);
    expect(b.outChannels).toBe(8);
  });
  it("calls a factory function with the channel count and a class with new", () => {
    const seen: number[] = [];
    const b = new ops.Conv2dNormActivation(3, 5, {
      normLayer: (c: number) => {
        seen.push(c);
        return new nn.Identity();
      },
    });
    expect(seen).toEqual([5]);
    expect(b.at(1)).toBeInstanceOf(nn.Identity);
  });
  it("rejects a factory that returns no Module", () => {
    expect(() => new ops.Conv2dNormActivation(3, 5, { normLayer: (() => 3) as any })).toThrow(/did not return a Module/);
  });
});

describe("optional arguments positionally, in torchvision's order, or as options", () => {
  it("Conv2dNormActivation(16, 32, 3, 2, null, 16, BN(eps=1e-3), nn.Hardswish) prints as the options form", () => {
    const bn = (c: number) => new nn.BatchNorm2d(c, { eps: 1e-3 });
    const a = new ops.Conv2dNormActivation(16, 32, 3, 2, null, 16, bn, nn.Hardswish);
    const b = new ops.Conv2dNormActivation(16, 32, { kernelSize: 3, stride: 2, groups: 16, normLayer: bn, activationLayer: nn.Hardswish });
    expect(a.toString()).toBe(b.toString());
    expect(new ops.Conv2dNormActivation(4, 6, 1, { activationLayer: null }).toString()).toBe(F.printouts.cna_no_act);
  });
  it("SqueezeExcitation(16, 8, nn.ReLU, nn.Hardsigmoid) and MLP(8, [16, 4], nn.LayerNorm, nn.ReLU, false, false)", () => {
    expect(new ops.SqueezeExcitation(16, 8, nn.ReLU, nn.Hardsigmoid).toString()).toBe(F.printouts.se_hardsigmoid);
    expect(new ops.MLP(8, [16, 4], nn.LayerNorm, nn.ReLU, false, false).toString()).toBe(F.printouts.mlp_norm_nobias);
  });
  it("unknown keywords and too many positionals: Python's TypeError", () => {
    expect(F.errors.cna_unknown_keyword[0]).toBe("TypeError");
    expect(() => new ops.Conv2dNormActivation(4, 6, { kernel: 3 } as any)).toThrow(F.errors.cna_unknown_keyword[1]);
    expect(() => new ops.SqueezeExcitation(4, 2, nn.ReLU, nn.Sigmoid, nn.ReLU as any)).toThrow(F.errors.se_too_many[1]);
    expect(() => new (ops.MLP as any)(4, [2], null, nn.ReLU, true, true, 0.0, 1)).toThrow(F.errors.mlp_too_many[1]);
  });
});

describe("MLP errors", () => {
  it("empty hidden_channels", () => {
    const [type, msg] = F.errors.mlp_empty;
    expect(type).toBe("IndexError");
    expect(() => new ops.MLP(4, [])).toThrow(msg);
  });
});
