/**
 * WideResNet (WRN-10-1, dropout 0.3: `F.dropout(out, p=self.droprate, training=self.training)`,
 * `self.convShortcut = (not self.equalInOut) and nn.Conv2d(...) or None`, `torch.add(...)`,
 * `out.mean((2, 3))`, `out.view(-1, self.nChannels)`) and PreAct-ResNet
 * (`self.shortcut(out) if hasattr(self, 'shortcut') else x`, `F.adaptive_avg_pool2d(out, 1)`),
 * translated line by line from scripts/make_example_fixtures.py.
 *
 * Tolerance: 10x PyTorch's own float32-vs-float64 difference on the logits (in the fixtures).
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { add, load, nn, Tensor } from "../../src/index.js";
import { detTensor, dec, expectClose, fixture } from "../helpers.js";

const F = nn.functional;
const file = (name: string): string => fileURLToPath(new URL(`../fixtures/examples/${name}`, import.meta.url));

// ------------------------------------------------------------------ WideResNet

class WideBasic extends nn.Module {
  bn1: nn.BatchNorm2d;
  relu1: nn.ReLU;
  conv1: nn.Conv2d;
  bn2: nn.BatchNorm2d;
  relu2: nn.ReLU;
  conv2: nn.Conv2d;
  droprate: number;
  equalInOut: boolean;
  convShortcut: nn.Conv2d | null;

  constructor(inPlanes: number, outPlanes: number, stride: number, dropRate = 0.0) {
    super();
    this.bn1 = new nn.BatchNorm2d(inPlanes);
    this.relu1 = new nn.ReLU(true);
    this.conv1 = new nn.Conv2d(inPlanes, outPlanes, 3, { stride, padding: 1, bias: false });
    this.bn2 = new nn.BatchNorm2d(outPlanes);
    this.relu2 = new nn.ReLU(true);
    this.conv2 = new nn.Conv2d(outPlanes, outPlanes, 3, { stride: 1, padding: 1, bias: false });
    this.droprate = dropRate;
    this.equalInOut = inPlanes === outPlanes;
    this.convShortcut = (!this.equalInOut && new nn.Conv2d(inPlanes, outPlanes, 1, { stride, padding: 0, bias: false })) || null;
  }

  override forward(x: Tensor): Tensor {
    let out!: Tensor;
    if (!this.equalInOut) {
      x = this.relu1.call(this.bn1.call(x));
    } else {
      out = this.relu1.call(this.bn1.call(x));
    }
    out = this.relu2.call(this.bn2.call(this.conv1.call(this.equalInOut ? out : x)));
    if (this.droprate > 0) {
      out = F.dropout(out, { p: this.droprate, training: this.training });
    }
    out = this.conv2.call(out);
    return add(this.equalInOut ? x : this.convShortcut!.call(x), out) as Tensor; // top-level add() is typed Tensor<DType> (reported)
  }
}

class NetworkBlock extends nn.Module {
  layer: nn.Sequential;

  constructor(nbLayers: number, inPlanes: number, outPlanes: number, block: typeof WideBasic, stride: number, dropRate = 0.0) {
    super();
    this.layer = this._makeLayer(block, inPlanes, outPlanes, nbLayers, stride, dropRate);
  }

  _makeLayer(block: typeof WideBasic, inPlanes: number, outPlanes: number, nbLayers: number, stride: number, dropRate: number): nn.Sequential {
    const layers: nn.Module[] = [];
    for (let i = 0; i < Math.trunc(nbLayers); i++) {
      layers.push(new block(i === 0 ? inPlanes : outPlanes, outPlanes, i === 0 ? stride : 1, dropRate));
    }
    return new nn.Sequential(...layers);
  }

  override forward(x: Tensor): Tensor {
    return this.layer.call(x);
  }
}

class WideResNet extends nn.Module {
  conv1: nn.Conv2d;
  block1: NetworkBlock;
  block2: NetworkBlock;
  block3: NetworkBlock;
  bn1: nn.BatchNorm2d;
  relu: nn.ReLU;
  fc: nn.Linear;
  nChannels: number;

  constructor(depth: number, numClasses: number, widenFactor = 1, dropRate = 0.0) {
    super();
    const nChannels = [16, 16 * widenFactor, 32 * widenFactor, 64 * widenFactor];
    if ((depth - 4) % 6 !== 0) throw new Error("AssertionError");
    const n = (depth - 4) / 6;
    const block = WideBasic;
    this.conv1 = new nn.Conv2d(3, nChannels[0], 3, { stride: 1, padding: 1, bias: false });
    this.block1 = new NetworkBlock(n, nChannels[0], nChannels[1], block, 1, dropRate);
    this.block2 = new NetworkBlock(n, nChannels[1], nChannels[2], block, 2, dropRate);
    this.block3 = new NetworkBlock(n, nChannels[2], nChannels[3], block, 2, dropRate);
    this.bn1 = new nn.BatchNorm2d(nChannels[3]);
    this.relu = new nn.ReLU(true);
    this.fc = new nn.Linear(nChannels[3], numClasses);
    this.nChannels = nChannels[3];

    for (const m of this.modules()) {
      if (m instanceof nn.Conv2d) {
        nn.init.kaimingNormal_(m.weight, { mode: "fan_out", nonlinearity: "relu" });
      } else if (m instanceof nn.BatchNorm2d) {
        m.weight!.detach().fill_(1); // Python: m.weight.data.fill_(1) (`.data`: a detached view)
        m.bias!.detach().zero_();
      } else if (m instanceof nn.Linear) {
        m.bias!.detach().zero_();
      }
    }
  }

  override forward(x: Tensor): Tensor {
    let out = this.conv1.call(x);
    out = this.block1.call(out);
    out = this.block2.call(out);
    out = this.block3.call(out);
    out = this.relu.call(this.bn1.call(out));
    out = out.mean([2, 3]);
    out = out.view(-1, this.nChannels);
    return this.fc.call(out);
  }
}

// ------------------------------------------------------------------ PreAct-ResNet

/** Pre-activation version of the BasicBlock. */
class PreActBlock extends nn.Module {
  static expansion = 1;
  bn1: nn.BatchNorm2d;
  conv1: nn.Conv2d;
  bn2: nn.BatchNorm2d;
  conv2: nn.Conv2d;
  declare shortcut?: nn.Sequential;

  constructor(inPlanes: number, planes: number, stride = 1) {
    super();
    this.bn1 = new nn.BatchNorm2d(inPlanes);
    this.conv1 = new nn.Conv2d(inPlanes, planes, 3, { stride, padding: 1, bias: false });
    this.bn2 = new nn.BatchNorm2d(planes);
    this.conv2 = new nn.Conv2d(planes, planes, 3, { stride: 1, padding: 1, bias: false });

    if (stride !== 1 || inPlanes !== PreActBlock.expansion * planes) {
      this.shortcut = new nn.Sequential(new nn.Conv2d(inPlanes, PreActBlock.expansion * planes, 1, { stride, bias: false }));
    }
  }

  override forward(x: Tensor): Tensor {
    let out = F.relu(this.bn1.call(x));
    const shortcut = "shortcut" in this ? this.shortcut!.call(out) : x;
    out = this.conv1.call(out);
    out = this.conv2.call(F.relu(this.bn2.call(out)));
    out.add_(shortcut);
    return out;
  }
}

class PreActResNet extends nn.Module {
  inPlanes: number;
  conv1: nn.Conv2d;
  layer1: nn.Sequential;
  layer2: nn.Sequential;
  bn: nn.BatchNorm2d;
  linear: nn.Linear;

  constructor(block: typeof PreActBlock, numBlocks: number[], numClasses = 10, width = 8) {
    super();
    this.inPlanes = width;

    this.conv1 = new nn.Conv2d(3, width, 3, { stride: 1, padding: 1, bias: false });
    this.layer1 = this._makeLayer(block, width, numBlocks[0], 1);
    this.layer2 = this._makeLayer(block, width * 2, numBlocks[1], 2);
    this.bn = new nn.BatchNorm2d(width * 2 * block.expansion);
    this.linear = new nn.Linear(width * 2 * block.expansion, numClasses);
  }

  _makeLayer(block: typeof PreActBlock, planes: number, numBlocks: number, stride: number): nn.Sequential {
    const strides = [stride, ...Array(numBlocks - 1).fill(1)];
    const layers: nn.Module[] = [];
    for (const s of strides) {
      layers.push(new block(this.inPlanes, planes, s));
      this.inPlanes = planes * block.expansion;
    }
    return new nn.Sequential(...layers);
  }

  override forward(x: Tensor): Tensor {
    let out = this.conv1.call(x);
    out = this.layer1.call(out);
    out = this.layer2.call(out);
    out = F.relu(this.bn.call(out));
    out = F.adaptiveAvgPool2d(out, 1);
    out = out.view(out.size(0), -1);
    out = this.linear.call(out);
    return out;
  }
}

// ------------------------------------------------------------------ checks

describe("WideResNet-10-1, dropout 0.3", () => {
  const fx = fixture("examples/wrn_10_1.json");
  it("prints, loads strictly, x=[2,3,32,32] → logits [2,10] as PyTorch's (eval: dropout off)", () => {
    const net = new WideResNet(10, 10, 1, 0.3);
    expect(net.toString()).toBe(fx.repr);
    net.loadStateDict(load(file("wrn_10_1.pth")));
    net.eval();
    const y = net.call(detTensor(fx.input.det[0], fx.input.det[1]));
    const tol = Math.max(1e-6, 10 * fx.f32_vs_f64);
    expectClose(y, dec(fx.logits), { rtol: tol, atol: tol }, "wrn logits");
  });
  it("train mode with BatchNorm frozen: F.dropout(training=this.training) is applied; eval gives PyTorch's logits again", () => {
    const net = new WideResNet(10, 10, 1, 0.3);
    net.loadStateDict(load(file("wrn_10_1.pth")));
    const x = detTensor(fx.input.det[0], fx.input.det[1]);
    net.train();
    for (const m of net.modules()) if (m instanceof nn.BatchNorm2d) m.eval();
    const a = net.call(x);
    const b = net.call(x);
    expect(a.allclose(b)).toBe(false);
    net.eval();
    const y = net.call(x);
    const tol = Math.max(1e-6, 10 * fx.f32_vs_f64);
    expectClose(y, dec(fx.logits), { rtol: tol, atol: tol }, "wrn logits after train()");
  });
});

describe("PreAct-ResNet (hasattr shortcut), {'model', 'epoch'}", () => {
  const fx = fixture("examples/preact.json");
  it("prints, loads strictly, x=[2,3,16,16] → logits [2,10] as PyTorch's", () => {
    const net = new PreActResNet(PreActBlock, [2, 2], 10, 8);
    expect(net.toString()).toBe(fx.repr);
    net.loadStateDict(load(file("preact.pth"), { key: "model" }));
    net.eval();
    const y = net.call(detTensor(fx.input.det[0], fx.input.det[1]));
    const tol = Math.max(1e-6, 10 * fx.f32_vs_f64);
    expectClose(y, dec(fx.logits), { rtol: tol, atol: tol }, "preact logits");
  });
});
