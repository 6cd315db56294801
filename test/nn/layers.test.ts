/**
 * The torch.nn layers of issue 11 against PyTorch 1.13 (fixtures: scripts/make_layer_fixtures.py →
 * test/fixtures/layers/): printouts byte for byte, state-dict keys, shapes and init values,
 * eval-mode forwards on det_tensor inputs (affine parameters redrawn so no layer is an identity),
 * activations on NaN/±Inf/±0/large inputs, and PyTorch's error texts.
 *
 * Tolerance: |diff| <= 1e-6 + 1e-6·|expected|. tsnn computes each element in double and rounds
 * once; PyTorch's float32 vector code (erf by a polynomial, exp by Sleef, float sums) differs by
 * a few ulps. LayerNorm/GroupNorm statistics are double sums of <= 189 values, PyTorch's float.
 */
import { describe, expect, it } from "vitest";
import { nn, Tensor } from "../../src/index.js";
import { detTensor, expectClose, fixture } from "../helpers.js";
import { build, decode, label, type Spec } from "./layer_fixtures.js";

const TOL = { rtol: 1e-6, atol: 1e-6 };

/** The fixture script's `redraw`: state-dict entry i gets det_tensor(777 + 1000(i+1)), weights + 1. */
function redraw(m: nn.Module): void {
  [...m.stateDict()].forEach(([k, v], i) => {
    const t = detTensor(777 + 1000 * (i + 1), v.shape);
    const d = t.data;
    if (k.endsWith("weight")) for (let j = 0; j < d.length; j++) d[j] += 1;
    v.copy_(t);
  });
}

describe("layer printouts and state dicts equal PyTorch's", () => {
  const cases = fixture<{ spec: Spec; repr: string; stateDict: [string, number[], number[]][] }[]>("layers/modules.json");
  for (const c of cases) {
    it(label(c.spec), () => {
      const m = build(c.spec);
      expect(m.toString()).toBe(c.repr);
      const sd = [...m.stateDict()].map(([k, v]) => [k, v.shape, Array.from(v.data as ArrayLike<number | bigint>, Number).slice(0, 4)]);
      expect(sd).toEqual(c.stateDict.map(([k, shape, vals]) => [k, shape, vals.map(Math.fround)]));
    });
  }
});

describe("layer forwards (eval) equal PyTorch's", () => {
  const cases = fixture<any[]>("layers/forward.json");
  for (const c of cases) {
    const spec = c.spec as Spec;
    if (c.shape) {
      it(`${label(spec)} x=[${c.shape}]`, () => {
        const m = build(spec).eval();
        redraw(m);
        const y = m.call(detTensor(c.offset, c.shape, c.scale));
        if (Array.isArray(y)) {
          expectClose(y[0], decode(c.output[0]), TOL, "output");
          expect(Array.from(y[1].data as BigInt64Array, Number)).toEqual(c.output[1].data);
          expect(y[1].shape).toEqual(c.output[1].shape);
        } else expectClose(y, decode(c.output), TOL, label(spec));
      });
    } else {
      it(`${label(spec)} on NaN, ±Inf, ±0, ±3, ±40, ±100`, () => {
        const y = build(spec).call(decode(c.input) as Tensor);
        const e = decode(c.output);
        expectClose(y, e, TOL, label(spec));
        for (let i = 0; i < e.numel(); i++) {
          if (e.data[i] === 0 && y.data[i] === 0) expect(Object.is(y.data[i], e.data[i]), `sign of zero at ${i}`).toBe(true);
        }
      });
    }
  }
});

describe("MaxPool2d takes PyTorch's optionals positionally too", () => {
  it("nn.MaxPool2d(3, 2) is MaxPool2d(3, { stride: 2 }); (2, 1, 1) sets padding", () => {
    expect(new nn.MaxPool2d(3, 2).toString()).toBe("MaxPool2d(kernel_size=3, stride=2, padding=0, dilation=1, ceil_mode=False)");
    expect(new nn.MaxPool2d(2, 1, 1).toString()).toBe(new nn.MaxPool2d(2, { stride: 1, padding: 1 }).toString());
    expect(new nn.MaxPool2d(3, { stride: 2, ceilMode: true }).ceilMode).toBe(true);
    expect(() => new nn.MaxPool2d(3, 2, { stride: 1 } as any)).toThrow("got multiple values for argument 'stride'");
  });
});

describe("LayerNorm({ bias: false }) (PyTorch >= 2.1)", () => {
  it("registers weight only; the forward has no shift", () => {
    const m = new nn.LayerNorm(4, { bias: false });
    expect([...m.stateDict().keys()]).toEqual(["weight"]);
    expect(m.toString()).toBe("LayerNorm((4,), eps=1e-05, elementwise_affine=True)");
    const x = detTensor(31, [3, 4]);
    expectClose(m.call(x), nn.functional.layerNorm(x, [4]), TOL, "no bias");
  });
});

describe("InstanceNorm2d in training updates its running stats as PyTorch", () => {
  it("InstanceNorm2d(3, affine, track_running_stats, momentum=0.3) x=[2,3,5,4] train", () => {
    const fx = fixture<any>("layers/functional.json").instanceNormTrain;
    const m = new nn.InstanceNorm2d(3, { affine: true, trackRunningStats: true, momentum: 0.3 }).train();
    redraw(m);
    expectClose(m.call(detTensor(600, [2, 3, 5, 4], 3)), decode(fx.output), TOL, "output");
    const sd = m.stateDict();
    for (const [k, e] of fx.stateDict) {
      if (e.dtype === "int64") expect(Number(sd.get(k)!.data[0])).toBe(e.data[0]);
      else expectClose(sd.get(k)! as any, decode(e), TOL, k);
    }
  });
});

describe("in-place activations and dropout", () => {
  it("inplace=True writes into the input and bumps its version; the default leaves it alone", () => {
    for (const Cls of [nn.ReLU, nn.ReLU6, nn.SiLU, nn.Hardswish, nn.Hardsigmoid, nn.LeakyReLU, nn.ELU, nn.Hardtanh, nn.Mish, nn.SELU, nn.CELU] as any[]) {
      const x = detTensor(5, [2, 3, 4], 5);
      const before = x.clone();
      const v0 = x._version;
      const y = new Cls().call(x);
      expect(y === x, "a new tensor").toBe(false);
      expect(x.data).toEqual(before.data);
      const z = new Cls({ inplace: true }).call(x);
      expect(z).toBe(x);
      expect(x._version).toBe(v0 + 1);
      expect(x.data).toEqual(y.data);
    }
  });

  it("each activation's pointwise() kernel computes its forward on a flat buffer (for fusion)", () => {
    const mods = [new nn.ReLU(), new nn.ReLU6(), new nn.Sigmoid(), new nn.Tanh(), new nn.SiLU(), new nn.Hardswish(), new nn.Hardsigmoid(),
      new nn.GELU(), new nn.GELU("tanh"), new nn.LeakyReLU(0.2), new nn.ELU(0.7), new nn.Hardtanh(-2, 3), new nn.Mish(), new nn.SELU(),
      new nn.CELU(0.6), new nn.Threshold(0.3, -1), new nn.Softplus(2, 5), new nn.LogSigmoid(), new nn.Softsign(), new nn.Tanhshrink(),
      new nn.Hardshrink(0.4), new nn.Softshrink(0.3)];
    const x = detTensor(9, [2, 3, 5], 6);
    for (const m of mods) {
      const { kernel, params } = m.pointwise();
      const out = new Float32Array(x.numel());
      kernel(x.data, out, out.length, ...params);
      expectClose(new Tensor(out, x.shape), m.call(x), TOL, m.toString());
    }
  });

  it("Dropout in eval returns its input itself, as PyTorch", () => {
    const x = detTensor(6, [2, 3]);
    expect(new nn.Dropout(0.3).eval().call(x)).toBe(x);
    expect(new nn.Dropout2d(0.3).eval().call(x)).toBe(x);
  });
});

describe("layer error texts equal PyTorch's", () => {
  const errs = fixture<Record<string, [string, string] | null>>("layers/errors.json");
  const z = (...s: number[]) => new Tensor(new Float32Array(s.reduce((a, b) => a * b, 1)), s);
  const cases: Record<string, () => unknown> = {
    "Dropout(1.5)": () => new nn.Dropout(1.5),
    "Dropout(-0.1)": () => new nn.Dropout(-0.1),
    "Dropout2d(2.0)": () => new nn.Dropout2d(2.0),
    "GroupNorm(4, 6)": () => new nn.GroupNorm(4, 6),
    "Unflatten(1, 3)": () => new nn.Unflatten(1, 3 as any),
    "Unflatten(1, [2, 2.5])": () => new nn.Unflatten(1, [2, 2.5]),
    "AvgPool2d(2, padding=2) x=[1,1,5,5]": () => new nn.AvgPool2d(2, { padding: 2 }).call(z(1, 1, 5, 5)),
    "AvgPool2d(3, padding=[1, 2]) x=[1,1,5,5]": () => new nn.AvgPool2d(3, { padding: [1, 2] }).call(z(1, 1, 5, 5)),
    "AvgPool2d(2, stride=0) x=[1,1,4,4]": () => new nn.AvgPool2d(2, { stride: 0 }).call(z(1, 1, 4, 4)),
    "AvgPool2d(2, divisor_override=0) x=[1,1,4,4]": () => new nn.AvgPool2d(2, { divisorOverride: 0 }).call(z(1, 1, 4, 4)),
    "AvgPool2d(5) x=[1,1,4,4]": () => new nn.AvgPool2d(5).call(z(1, 1, 4, 4)),
    "AvgPool2d(2) x=[4,4]": () => new nn.AvgPool2d(2).call(z(4, 4)),
    "AvgPool2d(0) x=[1,1,4,4]": () => new nn.AvgPool2d(0).call(z(1, 1, 4, 4)),
    "AdaptiveMaxPool2d(2) x=[3]": () => new nn.AdaptiveMaxPool2d(2).call(z(3)),
    "Flatten(2, 1) x=[2,3,4]": () => new nn.Flatten(2, 1).call(z(2, 3, 4)),
    "Flatten(1, 3) x=[2,3,4]": () => new nn.Flatten(1, 3).call(z(2, 3, 4)),
    "Unflatten(1, [2, 4]) x=[2,6]": () => new nn.Unflatten(1, [2, 4]).call(z(2, 6)),
    "LayerNorm(4) x=[2,5]": () => new nn.LayerNorm(4).call(z(2, 5)),
    "LayerNorm([3, 4]) x=[4]": () => new nn.LayerNorm([3, 4]).call(z(4)),
    "GroupNorm(2, 6) x=[2,4,3]": () => new nn.GroupNorm(2, 6).call(z(2, 4, 3)),
    "GroupNorm(2, 6, affine=False) x=[2,5,3]": () => new nn.GroupNorm(2, 6, { affine: false }).call(z(2, 5, 3)),
    "Softmax(3) x=[2,3]": () => new nn.Softmax(3).call(z(2, 3)),
    "GELU('x') x=[2]": () => new nn.GELU("x" as any).call(z(2)),
    "Dropout2d(0.5) x=[3] train": () => new nn.Dropout2d(0.5).call(z(3)),
    "GLU() x=[2,5]": () => new nn.GLU().call(z(2, 5)),
    "PReLU(3) x=[2,4,5]": () => new nn.PReLU(3).call(z(2, 4, 5)),
    "Dropout1d() x=[2,3,4,5]": () => new nn.Dropout1d().call(z(2, 3, 4, 5)),
    "PixelShuffle(2) x=[2,3]": () => new nn.PixelShuffle(2).call(z(2, 3)),
    "PixelShuffle(2) x=[1,5,2,2]": () => new nn.PixelShuffle(2).call(z(1, 5, 2, 2)),
    "PixelUnshuffle(2) x=[1,1,5,4]": () => new nn.PixelUnshuffle(2).call(z(1, 1, 5, 4)),
    "PixelUnshuffle(2) x=[1,1,4,5]": () => new nn.PixelUnshuffle(2).call(z(1, 1, 4, 5)),
    "ReflectionPad2d(3) x=[1,1,3,3]": () => new nn.ReflectionPad2d(3).call(z(1, 1, 3, 3)),
    "InstanceNorm2d(3) x=[2,3]": () => new nn.InstanceNorm2d(3).call(z(2, 3)),
    "InstanceNorm1d(3) x=[1,3,1] train": () => new nn.InstanceNorm1d(3).call(z(1, 3, 1)),
    "LocalResponseNorm(2) x=[2,3]": () => new nn.LocalResponseNorm(2).call(z(2, 3)),
    "ChannelShuffle(4) x=[1,6,2,2]": () => new nn.ChannelShuffle(4).call(z(1, 6, 2, 2)),
    "ChannelShuffle(2) x=[6]": () => new nn.ChannelShuffle(2).call(z(6)),
  };
  for (const [name, fn] of Object.entries(cases)) {
    it(name, () => {
      const e = errs[name];
      expect(e, "fixture case").toBeTruthy();
      let thrown: any = null;
      try {
        fn();
      } catch (err) {
        thrown = err;
      }
      expect(thrown, "an error").toBeTruthy();
      expect(thrown.message).toContain(e![1]);
      expect(thrown.name).toBe(e![0]);
    });
  }
});
