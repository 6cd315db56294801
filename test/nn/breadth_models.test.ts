/**
 * Published-model shapes the breadth layers unblock, loaded from `torch.save` state dicts written by
 * PyTorch 1.13 (scripts/make_breadth_fixtures.py → test/fixtures/breadth/{dcgan_g,lstm_tagger}.pth,
 * models.json): pytorch/examples' DCGAN generator (ConvTranspose2d + BatchNorm2d + ReLU, Tanh;
 * nz=8, ngf=2, every 4th pixel of the 64x64 output compared) and the PyTorch tutorial's LSTM
 * tagger (Embedding with padding_idx → 2-layer bidirectional batch-first LSTM → Linear →
 * log_softmax). The class bodies are line-by-line translations. Tolerance: the single-layer
 * 1e-6 + 1e-6·|y| holds through these small stacks.
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { load, nn, noGrad, Tensor, type DType } from "../../src/index.js";
import { dec, detTensor, expectClose, fixture } from "../helpers.js";

const TOL = { rtol: 1e-6, atol: 1e-6 };
const fx = fixture("breadth/models.json");
const path = (name: string): string => fileURLToPath(new URL(`../fixtures/breadth/${name}`, import.meta.url));

/** pytorch/examples dcgan `Generator`. */
class Generator extends nn.Module {
  main: nn.Sequential;
  constructor(nz = 8, ngf = 2, nc = 3) {
    super();
    this.main = new nn.Sequential(
      new nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, { bias: false }), new nn.BatchNorm2d(ngf * 8), new nn.ReLU(true),
      new nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, { bias: false }), new nn.BatchNorm2d(ngf * 4), new nn.ReLU(true),
      new nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, { bias: false }), new nn.BatchNorm2d(ngf * 2), new nn.ReLU(true),
      new nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, { bias: false }), new nn.BatchNorm2d(ngf), new nn.ReLU(true),
      new nn.ConvTranspose2d(ngf, nc, 4, 2, 1, { bias: false }), new nn.Tanh(),
    );
  }
  override forward(x: Tensor): Tensor {
    return this.main.call(x);
  }
}

/** The PyTorch tutorial's LSTM tagger, bidirectional and batch-first. */
class LSTMTagger extends nn.Module {
  word_embeddings = new nn.Embedding(20, 6, { paddingIdx: 0 });
  lstm = new nn.LSTM(6, 5, { numLayers: 2, batchFirst: true, bidirectional: true });
  hidden2tag = new nn.Linear(10, 4);
  override forward(sentence: Tensor<DType>): Tensor {
    const [out] = this.lstm.call(this.word_embeddings.call(sentence));
    return nn.functional.logSoftmax(this.hidden2tag.call(out), -1);
  }
}

describe("translated models loading PyTorch checkpoints", () => {
  it("DCGAN generator (z=[2,8,1,1] → [2,3,64,64]): printout, strict load of dcgan_g.pth, images", () => {
    const g = new Generator().eval();
    expect(g.toString()).toBe(fx.dcgan.repr);
    g.loadStateDict(load(path("dcgan_g.pth")));
    const y = noGrad(() => g.call(detTensor(33, [2, 8, 1, 1])));
    expect(y.shape).toEqual([2, 3, 64, 64]);
    expectClose(y.get(":", ":", "::4", "::4").contiguous(), dec(fx.dcgan.output), TOL, "images");
  });

  it("LSTM tagger (words=[2,6], padded) → log-probabilities [2,6,4]: printout, strict load of lstm_tagger.pth", () => {
    const t = new LSTMTagger().eval();
    expect(t.toString()).toBe(fx.tagger.repr);
    t.loadStateDict(load(path("lstm_tagger.pth")));
    expectClose(noGrad(() => t.call(dec(fx.tagger.input))), dec(fx.tagger.output), TOL, "log-probabilities");
  });
});
