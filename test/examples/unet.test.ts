/**
 * A small U-Net (DoubleConv / Down / Up / OutConv): `F.interpolate(x1, scale_factor=2,
 * mode="bilinear", align_corners=True)`, `diffY = x2.size()[2] - x1.size()[2]`, `F.pad` by
 * `diffX // 2, diffX - diffX // 2, ...` and `torch.cat([x2, x1], dim=1)`, on a 36x44 input whose
 * odd intermediate size (9) makes `Up` pad. The checkpoint is a state dict with one extra
 * non-tensor entry, `'mask_values'`, which the prediction script pops before `load_state_dict`.
 *
 * Fixtures: scripts/make_example_fixtures.py → test/fixtures/examples/{unet.json, unet.pth}.
 * Tolerance: 10x PyTorch's own float32-vs-float64 difference on the output (in the fixture).
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { cat, loadObject, nn, Tensor } from "../../src/index.js";
import { detTensor, dec, expectClose, fixture } from "../helpers.js";

const F = nn.functional;

/** (convolution => [BN] => ReLU) * 2 */
class DoubleConv extends nn.Module {
  double_conv: nn.Sequential;

  constructor(inChannels: number, outChannels: number, midChannels: number | null = null) {
    super();
    if (!midChannels) midChannels = outChannels;
    this.double_conv = new nn.Sequential(
      new nn.Conv2d(inChannels, midChannels, 3, { padding: 1, bias: false }),
      new nn.BatchNorm2d(midChannels),
      new nn.ReLU(true),
      new nn.Conv2d(midChannels, outChannels, 3, { padding: 1, bias: false }),
      new nn.BatchNorm2d(outChannels),
      new nn.ReLU(true),
    );
  }

  override forward(x: Tensor): Tensor {
    return this.double_conv.call(x);
  }
}

/** Downscaling with maxpool then double conv */
class Down extends nn.Module {
  maxpool_conv: nn.Sequential;

  constructor(inChannels: number, outChannels: number) {
    super();
    this.maxpool_conv = new nn.Sequential(new nn.MaxPool2d(2), new DoubleConv(inChannels, outChannels));
  }

  override forward(x: Tensor): Tensor {
    return this.maxpool_conv.call(x);
  }
}

/** Upscaling then double conv */
class Up extends nn.Module {
  conv: DoubleConv;

  constructor(inChannels: number, outChannels: number) {
    super();
    this.conv = new DoubleConv(inChannels, outChannels, Math.floor(inChannels / 2));
  }

  override forward(x1: Tensor, x2: Tensor): Tensor {
    x1 = F.interpolate(x1, { scaleFactor: 2, mode: "bilinear", alignCorners: true });
    // input is CHW
    const diffY = x2.size()[2] - x1.size()[2];
    const diffX = x2.size()[3] - x1.size()[3];

    x1 = F.pad(x1, [Math.floor(diffX / 2), diffX - Math.floor(diffX / 2), Math.floor(diffY / 2), diffY - Math.floor(diffY / 2)]);
    const x = cat([x2, x1], 1);
    return this.conv.call(x);
  }
}

class OutConv extends nn.Module {
  conv: nn.Conv2d;

  constructor(inChannels: number, outChannels: number) {
    super();
    this.conv = new nn.Conv2d(inChannels, outChannels, 1);
  }

  override forward(x: Tensor): Tensor {
    return this.conv.call(x);
  }
}

class UNet extends nn.Module {
  nChannels: number;
  nClasses: number;
  inc: DoubleConv;
  down1: Down;
  down2: Down;
  down3: Down;
  down4: Down;
  up1: Up;
  up2: Up;
  up3: Up;
  up4: Up;
  outc: OutConv;

  constructor(nChannels: number, nClasses: number, base = 4) {
    super();
    this.nChannels = nChannels;
    this.nClasses = nClasses;

    this.inc = new DoubleConv(nChannels, base);
    this.down1 = new Down(base, base * 2);
    this.down2 = new Down(base * 2, base * 4);
    this.down3 = new Down(base * 4, base * 8);
    this.down4 = new Down(base * 8, Math.floor((base * 16) / 2));
    this.up1 = new Up(base * 16, Math.floor((base * 8) / 2));
    this.up2 = new Up(base * 8, Math.floor((base * 4) / 2));
    this.up3 = new Up(base * 4, Math.floor((base * 2) / 2));
    this.up4 = new Up(base * 2, base);
    this.outc = new OutConv(base, nClasses);
  }

  override forward(x: Tensor): Tensor {
    const x1 = this.inc.call(x);
    const x2 = this.down1.call(x1);
    const x3 = this.down2.call(x2);
    const x4 = this.down3.call(x3);
    const x5 = this.down4.call(x4);
    x = this.up1.call(x5, x4);
    x = this.up2.call(x, x3);
    x = this.up3.call(x, x2);
    x = this.up4.call(x, x1);
    const logits = this.outc.call(x);
    return logits;
  }
}

const fx = fixture("examples/unet.json");
const CKPT = fileURLToPath(new URL("../fixtures/examples/unet.pth", import.meta.url));

describe("small U-Net (bilinear, align_corners=True), state dict with 'mask_values'", () => {
  it("prints as PyTorch", () => {
    expect(new UNet(3, 2, 4).toString()).toBe(fx.repr);
  });

  it("pop 'mask_values', load strictly; x=[1,3,36,44] → [1,2,36,44] as PyTorch's", () => {
    const net = new UNet(3, 2, 4);
    // state_dict = torch.load(path); mask_values = state_dict.pop('mask_values', [0, 1])
    const stateDict = (loadObject(CKPT) as { map: Map<string, any> }).map;
    const maskValues = stateDict.get("mask_values") ?? [0, 1];
    stateDict.delete("mask_values");
    expect(maskValues).toEqual([0, 1]);
    net.loadStateDict(stateDict);
    net.eval();
    const y = net.call(detTensor(fx.input.det[0], fx.input.det[1]));
    expect(y.shape).toEqual([1, 2, 36, 44]);
    const tol = Math.max(1e-6, 10 * fx.f32_vs_f64);
    expectClose(y, dec(fx.logits), { rtol: tol, atol: tol }, "unet output");
  });
});
