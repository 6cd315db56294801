/**
 * More files of the kind people publish, translated line by line from
 * scripts/make_example_fixtures.py: pytorch/examples' MNIST `Net` (positional
 * `nn.Conv2d(1, 32, 3, 1)`, `nn.Dropout(0.25)`, `F.log_softmax(x, dim=1)`; 1.2M parameters, so its
 * weights come from the shared deterministic hash instead of a checkpoint) and CIFAR-zoo blocks:
 * ShuffleNet's channel shuffle (`x.view(N, g, C // g, H, W).permute(0, 2, 1, 3, 4).reshape(N, C, H, W)`)
 * with grouped/depthwise convs and a `torch.cat([out, res], 1)` shortcut, DenseNet's bottleneck and
 * transition (`torch.cat([out, x], 1)`, `F.avg_pool2d(out, 2)`), EfficientNet's SE with swish and
 * `drop_connect` (`torch.empty(..., dtype=x.dtype)`, `bernoulli_`, `div_`, `mul_`).
 *
 * Tolerance: 10x PyTorch's own float32-vs-float64 difference on the outputs (in the fixtures).
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { cat, empty, flatten, load, nn, Tensor } from "../../src/index.js";
import { detStateDict, detTensor, dec, expectClose, fixture } from "../helpers.js";

const F = nn.functional;

class MnistNet extends nn.Module {
  conv1 = new nn.Conv2d(1, 32, 3, 1);
  conv2 = new nn.Conv2d(32, 64, 3, 1);
  dropout1 = new nn.Dropout(0.25);
  dropout2 = new nn.Dropout(0.5);
  fc1 = new nn.Linear(9216, 128);
  fc2 = new nn.Linear(128, 10);

  override forward(x: Tensor): Tensor {
    x = this.conv1.call(x);
    x = F.relu(x);
    x = this.conv2.call(x);
    x = F.relu(x);
    x = F.maxPool2d(x, 2);
    x = this.dropout1.call(x);
    x = flatten(x, 1);
    x = this.fc1.call(x);
    x = F.relu(x);
    x = this.dropout2.call(x);
    x = this.fc2.call(x);
    const output = F.logSoftmax(x, { dim: 1 });
    return output;
  }
}

class ShuffleBlock extends nn.Module {
  groups: number;

  constructor(groups: number) {
    super();
    this.groups = groups;
  }

  /** Channel shuffle: [N,C,H,W] -> [N,g,C/g,H,W] -> [N,C/g,g,H,w] -> [N,C,H,W] */
  override forward(x: Tensor): Tensor {
    const [N, C, H, W] = x.size();
    const g = this.groups;
    return x.view(N, g, Math.floor(C / g), H, W).permute(0, 2, 1, 3, 4).reshape(N, C, H, W);
  }
}

class ShuffleBottleneck extends nn.Module {
  stride: number;
  conv1: nn.Conv2d;
  bn1: nn.BatchNorm2d;
  shuffle1: ShuffleBlock;
  conv2: nn.Conv2d;
  bn2: nn.BatchNorm2d;
  conv3: nn.Conv2d;
  bn3: nn.BatchNorm2d;
  shortcut: nn.Sequential;

  constructor(inPlanes: number, outPlanes: number, stride: number, groups: number) {
    super();
    this.stride = stride;

    const midPlanes = Math.floor(outPlanes / 4);
    const g = inPlanes === 24 ? 1 : groups;
    this.conv1 = new nn.Conv2d(inPlanes, midPlanes, 1, { groups: g, bias: false });
    this.bn1 = new nn.BatchNorm2d(midPlanes);
    this.shuffle1 = new ShuffleBlock(g);
    this.conv2 = new nn.Conv2d(midPlanes, midPlanes, 3, { stride, padding: 1, groups: midPlanes, bias: false });
    this.bn2 = new nn.BatchNorm2d(midPlanes);
    this.conv3 = new nn.Conv2d(midPlanes, outPlanes, 1, { groups, bias: false });
    this.bn3 = new nn.BatchNorm2d(outPlanes);

    this.shortcut = new nn.Sequential();
    if (stride === 2) {
      this.shortcut = new nn.Sequential(new nn.AvgPool2d(3, { stride: 2, padding: 1 }));
    }
  }

  override forward(x: Tensor): Tensor {
    let out = F.relu(this.bn1.call(this.conv1.call(x)));
    out = this.shuffle1.call(out);
    out = F.relu(this.bn2.call(this.conv2.call(out)));
    out = this.bn3.call(this.conv3.call(out));
    const res = this.shortcut.call(x);
    out = this.stride === 2 ? F.relu(cat([out, res], 1)) : F.relu(out.add(res));
    return out;
  }
}

class DenseBottleneck extends nn.Module {
  bn1: nn.BatchNorm2d;
  conv1: nn.Conv2d;
  bn2: nn.BatchNorm2d;
  conv2: nn.Conv2d;

  constructor(inPlanes: number, growthRate: number) {
    super();
    this.bn1 = new nn.BatchNorm2d(inPlanes);
    this.conv1 = new nn.Conv2d(inPlanes, 4 * growthRate, 1, { bias: false });
    this.bn2 = new nn.BatchNorm2d(4 * growthRate);
    this.conv2 = new nn.Conv2d(4 * growthRate, growthRate, 3, { padding: 1, bias: false });
  }

  override forward(x: Tensor): Tensor {
    let out = this.conv1.call(F.relu(this.bn1.call(x)));
    out = this.conv2.call(F.relu(this.bn2.call(out)));
    out = cat([out, x], 1);
    return out;
  }
}

class Transition extends nn.Module {
  bn: nn.BatchNorm2d;
  conv: nn.Conv2d;

  constructor(inPlanes: number, outPlanes: number) {
    super();
    this.bn = new nn.BatchNorm2d(inPlanes);
    this.conv = new nn.Conv2d(inPlanes, outPlanes, 1, { bias: false });
  }

  override forward(x: Tensor): Tensor {
    let out = this.conv.call(F.relu(this.bn.call(x)));
    out = F.avgPool2d(out, 2);
    return out;
  }
}

function swish(x: Tensor): Tensor {
  return x.mul(x.sigmoid());
}

function drop_connect(x: Tensor, dropRatio: number): Tensor {
  const keepRatio = 1.0 - dropRatio;
  const mask = empty([x.shape[0], 1, 1, 1], { dtype: x.dtype });
  mask.bernoulli_(keepRatio);
  x.div_(keepRatio);
  x.mul_(mask);
  return x;
}

/** Squeeze-and-Excitation block with Swish. */
class SE extends nn.Module {
  se1: nn.Conv2d;
  se2: nn.Conv2d;

  constructor(inChannels: number, seChannels: number) {
    super();
    this.se1 = new nn.Conv2d(inChannels, seChannels, 1, { bias: true });
    this.se2 = new nn.Conv2d(seChannels, inChannels, 1, { bias: true });
  }

  override forward(x: Tensor): Tensor {
    let out = F.adaptiveAvgPool2d(x, [1, 1]);
    out = swish(this.se1.call(out));
    out = this.se2.call(out).sigmoid();
    out = x.mul(out);
    return out;
  }
}

class TinyZoo extends nn.Module {
  conv1: nn.Conv2d;
  bn1: nn.BatchNorm2d;
  shuffle: nn.Sequential;
  dense: nn.Sequential;
  trans: Transition;
  se: SE;
  drop_rate: number;
  linear: nn.Linear;

  constructor(numClasses = 10) {
    super();
    this.conv1 = new nn.Conv2d(3, 24, 1, { bias: false });
    this.bn1 = new nn.BatchNorm2d(24);
    this.shuffle = new nn.Sequential(new ShuffleBottleneck(24, 40, 2, 2), new ShuffleBottleneck(64, 64, 1, 2));
    this.dense = new nn.Sequential(new DenseBottleneck(64, 8), new DenseBottleneck(72, 8));
    this.trans = new Transition(80, 40);
    this.se = new SE(40, 10);
    this.drop_rate = 0.2;
    this.linear = new nn.Linear(40, numClasses);
  }

  override forward(x: Tensor): Tensor {
    let out = F.relu(this.bn1.call(this.conv1.call(x)));
    out = this.shuffle.call(out);
    out = this.dense.call(out);
    out = this.trans.call(out);
    out = swish(this.se.call(out));
    if (this.training && this.drop_rate > 0) {
      out = drop_connect(out, this.drop_rate);
    }
    out = F.adaptiveAvgPool2d(out, 1);
    out = out.view(out.size(0), -1);
    out = this.linear.call(out);
    return out;
  }
}

describe("pytorch/examples MNIST Net (deterministic weights, no checkpoint)", () => {
  const fx = fixture("examples/mnist_net.json");
  it("prints as PyTorch; x=[2,1,28,28] → log-probabilities [2,10] as PyTorch's", () => {
    const net = new MnistNet();
    expect(net.toString()).toBe(fx.repr);
    detStateDict(net, 4242);
    net.eval();
    const y = net.call(detTensor(fx.input.det[0], fx.input.det[1]));
    const tol = Math.max(1e-6, 10 * fx.f32_vs_f64);
    expectClose(y, dec(fx.logits), { rtol: tol, atol: tol }, "mnist log-probs");
  });
});

describe("CIFAR-zoo blocks: ShuffleNet, DenseNet, EfficientNet SE/swish/drop_connect; {'net', 'acc', 'epoch'}", () => {
  const fx = fixture("examples/tiny_zoo.json");
  const CKPT = fileURLToPath(new URL("../fixtures/examples/tiny_zoo.pth", import.meta.url));
  it("prints, loads strictly, x=[2,3,16,16] → logits [2,10] as PyTorch's", () => {
    const net = new TinyZoo();
    expect(net.toString()).toBe(fx.repr);
    net.loadStateDict(load(CKPT, { key: "net" }));
    net.eval();
    const y = net.call(detTensor(fx.input.det[0], fx.input.det[1]));
    const tol = Math.max(1e-6, 10 * fx.f32_vs_f64);
    expectClose(y, dec(fx.logits), { rtol: tol, atol: tol }, "zoo logits");
  });
  it("train mode with BatchNorm frozen: drop_connect drops whole samples (in place), eval is unchanged", () => {
    const net = new TinyZoo();
    net.loadStateDict(load(CKPT, { key: "net" }));
    const x = detTensor(fx.input.det[0], fx.input.det[1]);
    net.train();
    for (const m of net.modules()) if (m instanceof nn.BatchNorm2d) m.eval();
    const outs = Array.from({ length: 6 }, () => net.call(x));
    expect(outs.some((o) => !o.allclose(outs[0]))).toBe(true);
    net.eval();
    const tol = Math.max(1e-6, 10 * fx.f32_vs_f64);
    expectClose(net.call(x), dec(fx.logits), { rtol: tol, atol: tol }, "zoo logits after train()");
  });
});
