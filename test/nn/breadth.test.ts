/**
 * The breadth layers a translated model file needs, against PyTorch 1.13
 * (scripts/make_breadth_fixtures.py → test/fixtures/breadth/): nn.Embedding (paddingIdx, maxNorm
 * renorm in forward, fromPretrained), nn.ConvTranspose2d (stride, padding, outputPadding, groups,
 * dilation, outputSize) and its direct-loop oracle, nn.Conv1d (padding modes), Module.to/float/half.
 * Printouts and state-dict keys as whole strings; forwards for weights from `detStateDict`.
 * Tolerance: single layers, 1e-6 + 1e-6·|y|.
 */
import { describe, expect, it } from "vitest";
import { einsum, kernels, nn, Tensor, tensor, int64 } from "../../src/index.js";
import { dec, detStateDict, detTensor, expectClose, fixture } from "../helpers.js";

const TOL = { rtol: 1e-6, atol: 1e-6 };
const GRAD_TOL = { rtol: 1e-6, atol: 1e-6 };
const camel = (k: string): string => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const opts = (kw: Record<string, unknown>): Record<string, any> => Object.fromEntries(Object.entries(kw).map(([k, v]) => [camel(k), v]));
const keys = (m: nn.Module): [string, number[]][] => [...m.stateDict()].map(([k, t]) => [k, t.shape]);
const f = (e: any): Tensor => dec(e) as Tensor;

/** Expect `fn` to throw PyTorch's exception class name and message. */
function expectError(fn: () => unknown, [cls, msg]: [string, string]): void {
  let caught: unknown = null;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected ${cls}: ${msg}`).toBeInstanceOf(Error);
  const e = caught as Error;
  expect(e.message).toContain(msg);
  expect(e.constructor.name.replace(/_$/, "")).toBe(cls);
}

describe("nn.Embedding", () => {
  const fx = fixture("breadth/embedding.json");
  for (const c of fx.cases) {
    it(`${c.repr}: input [${c.input.shape}] → [${c.output.shape}]`, () => {
      const m = new nn.Embedding(c.args[0], c.args[1], opts(c.kwargs));
      expect(m.toString()).toBe(c.repr);
      expect(keys(m)).toEqual(c.keys);
      detStateDict(m, c.seed);
      const out = m.call(dec(c.input));
      expectClose(out, f(c.output), TOL, "output");
      // maxNorm renormalises the looked-up rows of the table in place, as PyTorch.
      expectClose(m.weight, f(c.weightAfter), TOL, "weight after forward");
    });
  }

  it("F.embedding(input, weight, paddingIdx) equals the module", () => {
    const c = fx.cases[1];
    const m = new nn.Embedding(c.args[0], c.args[1], opts(c.kwargs));
    detStateDict(m, c.seed);
    expectClose(nn.functional.embedding(dec(c.input), m.weight, 0), f(c.output), TOL);
  });

  it("fromPretrained: shares the table, frozen by default, paddingIdx printed", () => {
    const w = tensor([[1, 2.3, 3], [4, 5.1, 6.3]]);
    const m = nn.Embedding.fromPretrained(w, { paddingIdx: 1 });
    expect(m.toString()).toBe(fx.pretrained.repr);
    expect(m.weight.requiresGrad).toBe(fx.pretrained.requiresGrad);
    expect(nn.Embedding.fromPretrained(w, false).weight.requiresGrad).toBe(true);
    expect(m.call(int64([1])).toArray()).toEqual([Array.from(Float32Array.of(4, 5.1, 6.3))]);
  });

  it("initial table: N(0, 1) with the padding row zero", () => {
    const m = new nn.Embedding(50, 8, { paddingIdx: 3 });
    expect(Array.from(m.weight.data.subarray(24, 32))).toEqual(new Array(8).fill(0));
    expect(m.weight.std().item()).toBeGreaterThan(0.8);
  });

  it("errors in PyTorch's words", () => {
    const e = fx.errors;
    expectError(() => new nn.Embedding(5, 2).call(kernels.zeros(3) as any), e["float indices"]);
    expectError(() => new nn.Embedding(5, 2).call(int64([5])), e["out of range"]);
    expectError(() => new nn.Embedding(5, 2, 5), e["padding_idx too large"]);
    expectError(() => new nn.Embedding(5, 2, -6), e["padding_idx too small"]);
    expectError(() => nn.Embedding.fromPretrained(kernels.zeros(3)), e["from_pretrained 1-D"]);
  });
});

describe("nn.ConvTranspose2d and nn.Conv1d", () => {
  const fx = fixture("breadth/conv.json");
  for (const c of fx.cases) {
    it(`${c.repr}: x=[${c.input[1]}] → [${c.output.shape}]`, () => {
      const Cls = (nn as any)[c.type];
      const m: nn.Module = new Cls(...c.args, opts(c.kwargs));
      expect(m.toString()).toBe(c.repr);
      expect(keys(m)).toEqual(c.keys);
      detStateDict(m, c.seed);
      const x = detTensor(c.input[0], c.input[1]);
      expectClose(m.call(x), f(c.output), TOL, "output");
      if (c.type === "ConvTranspose2d") {
        const t = m as nn.ConvTranspose2d;
        const geo = { stride: t.stride, padding: t.padding, outputPadding: t.outputPadding, dilation: t.dilation, groups: t.groups };
        expectClose(kernels.convTranspose2dReference(x, t.weight, t.bias, geo), f(c.output), TOL, "reference");
      }
    });
  }

  it("ConvTranspose2d positional arguments are PyTorch's (output_padding before groups, dilation after bias)", () => {
    const m = new nn.ConvTranspose2d(4, 4, 4, 2, 1, 1, 4, false, 2);
    expect(m.toString()).toBe(fx.cases[4].repr.slice(0, -1) + ", bias=False)");
  });

  it("forward(x, outputSize) picks output_padding; an impossible size is PyTorch's ValueError", () => {
    const m = new nn.ConvTranspose2d(3, 2, 3, { stride: 2, padding: 1 });
    detStateDict(m, 42);
    const x = detTensor(77, [1, 3, 4, 4]);
    expectClose(m.call(x, [8, 8]), f(fx.outputSize.output), TOL);
    expectError(() => m.call(x, [9, 9]), fx.outputSize.error);
  });

  it("F.convTranspose2d / F.conv1d equal the modules", () => {
    const c = fx.cases[1];
    const m = new nn.ConvTranspose2d(c.args[0], c.args[1], c.args[2], opts(c.kwargs));
    detStateDict(m, c.seed);
    const x = detTensor(c.input[0], c.input[1]);
    expectClose(nn.functional.convTranspose2d(x, m.weight, m.bias, 2, 1, 1), f(c.output), TOL);
    const d = fx.cases[7];
    const m1 = new nn.Conv1d(d.args[0], d.args[1], d.args[2], opts(d.kwargs));
    detStateDict(m1, d.seed);
    expectClose(nn.functional.conv1d(detTensor(d.input[0], d.input[1]), m1.weight, m1.bias, { stride: 2, padding: 2, groups: 2 }), f(d.output), TOL);
  });

  it("errors in PyTorch's words", () => {
    const e = fx.errors;
    expectError(() => new nn.ConvTranspose2d(2, 2, 3, { paddingMode: "reflect" as any }), e["convT padding_mode"]);
    expectError(() => new nn.ConvTranspose2d(2, 2, 3, { stride: 1, outputPadding: 1 }).call(kernels.zeros(1, 2, 4, 4)), e["convT output_padding"]);
    expectError(() => new nn.ConvTranspose2d(2, 2, 3).call(kernels.zeros(1, 3, 4, 4)), e["convT channels"]);
    expectError(() => new nn.Conv1d(2, 2, 3).call(kernels.zeros(1, 2, 4, 4)), e["conv1d rank"]);
  });
});

describe("Module.to / cpu / float / half (tsnn is float32 on the CPU)", () => {
  const fx = fixture("breadth/module_to.json");
  it("to('cpu'), to({ type: 'cpu' }), to('float32'), to(x), cpu(), float() return the module itself", () => {
    const m = new nn.Linear(2, 2);
    expect(fx["cpu is self"]).toBe(true);
    for (const r of [m.to("cpu"), m.to("cpu:0"), m.to({ type: "cpu" }), m.to("float32"), m.to("torch.float32"), m.to("cpu", "float32"), m.to({ device: "cpu", dtype: "float" }), m.to(kernels.zeros(1)), m.cpu(), m.float(), m.type("torch.FloatTensor")]) {
      expect(r).toBe(m);
    }
  });

  it("integer dtypes: PyTorch's TypeError; CUDA: PyTorch's CPU-only AssertionError", () => {
    const m = new nn.Linear(2, 2);
    expectError(() => m.to("int64"), fx.int64);
    expectError(() => m.cuda(), fx.cuda);
    expectError(() => m.to("cuda"), fx.cuda);
  });

  it("half/double/bfloat16 and other devices are refused with the reason, parameters untouched", () => {
    const m = new nn.Linear(2, 2);
    const before = Array.from(m.weight.data);
    expect(() => m.half()).toThrow(/float32 only.*float16/);
    expect(() => m.double()).toThrow(/float32 only.*float64/);
    expect(() => m.to("float16")).toThrow(/float32 only/);
    expect(() => m.to({ dtype: "torch.bfloat16" })).toThrow(/float32 only/);
    expect(() => m.to("mps")).toThrow(/CPU only/);
    expect(Array.from(m.weight.data)).toEqual(before);
  });
});

describe("nn.RNN / nn.LSTM / nn.GRU", () => {
  const fx = fixture("breadth/rnn.json");
  const build = (c: any): any => {
    const Cls = (nn as any)[c.type];
    return new Cls(...c.args, opts(c.kwargs));
  };
  for (const c of fx.cases) {
    it(`${c.repr}: x=[${c.input[1]}] → output [${c.output.shape}], hN [${c.hN.shape}]${c.state ? ", with and without initial states" : ""}`, () => {
      const m = build(c).eval();
      expect(m.toString()).toBe(c.repr);
      expect(keys(m)).toEqual(c.keys);
      detStateDict(m, c.seed);
      const x = detTensor(c.input[0], c.input[1]);
      const [out, hN] = m.call(x);
      expectClose(out, f(c.output), TOL, "output");
      if (c.type === "LSTM") {
        expectClose(hN[0], f(c.hN), TOL, "hN");
        expectClose(hN[1], f(c.cN), TOL, "cN");
      } else expectClose(hN, f(c.hN), TOL, "hN");
      if (!c.state) return;
      const h0 = detTensor(c.state.h0[0], c.state.h0[1], 0.5);
      if (c.type === "LSTM") {
        const [o2, [h2, c2]] = m.call(x, [h0, detTensor(c.state.c0[0], c.state.c0[1], 0.5)]);
        expectClose(o2, f(c.stateOutput), TOL, "output (h0, c0)");
        expectClose(h2, f(c.stateHN), TOL, "hN (h0, c0)");
        expectClose(c2, f(c.stateCN), TOL, "cN (h0, c0)");
      } else {
        const [o2, h2] = m.call(x, h0);
        expectClose(o2, f(c.stateOutput), TOL, "output (h0)");
        expectClose(h2, f(c.stateHN), TOL, "hN (h0)");
      }
    });
  }

  for (const c of fx.cells) {
    it(`${c.repr}: x=[${c.input[1]}]${c.state ? " with a state" : ""} → [${(Array.isArray(c.output) ? c.output[0] : c.output).shape}]`, () => {
      const m: any = new (nn as any)[c.type](4, 5, opts(c.kwargs));
      expect(m.toString()).toBe(c.repr);
      expect(keys(m)).toEqual(c.keys);
      detStateDict(m, c.seed);
      const x = detTensor(c.input[0], c.input[1]);
      let state: any = null;
      if (c.state) {
        const h = detTensor(c.state[0], c.state[1], 0.5);
        state = c.type === "LSTMCell" ? [h, detTensor(c.state[0] + 200, c.state[1], 0.5)] : h;
      }
      const out = m.call(x, state);
      if (c.type === "LSTMCell") {
        expectClose(out[0], f(c.output[0]), TOL, "h'");
        expectClose(out[1], f(c.output[1]), TOL, "c'");
      } else expectClose(out, f(c.output), TOL, "h'");
    });
  }

  it("init: every parameter in U(-1/√hidden, 1/√hidden)", () => {
    const m = new nn.LSTM(3, 16, { numLayers: 2, bidirectional: true, projSize: 4 });
    for (const p of m.parameters()) for (const v of p.data) expect(Math.abs(v)).toBeLessThanOrEqual(0.25);
    expect(m.allWeights.length).toBe(4);
  });

  it("dropout between layers in train mode only", () => {
    const m = new nn.GRU(4, 5, { numLayers: 2, dropout: 0.5 });
    const x = detTensor(1, [6, 2, 4]);
    const [a] = m.eval().call(x);
    const [b] = m.call(x);
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    m.train();
    const outs = [0, 1, 2].map(() => Array.from(m.call(x)[0].data).join());
    expect(new Set([...outs, Array.from(a.data).join()]).size).toBeGreaterThan(1);
  });

  it("errors in PyTorch's words", () => {
    const e = fx.errors;
    const r = (...s: number[]): Tensor => kernels.zeros(s);
    expectError(() => new nn.LSTM(4, 5).call(r(1, 2, 3, 4)), e.rank);
    expectError(() => new nn.GRUCell(4, 5).call(r(1, 2, 4)), e["cell rank"]);
    expectError(() => new nn.GRU(4, 5).call(r(1, 2, 3, 4)), e["gru rank"]);
    expectError(() => new nn.GRU(4, 5).call(r(3, 2, 6)), e["input size"]);
    expectError(() => new nn.GRU(4, 5, 2).call(r(3, 2, 4), r(1, 2, 5)), e["hidden size"]);
    expectError(() => new nn.LSTM(4, 5).call(r(3, 2, 4), [r(1, 2, 5), r(1, 2, 4)]), e["lstm cell size"]);
    expectError(() => new nn.RNN(4, 5).call(r(3, 2, 4), r(2, 5)), e["hx rank"]);
    expectError(() => new nn.LSTM(4, 5).call(r(3, 4), [r(1, 1, 5), r(1, 5)]), e["lstm hx rank"]);
    expectError(() => new nn.GRU(4, 5, { projSize: 2 }), e["proj for GRU"]);
    expectError(() => new nn.LSTM(4, 5, { projSize: 5 }), e["proj too big"]);
    expectError(() => new nn.LSTM(4, 5, { dropout: 1.5 }), e["dropout range"]);
    expectError(() => new nn.RNN(4, 5, { nonlinearity: "sigmoid" as any }), e.nonlinearity);
  });
});

describe("einsum (on matmul)", () => {
  const fx = fixture("breadth/einsum.json");
  for (const c of fx.cases) {
    it(`einsum("${c.equation}", ${c.operands.map((o: any) => `[${o[1]}]`).join(", ")}) → [${c.output.shape}]`, () => {
      const ops = c.operands.map((o: any) => detTensor(o[0], o[1]));
      expectClose(einsum(c.equation, ...ops), f(c.output), TOL);
    });
  }

  it("operands as one array, as torch.einsum(eq, [a, b])", () => {
    const c = fx.cases[0];
    const ops = c.operands.map((o: any) => detTensor(o[0], o[1]));
    expectClose(einsum(c.equation, ops), f(c.output), TOL);
  });

  for (const [eq, shapes, e] of fx.errors) {
    it(`error: einsum("${eq}", ${shapes.map((s: number[]) => `[${s}]`).join(", ")})`, () => {
      expectError(() => einsum(eq, ...shapes.map((s: number[]) => kernels.zeros(s))), e);
    });
  }
});

describe("nn.ParameterList / nn.ParameterDict", () => {
  const fx = fixture("breadth/param_containers.json");
  class Net extends nn.Module {
    plist = new nn.ParameterList([new nn.Parameter(kernels.zeros(3, 4)), kernels.zeros(5)]);
    pdict = new nn.ParameterDict({ b: new nn.Parameter(kernels.zeros(2)), a: kernels.zeros(2, 2, 3) });
    fc: nn.Linear;
    constructor() {
      super();
      this.pdict.set("c", new nn.Parameter(kernels.zeros(1)));
      this.fc = new nn.Linear(2, 2);
    }
  }

  it("printout, state-dict keys (plist.0, pdict.a, …) and parameters() as PyTorch; tensors become Parameters; a plain object's keys sorted", () => {
    const net = new Net();
    expect(net.toString()).toBe(fx.repr);
    expect(keys(net)).toEqual(fx.keys);
    expect([...net.parameters()].length).toBe(fx.numParameters);
    expect(net.plist.at(1)).toBeInstanceOf(nn.Parameter);
    expect(net.plist.at(-1)).toBe(net.plist.at(1));
    expect(new nn.ParameterList().toString()).toBe(fx.emptyRepr);
  });

  it("list and dict operations", () => {
    const pl = new nn.ParameterList();
    pl.append(kernels.ones(2)).extend([kernels.ones(3), kernels.ones(4)]);
    expect(pl.length).toBe(3);
    expect([...pl].map((p) => p.shape[0])).toEqual([2, 3, 4]);
    expect(pl.slice(1).length).toBe(2);
    const pd = new nn.ParameterDict(new Map([["z", kernels.ones(1)], ["y", kernels.ones(2)]]));
    expect(pd.keys()).toEqual(["z", "y"]);
    expect(pd.pop("z").shape).toEqual([1]);
    expect(pd.has("z")).toBe(false);
    expect(pd.getOr("z", null)).toBeNull();
    expect([...pd.stateDict().keys()]).toEqual(["y"]);
  });

  it("errors in PyTorch's words", () => {
    const net = new Net();
    expectError(() => net.plist.at(5), fx.errors.index);
    expectError(() => net.plist.call(1), fx.errors.call);
    expectError(() => net.pdict.call(1), fx.errors.dictCall);
    expectError(() => new nn.ParameterList().extend(kernels.zeros(2) as any), fx.errors.extend);
  });
});

describe("nn.TransformerDecoderLayer / nn.TransformerDecoder / nn.Transformer (E=8, 2 heads)", () => {
  const fx = fixture("breadth/decoder.json");
  /** A fixture mask: bool as a bool tensor; float with null for -inf. */
  const mask = (e: any): Tensor<any> | null => {
    if (!e) return null;
    if (e.dtype === "bool") return new Tensor(Uint8Array.from(e.data), e.shape, "bool");
    return new Tensor(Float32Array.from(e.data.map((v: number | null) => (v === null ? -Infinity : v))), e.shape);
  };
  const masks = (m: Record<string, any>): Record<string, any> => Object.fromEntries(Object.entries(m).map(([k, v]) => [camel(k), mask(v)]));

  for (const c of fx.cases) {
    const label = `${c.kind === "stack" ? "TransformerDecoder(2 layers, norm)" : "TransformerDecoderLayer"} ${JSON.stringify(c.kwargs)} tgt=[${c.tgt[1]}] memory=[${c.memory[1]}] masks: ${Object.keys(c.masks).join(", ") || "none"}`;
    it(label, () => {
      const layer = new nn.TransformerDecoderLayer(8, 2, opts(c.kwargs));
      const m = c.kind === "stack" ? new nn.TransformerDecoder(layer, 2, new nn.LayerNorm(8)) : layer;
      m.eval();
      expect(m.toString()).toBe(c.repr);
      expect(keys(m)).toEqual(c.keys);
      detStateDict(m, c.seed);
      const out = m.call(detTensor(c.tgt[0], c.tgt[1]), detTensor(c.memory[0], c.memory[1]), masks(c.masks));
      expectClose(out, f(c.output), TOL, "output");
    });
  }

  it("Transformer(dModel=8, nhead=2, 2 encoder + 1 decoder layers): printout, keys, forward with causal tgt mask and key padding masks", () => {
    const t = fx.transformer;
    const m = new nn.Transformer({ dModel: 8, nhead: 2, numEncoderLayers: 2, numDecoderLayers: 1, dimFeedforward: 16 }).eval();
    expect(m.toString()).toBe(t.repr);
    expect(keys(m)).toEqual(t.keys);
    detStateDict(m, 123);
    const causal = nn.Transformer.generateSquareSubsequentMask(4);
    const kpm = mask(t.masks.src_key_padding_mask);
    const out = m.call(detTensor(95000, [5, 2, 8]), detTensor(96000, [4, 2, 8]), { tgtMask: causal, srcKeyPaddingMask: kpm, memoryKeyPaddingMask: kpm });
    expectClose(out, f(t.output), TOL, "output");
  });

  it("Transformer batchFirst + normFirst", () => {
    const t = fx.transformer.batchFirst;
    const m = new nn.Transformer({ dModel: 8, nhead: 2, numEncoderLayers: 1, numDecoderLayers: 1, dimFeedforward: 16, batchFirst: true, normFirst: true }).eval();
    expect(m.toString()).toBe(t.repr);
    detStateDict(m, 321);
    const out = m.call(detTensor(97000, [2, 5, 8]), detTensor(98000, [2, 4, 8]), null, nn.Transformer.generateSquareSubsequentMask(4));
    expectClose(out, f(t.output), TOL, "output");
  });

  it("generateSquareSubsequentMask(4): -inf above the diagonal, 0 elsewhere; the default Transformer has PyTorch's key count", () => {
    expect(Array.from(nn.Transformer.generateSquareSubsequentMask(4).data)).toEqual(Array.from(mask(fx.transformer.mask4)!.data as Float32Array));
    expect(new nn.Transformer().stateDict().size).toBe(fx.transformer.defaultKeys);
  });

  it("errors in PyTorch's words", () => {
    const m = new nn.Transformer({ dModel: 8, nhead: 2, numEncoderLayers: 1, numDecoderLayers: 1, dimFeedforward: 16 });
    expectError(() => m.call(kernels.zeros(5, 2, 8), kernels.zeros(4, 3, 8)), fx.transformer.errors.batch);
    expectError(() => m.call(kernels.zeros(5, 2, 8), kernels.zeros(4, 2, 6)), fx.transformer.errors.feature);
  });
});

/**
 * Gradients through the breadth layers (autograd over their ops and EmbeddingBackward0 /
 * ConvolutionBackward0 of the transposed convolution) against PyTorch: loss = Σ output ⊙ w.
 */
describe("gradients against PyTorch (loss = Σ output·w)", () => {
  const fx = fixture("breadth/grads.json");
  for (const c of fx.cases) {
    it(`${c.type}(${c.args.join(", ")}, ${JSON.stringify(c.kwargs)}): input and parameter gradients`, () => {
      const Cls = (nn as any)[c.type];
      const m: nn.Module = new Cls(...c.args, opts(c.kwargs)).eval();
      detStateDict(m, c.seed);
      const x: Tensor<any> = Array.isArray(c.input) ? detTensor(c.input[0], c.input[1]).requiresGrad_() : dec(c.input);
      let out = m.call(x);
      if (Array.isArray(out)) out = out[0];
      expectClose(out, f(c.output), TOL, "output");
      out.mul(detTensor(5, out.shape)).sum().backward();
      const params = new Map(m.namedParameters());
      for (const [k, g] of c.grads) expectClose(params.get(k)!.grad!, f(g), GRAD_TOL, `grad ${k}`);
      if (c.inputGrad) expectClose(x.grad!, f(c.inputGrad), GRAD_TOL, "input grad");
    });
  }

  it("einsum('bij,bjk->bik') and einsum('ii') (trace) gradients", () => {
    const a = detTensor(80000, [2, 3, 4]).requiresGrad_();
    const b = detTensor(80100, [2, 4, 5]).requiresGrad_();
    const y = einsum("bij,bjk->bik", a, b);
    y.mul(detTensor(5, y.shape)).sum().backward();
    expectClose(a.grad!, f(fx.einsum.a), GRAD_TOL, "a");
    expectClose(b.grad!, f(fx.einsum.b), GRAD_TOL, "b");
    const d = detTensor(80200, [4, 4]).requiresGrad_();
    einsum("ii", d).backward();
    expectClose(d.grad!, f(fx.einsum.trace), GRAD_TOL, "trace");
  });
});

describe("nn.EmbeddingBag", () => {
  const fx = fixture("breadth/embedding_bag.json");
  for (const c of fx.cases) {
    it(`${c.repr}: input [${c.input.shape}]${c.offsets ? ` offsets [${c.offsets.data}]` : ""}${c.psw ? " perSampleWeights" : ""} → [${c.output.shape}], gradients`, () => {
      const m = new nn.EmbeddingBag(10, 3, opts(c.kwargs));
      expect(m.toString()).toBe(c.repr);
      detStateDict(m, c.seed);
      const psw = c.psw ? detTensor(c.psw[0], c.psw[1]).requiresGrad_() : null;
      const out = m.call(dec(c.input), c.offsets ? dec(c.offsets) : null, psw);
      expectClose(out, f(c.output), TOL, "output");
      expectClose(m.weight, f(c.weightAfter), TOL, "weight after forward (maxNorm)");
      out.mul(detTensor(5, out.shape)).sum().backward();
      expectClose(m.weight.grad!, f(c.weightGrad), GRAD_TOL, "weight grad");
      if (psw) expectClose(psw.grad!, f(c.pswGrad), GRAD_TOL, "perSampleWeights grad");
    });
  }

  it("errors in PyTorch's words", () => {
    const e = fx.errors;
    expectError(() => new nn.EmbeddingBag(5, 2).call(int64([1, 2], [1, 2]), int64([0])), e["2d offsets"]);
    expectError(() => new nn.EmbeddingBag(5, 2).call(int64([1, 2])), e["no offsets"]);
    expectError(() => new nn.EmbeddingBag(5, 2).call(int64([1, 2], [1, 2]), null, kernels.ones(1, 2)), e["psw mean"]);
    expectError(() => nn.functional.embeddingBag(int64([1, 2], [1, 2]), kernels.zeros(5, 2), { mode: "median" as any }), e.mode);
  });
});
