/**
 * A small transformer text classifier as tutorials publish it: token embedding (padding_idx 0)
 * scaled by sqrt(d_model), the tutorial's sinusoidal PositionalEncoding (built with `arange`,
 * `exp`, `sin`/`cos` and `pe[:, 0::2] = ...`, registered as a buffer), a batch-first
 * `nn.TransformerEncoder` with `src_key_padding_mask=(src == pad_idx)`, masked mean pooling
 * (`(x * keep).sum(1) / keep.sum(1).clamp(min=1)`) and a Linear head.
 *
 * tsnn has no `nn.Embedding` yet, so this file defines the one-line module a user would write
 * (same printout, same `weight` key, forward = `weight[src]` by advanced indexing).
 *
 * Fixtures: scripts/make_example_fixtures.py → test/fixtures/examples/{transformer_cls.json,
 * transformer_cls.pth}. Tolerance: 10x PyTorch's own float32-vs-float64 difference on the logits.
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { arange, exp, full, load, nn, noGrad, Parameter, sin, cos, tensor, triu, zeros, Tensor } from "../../src/index.js";
import { dec, expectClose, fixture } from "../helpers.js";

/** What `nn.Embedding(num_embeddings, embedding_dim, padding_idx=...)` would be. */
class Embedding extends nn.Module {
  numEmbeddings: number;
  embeddingDim: number;
  paddingIdx: number | null;
  declare weight: Parameter; // a plain `weight: Parameter;` field makes the assignment below throw KeyError (reported)

  constructor(numEmbeddings: number, embeddingDim: number, opts: { paddingIdx?: number | null } = {}) {
    super();
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    this.paddingIdx = opts.paddingIdx ?? null;
    this.weight = new Parameter(zeros([numEmbeddings, embeddingDim]).normal_());
    // PyTorch: `with torch.no_grad(): self.weight[self.padding_idx].fill_(0)`
    if (this.paddingIdx !== null) noGrad(() => this.weight.set(this.paddingIdx!, 0));
  }

  override forward(input: Tensor<"int64">): Tensor {
    return this.weight.get(input);
  }

  override extraRepr(): string {
    let s = `${this.numEmbeddings}, ${this.embeddingDim}`;
    if (this.paddingIdx !== null) s += `, padding_idx=${this.paddingIdx}`;
    return s;
  }
}

class PositionalEncoding extends nn.Module {
  dropout: nn.Dropout;
  declare pe: Tensor;

  constructor(dModel: number, dropout = 0.1, maxLen = 5000) {
    super();
    this.dropout = new nn.Dropout({ p: dropout });

    const position = arange(maxLen).unsqueeze(1);
    const divTerm = exp(arange(0, dModel, 2).mul(-Math.log(10000.0) / dModel));
    const pe = zeros([maxLen, dModel]);
    pe.set([":", "0::2"], sin(position.mul(divTerm)));
    pe.set([":", "1::2"], cos(position.mul(divTerm)));
    this.registerBuffer("pe", pe);
  }

  /** x: [batch_size, seq_len, embedding_dim] */
  override forward(x: Tensor): Tensor {
    x = x.add(this.pe.get(`:${x.size(1)}`));
    return this.dropout.call(x);
  }
}

class TransformerClassifier extends nn.Module {
  modelType: string;
  padIdx: number;
  embedding: Embedding;
  pos_encoder: PositionalEncoding;
  transformer_encoder: nn.TransformerEncoder;
  dModel: number;
  classifier: nn.Linear;

  constructor(ntoken: number, dModel: number, nhead: number, dHid: number, nlayers: number, numClasses: number, dropout = 0.5, padIdx = 0) {
    super();
    this.modelType = "Transformer";
    this.padIdx = padIdx;
    this.embedding = new Embedding(ntoken, dModel, { paddingIdx: padIdx });
    this.pos_encoder = new PositionalEncoding(dModel, dropout, 64);
    // Python: nn.TransformerEncoderLayer(d_model, nhead, d_hid, dropout, batch_first=True); positionals followed by
    // an options object run but do not type-check (reported), so everything goes in the options object.
    const encoderLayers = new nn.TransformerEncoderLayer(dModel, nhead, { dimFeedforward: dHid, dropout, batchFirst: true });
    this.transformer_encoder = new nn.TransformerEncoder(encoderLayers, nlayers);
    this.dModel = dModel;
    this.classifier = new nn.Linear(dModel, numClasses);
  }

  /** src: [batch_size, seq_len] token ids, padIdx for padding */
  override forward(src: Tensor<"int64">): Tensor {
    const padMask = src.eq(this.padIdx);
    let x = this.embedding.call(src).mul(Math.sqrt(this.dModel));
    x = this.pos_encoder.call(x);
    x = this.transformer_encoder.call(x, { srcKeyPaddingMask: padMask });
    const keep = padMask.logicalNot().unsqueeze(-1).float();
    x = x.mul(keep).sum(1).div(keep.sum(1).clamp({ min: 1 }));
    return this.classifier.call(x);
  }
}

const fx = fixture("examples/transformer_cls.json");
const CKPT = fileURLToPath(new URL("../fixtures/examples/transformer_cls.pth", import.meta.url));

describe("transformer text classifier (batch_first, padding mask, mean pooling)", () => {
  it("the positional-encoding buffer built with arange/exp/sin/cos and pe[:, 0::2] = ... equals PyTorch's", () => {
    const pe = new PositionalEncoding(16, 0.1, 64).pe;
    expectClose(pe, dec(fx.pe), { rtol: 1e-6, atol: 1e-6 }, "pe");
  });

  it("prints as PyTorch, loads strictly, tokens [3,8] with padding → logits [3,3] as PyTorch's", () => {
    const net = new TransformerClassifier(50, 16, 2, 32, 2, 3, 0.1);
    expect(net.toString()).toBe(fx.repr);
    net.loadStateDict(load(CKPT));
    net.eval();
    const src = tensor(fx.input.data, fx.input.shape, "int64") as Tensor<"int64">;
    // with torch.no_grad(): logits = net(src). (Without noGrad, weight[src] on a Parameter throws
    // "backward of advanced indexing ... not implemented yet" at forward time: reported.)
    const y = noGrad(() => net.call(src));
    const tol = Math.max(1e-6, 10 * fx.f32_vs_f64);
    expectClose(y, dec(fx.logits), { rtol: tol, atol: tol }, "classifier logits");
  });

  it("the encoder with a causal float mask torch.triu(torch.full((8, 8), float('-inf')), diagonal=1) as PyTorch's", () => {
    const causalFx = fixture("examples/transformer_causal.json");
    const net = new TransformerClassifier(50, 16, 2, 32, 2, 3, 0.1);
    net.loadStateDict(load(CKPT));
    net.eval();
    const src = tensor(fx.input.data, fx.input.shape, "int64") as Tensor<"int64">;
    const causal = triu(full([8, 8], -Infinity), 1);
    expect(causal.toArray()).toEqual(causalFx.mask.map((r: (number | null)[]) => r.map((v) => (v === null ? -Infinity : v))));
    const out = noGrad(() => {
      const x = net.pos_encoder.call(net.embedding.call(src).mul(Math.sqrt(net.dModel)));
      return net.transformer_encoder.call(x, { mask: causal });
    });
    expectClose(out, dec(causalFx.output), { rtol: 1e-6, atol: 1e-6 }, "causal encoder output");
  });
});
