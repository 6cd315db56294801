/**
 * The 2018 CIFAR-10 ResNet-20/32/44/56 (option-A shortcuts: a LambdaLayer that subsamples with
 * `x[:, :, ::2, ::2]` and zero-pads the channels with `F.pad`), translated line by line from the
 * Python in scripts/make_example_fixtures.py, and its checkpoint as published: the legacy (pre-1.6)
 * torch.save format, `{'state_dict', 'best_prec1'}`, DataParallel's `module.` keys.
 *
 * Fixtures: scripts/make_example_fixtures.py → test/fixtures/examples/{cifar_resnet20.json,
 * resnet20.th}. Tolerance: PyTorch's own float32-vs-float64 difference on these logits is
 * recorded in the fixture (8.6e-6 at |y| ≤ 26); tsnn must stay within 10x that (measured: 9.5e-6).
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { load, loadObject, nn, Tensor } from "../../src/index.js";
import { detTensor, dec, expectClose, fixture } from "../helpers.js";

const F = nn.functional;

// ------------------------------------------------------------------ the model file, in TypeScript

function _weights_init(m: nn.Module): void {
  if (m instanceof nn.Linear || m instanceof nn.Conv2d) {
    nn.init.kaimingNormal_(m.weight);
  }
}

class LambdaLayer extends nn.Module {
  lambd: (x: Tensor) => Tensor;

  constructor(lambd: (x: Tensor) => Tensor) {
    super();
    this.lambd = lambd;
  }

  override forward(x: Tensor): Tensor {
    return this.lambd(x);
  }
}

class BasicBlock extends nn.Module {
  static expansion = 1;
  conv1: nn.Conv2d;
  bn1: nn.BatchNorm2d;
  conv2: nn.Conv2d;
  bn2: nn.BatchNorm2d;
  shortcut: nn.Module;

  constructor(inPlanes: number, planes: number, stride = 1, option = "A") {
    super();
    this.conv1 = new nn.Conv2d(inPlanes, planes, 3, { stride, padding: 1, bias: false });
    this.bn1 = new nn.BatchNorm2d(planes);
    this.conv2 = new nn.Conv2d(planes, planes, 3, { stride: 1, padding: 1, bias: false });
    this.bn2 = new nn.BatchNorm2d(planes);

    this.shortcut = new nn.Sequential();
    if (stride !== 1 || inPlanes !== planes) {
      if (option === "A") {
        this.shortcut = new LambdaLayer((x) =>
          F.pad(x.get(":", ":", "::2", "::2"), [0, 0, 0, 0, Math.floor(planes / 4), Math.floor(planes / 4)], "constant", 0));
      } else if (option === "B") {
        this.shortcut = new nn.Sequential(
          new nn.Conv2d(inPlanes, BasicBlock.expansion * planes, 1, { stride, bias: false }),
          new nn.BatchNorm2d(BasicBlock.expansion * planes),
        );
      }
    }
  }

  override forward(x: Tensor): Tensor {
    let out = F.relu(this.bn1.call(this.conv1.call(x)));
    out = this.bn2.call(this.conv2.call(out));
    out.add_(this.shortcut.call(x));
    out = F.relu(out);
    return out;
  }
}

class ResNet extends nn.Module {
  inPlanes: number;
  conv1: nn.Conv2d;
  bn1: nn.BatchNorm2d;
  layer1: nn.Sequential;
  layer2: nn.Sequential;
  layer3: nn.Sequential;
  linear: nn.Linear;

  constructor(block: typeof BasicBlock, numBlocks: number[], numClasses = 10) {
    super();
    this.inPlanes = 16;

    this.conv1 = new nn.Conv2d(3, 16, 3, { stride: 1, padding: 1, bias: false });
    this.bn1 = new nn.BatchNorm2d(16);
    this.layer1 = this._makeLayer(block, 16, numBlocks[0], 1);
    this.layer2 = this._makeLayer(block, 32, numBlocks[1], 2);
    this.layer3 = this._makeLayer(block, 64, numBlocks[2], 2);
    this.linear = new nn.Linear(64, numClasses);

    this.apply(_weights_init);
  }

  _makeLayer(block: typeof BasicBlock, planes: number, numBlocks: number, stride: number): nn.Sequential {
    const strides = [stride, ...new Array(numBlocks - 1).fill(1)];
    const layers: nn.Module[] = [];
    for (const s of strides) {
      layers.push(new block(this.inPlanes, planes, s));
      this.inPlanes = planes * block.expansion;
    }
    return new nn.Sequential(...layers);
  }

  override forward(x: Tensor): Tensor {
    let out = F.relu(this.bn1.call(this.conv1.call(x)));
    out = this.layer1.call(out);
    out = this.layer2.call(out);
    out = this.layer3.call(out);
    out = F.avgPool2d(out, out.size()[3]);
    out = out.view(out.size(0), -1);
    out = this.linear.call(out);
    return out;
  }
}

const resnet20 = (): ResNet => new ResNet(BasicBlock, [3, 3, 3]);
const resnet32 = (): ResNet => new ResNet(BasicBlock, [5, 5, 5]);
const resnet44 = (): ResNet => new ResNet(BasicBlock, [7, 7, 7]);
const resnet56 = (): ResNet => new ResNet(BasicBlock, [9, 9, 9]);

// ------------------------------------------------------------------ checks against PyTorch

const fx = fixture("examples/cifar_resnet20.json");
const CKPT = fileURLToPath(new URL("../fixtures/examples/resnet20.th", import.meta.url));

describe("CIFAR-10 ResNet-20 (option A), 2018 legacy checkpoint", () => {
  it("prints as PyTorch: ResNet-20, 32, 44, 56", () => {
    expect(resnet20().toString()).toBe(fx.repr);
    expect(resnet32().toString()).toBe(fx.prints.resnet32);
    expect(resnet44().toString()).toBe(fx.prints.resnet44);
    expect(resnet56().toString()).toBe(fx.prints.resnet56);
  });

  it("the checkpoint is {'state_dict', 'best_prec1'} with module. keys and loads strictly", () => {
    const raw = loadObject(CKPT) as { map: Map<string, unknown> };
    expect([...raw.map.keys()]).toEqual(["state_dict", "best_prec1"]);
    expect(raw.map.get("best_prec1")).toBe(91.73);
    const sd = load(CKPT, { key: "state_dict", stripPrefix: true });
    expect(sd.size).toBe(fx.keys);
    const model = resnet20();
    const res = model.loadStateDict(sd);
    expect(res.missingKeys).toEqual([]);
    expect(res.unexpectedKeys).toEqual([]);
  });

  it("x=[2,3,32,32] → logits [2,10] as PyTorch's (eval)", () => {
    const model = resnet20();
    model.loadStateDict(load(CKPT, { key: "state_dict", stripPrefix: true }));
    model.eval();
    const [off, shape] = fx.input.det;
    const y = model.call(detTensor(off, shape));
    const tol = 10 * fx.f32_vs_f64;
    expectClose(y, dec(fx.logits), { rtol: tol, atol: tol }, "resnet20 logits");
    expect(y.argmax(1).tolist()).toEqual((dec(fx.logits) as Tensor).argmax(1).tolist());
  });
});
