/**
 * A squeeze-excitation block (`x * y.expand_as(x)`, `b, c, _, _ = x.size()`) inside a small net
 * that uses the tensor ops hand-written forwards are made of: `x.chunk(2, dim=1)`,
 * `torch.sigmoid`, an `nn.Parameter` scale, `torch.clamp(x, min=, max=)`,
 * `torch.where(x > 0, x, 0.1 * x)`, `x[..., 0] = 0`, `x[:, :, -1, :] = x[:, :, -1, :] * 2`,
 * `x.mean(dim=(-2, -1))`, `x.amax(dim=(2, 3))`, `torch.cat((avg, mx), dim=1)`.
 *
 * Fixtures: scripts/make_example_fixtures.py → test/fixtures/examples/{gated_se.json,
 * gated_se.pth}. Tolerance: 10x PyTorch's own float32-vs-float64 difference on the logits.
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { cat, clamp, load, nn, ones, Parameter, sigmoid, Tensor, where } from "../../src/index.js";
import { detTensor, dec, expectClose, fixture } from "../helpers.js";

class SELayer extends nn.Module {
  avg_pool: nn.AdaptiveAvgPool2d;
  fc: nn.Sequential;

  constructor(channel: number, reduction = 16) {
    super();
    this.avg_pool = new nn.AdaptiveAvgPool2d(1);
    this.fc = new nn.Sequential(
      new nn.Linear(channel, Math.floor(channel / reduction), { bias: false }),
      new nn.ReLU(true),
      new nn.Linear(Math.floor(channel / reduction), channel, { bias: false }),
      new nn.Sigmoid(),
    );
  }

  override forward(x: Tensor): Tensor {
    const [b, c] = x.size();
    let y = this.avg_pool.call(x).view(b, c);
    y = this.fc.call(y).view(b, c, 1, 1);
    return x.mul(y.expandAs(x));
  }
}

class GatedSENet extends nn.Module {
  stem: nn.Conv2d;
  se: SELayer;
  head: nn.Linear;
  declare scale: Parameter; // assigned last, as in Python (a field initializer would register it first)

  constructor(inCh = 3, width = 16, numClasses = 5) {
    super();
    this.stem = new nn.Conv2d(inCh, 2 * width, 3, { padding: 1 });
    this.se = new SELayer(width, 4);
    this.head = new nn.Linear(2 * width, numClasses);
    this.scale = new Parameter(ones([1, width, 1, 1]).mul(0.5));
  }

  override forward(x: Tensor): Tensor {
    x = this.stem.call(x);
    const [a, b] = x.chunk(2, 1);
    x = a.mul(sigmoid(b)); // GLU-style gate
    x = this.se.call(x).mul(this.scale);
    // torch.clamp(x, min=-1.0, max=1.0): clamp(x, { min, max }) gives all-NaN (reported), and the
    // top-level functions are typed Tensor<DType>, hence the casts (reported).
    x = clamp(x, -1.0, 1.0) as Tensor;
    x = where(x.gt(0), x, x.mul(0.1)) as Tensor; // leaky by hand
    x.set(["...", 0], 0); // zero the first column
    x.set([":", ":", -1, ":"], x.get(":", ":", -1, ":").mul(2));
    const avg = x.mean([-2, -1]);
    const mx = x.amax([2, 3]);
    const feats = cat([avg, mx], 1);
    return this.head.call(feats);
  }
}

const fx = fixture("examples/gated_se.json");
const CKPT = fileURLToPath(new URL("../fixtures/examples/gated_se.pth", import.meta.url));

describe("squeeze-excitation net with chunk / sigmoid / clamp / where / index assignment", () => {
  it("prints as PyTorch, loads strictly, x=[2,3,8,8] → logits [2,5] as PyTorch's", () => {
    const net = new GatedSENet();
    expect(net.toString()).toBe(fx.repr);
    const sd = load(CKPT);
    expect([...net.stateDict().keys()]).toEqual([...sd.keys()]); // same order as PyTorch's state_dict()
    net.loadStateDict(sd);
    net.eval();
    const [off, shape, scale] = fx.input.det;
    const y = net.call(detTensor(off, shape, scale));
    const tol = Math.max(1e-6, 10 * fx.f32_vs_f64);
    expectClose(y, dec(fx.logits), { rtol: tol, atol: tol }, "gated SE logits");
  });
});
