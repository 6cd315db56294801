/**
 * LeNet-5 (the PyTorch tutorial's `Net`: `F.max_pool2d(F.relu(self.conv1(x)), (2, 2))`,
 * `torch.flatten(x, 1)`) with a plain zip state dict, and a CIFAR VGG built from a config list
 * with `nn.Sequential(*layers)` (`layers += [...]`), published as `{'net', 'acc', 'epoch'}` from
 * DataParallel; translated line by line from scripts/make_example_fixtures.py.
 *
 * Tolerance: 10x PyTorch's own float32-vs-float64 difference on the logits (in the fixtures).
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { flatten, load, nn, Tensor } from "../../src/index.js";
import { detTensor, dec, expectClose, fixture } from "../helpers.js";

const F = nn.functional;
const file = (name: string): string => fileURLToPath(new URL(`../fixtures/examples/${name}`, import.meta.url));

// ------------------------------------------------------------------ LeNet-5

class LeNet extends nn.Module {
  conv1 = new nn.Conv2d(1, 6, 5);
  conv2 = new nn.Conv2d(6, 16, 5);
  fc1 = new nn.Linear(16 * 5 * 5, 120);
  fc2 = new nn.Linear(120, 84);
  fc3 = new nn.Linear(84, 10);

  override forward(x: Tensor): Tensor {
    x = F.maxPool2d(F.relu(this.conv1.call(x)), [2, 2]);
    x = F.maxPool2d(F.relu(this.conv2.call(x)), 2);
    x = flatten(x, 1);
    x = F.relu(this.fc1.call(x));
    x = F.relu(this.fc2.call(x));
    x = this.fc3.call(x);
    return x;
  }
}

// ------------------------------------------------------------------ VGG from a config list

const cfg: Record<string, (number | "M")[]> = {
  VGG11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
  VGGtiny: [8, "M", 16, "M", 32, 32, "M", 32, 32, "M", 32, 32, "M"],
};

class VGG extends nn.Module {
  features: nn.Sequential;
  classifier: nn.Linear;

  constructor(vggName: string, width = 512) {
    super();
    this.features = this._makeLayers(cfg[vggName]);
    this.classifier = new nn.Linear(width, 10);
  }

  override forward(x: Tensor): Tensor {
    let out = this.features.call(x);
    out = out.view(out.size(0), -1);
    out = this.classifier.call(out);
    return out;
  }

  _makeLayers(cfg: (number | "M")[]): nn.Sequential {
    let layers: nn.Module[] = [];
    let inChannels = 3;
    for (const x of cfg) {
      if (x === "M") {
        layers.push(new nn.MaxPool2d(2, { stride: 2 }));
      } else {
        layers.push(new nn.Conv2d(inChannels, x, 3, { padding: 1 }), new nn.BatchNorm2d(x), new nn.ReLU(true));
        inChannels = x;
      }
    }
    layers = [...layers, new nn.AvgPool2d(1, { stride: 1 })];
    return new nn.Sequential(...layers);
  }
}

// ------------------------------------------------------------------ checks

describe("LeNet-5 (tutorial Net), zip state dict", () => {
  const fx = fixture("examples/lenet.json");
  it("prints, loads strictly, x=[3,1,32,32] → logits [3,10] as PyTorch's", () => {
    const net = new LeNet();
    expect(net.toString()).toBe(fx.repr);
    net.loadStateDict(load(file("lenet.pth")));
    net.eval();
    const y = net.call(detTensor(fx.input.det[0], fx.input.det[1]));
    const tol = Math.max(1e-6, 10 * fx.f32_vs_f64);
    expectClose(y, dec(fx.logits), { rtol: tol, atol: tol }, "lenet logits");
  });
});

describe("CIFAR VGG from a config list, {'net', 'acc', 'epoch'} with module. keys", () => {
  const fx = fixture("examples/vgg_tiny.json");
  it("VGG11 prints as PyTorch", () => {
    expect(new VGG("VGG11").toString()).toBe(fx.vgg11);
  });
  it("VGGtiny prints, loads strictly, x=[2,3,32,32] → logits [2,10] as PyTorch's", () => {
    const net = new VGG("VGGtiny", 32);
    expect(net.toString()).toBe(fx.repr);
    net.loadStateDict(load(file("vgg_ckpt.pth"), { key: "net", stripPrefix: true }));
    net.eval();
    const y = net.call(detTensor(fx.input.det[0], fx.input.det[1]));
    const tol = Math.max(1e-6, 10 * fx.f32_vs_f64);
    expectClose(y, dec(fx.logits), { rtol: tol, atol: tol }, "vgg logits");
  });
});
