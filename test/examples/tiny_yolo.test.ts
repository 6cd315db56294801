/**
 * A YOLOv5-style tiny detector translated line by line from scripts/make_example_fixtures.py:
 * `Conv` (conv-BN-LeakyReLU with `autopad`, positional `nn.Conv2d(c1, c2, k, s, p, groups=g,
 * bias=False)`), `Concat`, `nn.Upsample(None, 2, 'nearest')`, and the `Detect` head: `x[i] =
 * self.m[i](x[i])`, `view(...).permute(0, 1, 3, 4, 2).contiguous()`, a grid from
 * `torch.meshgrid`/`torch.stack`, slice assignment `y[..., 0:2] = (y[..., 0:2] * 2. - 0.5 +
 * grid) * stride[i]`, `y[..., 2:4] = (y[..., 2:4] * 2) ** 2 * anchor_grid[i]`, buffers
 * `anchors`/`anchor_grid` and an in-place `anchors /= stride.view(-1, 1, 1)`.
 *
 * The checkpoint is `{'epoch': -1, 'model': <float16 state dict>}`; PyTorch's reference ran on the
 * same half-rounded weights. Tolerance: boxes are in pixels (|y| up to 112): atol 10x PyTorch's own
 * float32-vs-float64 difference on the predictions (2.4e-5, in the fixture), rtol 1e-6.
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { arange, cat, load, meshgrid, nn, stack, tensor, Tensor, zeros } from "../../src/index.js";
import { detTensor, dec, expectClose, fixture } from "../helpers.js";

/** Pad to 'same' */
function autopad(k: number, p: number | null = null): number {
  if (p === null) {
    p = Math.floor(k / 2); // auto-pad
  }
  return p;
}

/** Standard convolution */
class Conv extends nn.Module {
  conv: nn.Conv2d;
  bn: nn.BatchNorm2d;
  act: nn.Module;

  constructor(c1: number, c2: number, k = 1, s = 1, p: number | null = null, g = 1, act = true) {
    super();
    this.conv = new nn.Conv2d(c1, c2, k, s, autopad(k, p), { groups: g, bias: false });
    this.bn = new nn.BatchNorm2d(c2);
    this.act = act ? new nn.LeakyReLU(0.1, { inplace: true }) : new nn.Identity();
  }

  override forward(x: Tensor): Tensor {
    return this.act.call(this.bn.call(this.conv.call(x)));
  }
}

/** Concatenate a list of tensors along dimension */
class Concat extends nn.Module {
  d: number;

  constructor(dimension = 1) {
    super();
    this.d = dimension;
  }

  override forward(x: Tensor[]): Tensor {
    return cat(x, this.d);
  }
}

class Detect extends nn.Module {
  stride: Tensor | null = null; // strides computed during build
  nc: number;
  no: number;
  nl: number;
  na: number;
  grid: Tensor[];
  declare anchors: Tensor;
  declare anchor_grid: Tensor;
  m: nn.ModuleList;

  constructor(nc = 80, anchors: number[][] = [], ch: number[] = []) {
    super();
    this.nc = nc; // number of classes
    this.no = nc + 5; // number of outputs per anchor
    this.nl = anchors.length; // number of detection layers
    this.na = Math.floor(anchors[0].length / 2); // number of anchors
    this.grid = Array(this.nl).fill(zeros([1])); // init grid
    const a = tensor(anchors).float().view(this.nl, -1, 2);
    this.registerBuffer("anchors", a); // shape(nl,na,2)
    this.registerBuffer("anchor_grid", a.clone().view(this.nl, 1, -1, 1, 1, 2)); // shape(nl,1,na,1,1,2)
    this.m = new nn.ModuleList(ch.map((x) => new nn.Conv2d(x, this.no * this.na, 1))); // output conv
  }

  override forward(x: Tensor[]): Tensor[] | [Tensor, Tensor[]] {
    const z: Tensor[] = []; // inference output
    for (let i = 0; i < this.nl; i++) {
      x[i] = this.m.at(i).call(x[i]); // conv
      const [bs, , ny, nx] = x[i].shape; // x(bs,255,20,20) to x(bs,3,20,20,85)
      x[i] = x[i].view(bs, this.na, this.no, ny, nx).permute(0, 1, 3, 4, 2).contiguous();

      if (!this.training) {
        // inference
        if (String(this.grid[i].shape.slice(2, 4)) !== String(x[i].shape.slice(2, 4))) {
          this.grid[i] = Detect._makeGrid(nx, ny);
        }

        const y = x[i].sigmoid();
        y.set(["...", "0:2"], y.get("...", "0:2").mul(2.0).sub(0.5).add(this.grid[i]).mul(this.stride!.get(i))); // xy
        y.set(["...", "2:4"], y.get("...", "2:4").mul(2).pow(2).mul(this.anchor_grid.get(i))); // wh
        z.push(y.view(bs, -1, this.no));
      }
    }

    return this.training ? x : [cat(z, 1), x];
  }

  static _makeGrid(nx = 20, ny = 20): Tensor {
    const [yv, xv] = meshgrid([arange(ny), arange(nx)]);
    return stack([xv, yv], 2).view([1, 1, ny, nx, 2]).float();
  }
}

class TinyYolo extends nn.Module {
  b0: Conv;
  b1: Conv;
  b2: Conv;
  b3: Conv;
  lat: Conv;
  up: nn.Upsample;
  cat: Concat;
  fuse: Conv;
  detect: Detect;

  constructor(nc = 3, anchors = [[10, 13, 16, 30, 33, 23], [30, 61, 62, 45, 59, 119]]) {
    super();
    this.b0 = new Conv(3, 8, 3, 2); // /2
    this.b1 = new Conv(8, 16, 3, 2); // /4
    this.b2 = new Conv(16, 16, 3, 2); // /8  -> P3
    this.b3 = new Conv(16, 32, 3, 2); // /16 -> P4
    this.lat = new Conv(32, 16, 1, 1);
    this.up = new nn.Upsample(null, 2, "nearest");
    this.cat = new Concat(1);
    this.fuse = new Conv(32, 16, 3, 1);
    this.detect = new Detect(nc, anchors, [16, 32]);
    this.detect.stride = tensor([8.0, 16.0]);
    this.detect.anchors.div_(this.detect.stride.view(-1, 1, 1));
  }

  override forward(x: Tensor): Tensor[] | [Tensor, Tensor[]] {
    let p3 = this.b2.call(this.b1.call(this.b0.call(x)));
    const p4 = this.b3.call(p3);
    p3 = this.fuse.call(this.cat.call([this.up.call(this.lat.call(p4)), p3]));
    return this.detect.call([p3, p4]);
  }
}

const fx = fixture("examples/tiny_yolo.json");
const CKPT = fileURLToPath(new URL("../fixtures/examples/tiny_yolo.pth", import.meta.url));

describe("tiny YOLOv5-style detector, {'epoch', 'model': float16 state dict}", () => {
  it("prints as PyTorch", () => {
    expect(new TinyYolo().toString()).toBe(fx.repr);
  });

  it("loads strictly (anchors buffers included); x=[1,3,64,48] → pred [1,180,8] and two feature maps as PyTorch's", () => {
    const net = new TinyYolo();
    const sd = load(CKPT, { key: "model" });
    expect([...net.stateDict().keys()]).toEqual([...sd.keys()]);
    net.loadStateDict(sd);
    net.eval();
    const [pred, feats] = net.call(detTensor(fx.input.det[0], fx.input.det[1])) as [Tensor, Tensor[]];
    const tol = { rtol: 1e-6, atol: 10 * fx.f32_vs_f64 };
    expectClose(pred, dec(fx.pred), tol, "pred");
    feats.forEach((f, i) => expectClose(f, dec(fx.feats[i]), tol, `feats[${i}]`));
  });
});
