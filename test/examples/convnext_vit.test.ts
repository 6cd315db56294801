/**
 * timm/ConvNeXt-style building blocks translated line by line from scripts/make_example_fixtures.py:
 * `drop_path` (`x.new_empty(shape).bernoulli_(keep_prob)`), `DropPath` with its f-string
 * `extra_repr`, ConvNeXt's channels-first/last `LayerNorm` (`x.mean(1, keepdim=True)`,
 * `(x - u).pow(2)`, `torch.sqrt`, `self.weight[:, None, None]`, `F.layer_norm`), the ConvNeXt block
 * (depthwise 7x7, `permute`, layer scale `self.gamma * x`), timm's `Attention`
 * (`reshape(...).permute(2, 0, 3, 1, 4)`, `unbind(0)`, `q @ k.transpose(-2, -1)`,
 * `softmax(dim=-1)`), a ViT block, and a head with a cls token (`expand(x.shape[0], -1, -1)`,
 * `torch.cat`, `x[:, 0]`) and `dpr = [x.item() for x in torch.linspace(...)]`.
 *
 * Fixtures: test/fixtures/examples/{hybrid.json, hybrid.pth} ({'model': state_dict}).
 * Tolerance: PyTorch's own float32-vs-float64 difference on these logits is 1.9e-7 (|y| ≤ 1);
 * tsnn must stay within 1e-6 + 1e-6·|y| (LayerNorm/softmax accumulate in double in tsnn).
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { cat, linspace, load, matmul, nn, ones, Parameter, randn, sqrt, Tensor, zeros } from "../../src/index.js";
import { detTensor, dec, expectClose, fixture } from "../helpers.js";

const F = nn.functional;

function drop_path(x: Tensor, dropProb = 0.0, training = false, scaleByKeep = true): Tensor {
  if (dropProb === 0.0 || !training) {
    return x;
  }
  const keepProb = 1 - dropProb;
  const shape = [x.shape[0], ...Array(x.ndim - 1).fill(1)];
  const randomTensor = x.newZeros(shape).bernoulli_(keepProb); // Python: x.new_empty(shape) (no newEmpty)
  if (keepProb > 0.0 && scaleByKeep) {
    randomTensor.div_(keepProb);
  }
  return x.mul(randomTensor);
}

class DropPath extends nn.Module {
  drop_prob: number;
  scale_by_keep: boolean;

  constructor(dropProb = 0.0, scaleByKeep = true) {
    super();
    this.drop_prob = dropProb;
    this.scale_by_keep = scaleByKeep;
  }

  override forward(x: Tensor): Tensor {
    return drop_path(x, this.drop_prob, this.training, this.scale_by_keep);
  }

  override extraRepr(): string {
    return `drop_prob=${(Math.round(this.drop_prob * 1000) / 1000).toFixed(3)}`;
  }
}

/** LayerNorm for channels_last (N, H, W, C) or channels_first (N, C, H, W) inputs. */
class LayerNorm extends nn.Module {
  declare weight: Parameter; // `weight: Parameter;` would throw KeyError on assignment (reported)
  declare bias: Parameter;
  eps: number;
  data_format: string;
  normalized_shape: number[];

  constructor(normalizedShape: number, eps = 1e-6, dataFormat = "channels_last") {
    super();
    this.weight = new Parameter(ones([normalizedShape]));
    this.bias = new Parameter(zeros([normalizedShape]));
    this.eps = eps;
    this.data_format = dataFormat;
    if (!["channels_last", "channels_first"].includes(this.data_format)) {
      throw new Error("NotImplementedError");
    }
    this.normalized_shape = [normalizedShape];
  }

  override forward(x: Tensor): Tensor {
    if (this.data_format === "channels_last") {
      return F.layerNorm(x, this.normalized_shape, this.weight, this.bias, this.eps);
    }
    const u = x.mean(1, true);
    const s = x.sub(u).pow(2).mean(1, true);
    x = x.sub(u).div(sqrt(s.add(this.eps)));
    x = this.weight.get(":", null, null).mul(x).add(this.bias.get(":", null, null));
    return x;
  }
}

class ConvNeXtBlock extends nn.Module {
  dwconv: nn.Conv2d;
  norm: LayerNorm;
  pwconv1: nn.Linear;
  act: nn.GELU;
  pwconv2: nn.Linear;
  declare gamma: Parameter | null;
  drop_path: nn.Module;

  constructor(dim: number, dropPath = 0.0, layerScaleInitValue = 1e-6) {
    super();
    this.dwconv = new nn.Conv2d(dim, dim, 7, { padding: 3, groups: dim }); // depthwise conv
    this.norm = new LayerNorm(dim, 1e-6);
    this.pwconv1 = new nn.Linear(dim, 4 * dim); // pointwise/1x1 convs, implemented with linear layers
    this.act = new nn.GELU();
    this.pwconv2 = new nn.Linear(4 * dim, dim);
    this.gamma = layerScaleInitValue > 0 ? new Parameter(ones([dim]).mul(layerScaleInitValue), true) : null;
    this.drop_path = dropPath > 0.0 ? new DropPath(dropPath) : new nn.Identity();
  }

  override forward(x: Tensor): Tensor {
    const input = x;
    x = this.dwconv.call(x);
    x = x.permute(0, 2, 3, 1); // (N, C, H, W) -> (N, H, W, C)
    x = this.norm.call(x);
    x = this.pwconv1.call(x);
    x = this.act.call(x);
    x = this.pwconv2.call(x);
    if (this.gamma !== null) {
      x = this.gamma.mul(x);
    }
    x = x.permute(0, 3, 1, 2); // (N, H, W, C) -> (N, C, H, W)

    x = input.add(this.drop_path.call(x));
    return x;
  }
}

class Attention extends nn.Module {
  num_heads: number;
  scale: number;
  qkv: nn.Linear;
  attn_drop: nn.Dropout;
  proj: nn.Linear;
  proj_drop: nn.Dropout;

  constructor(dim: number, numHeads = 8, qkvBias = false, attnDrop = 0.0, projDrop = 0.0) {
    super();
    if (dim % numHeads !== 0) throw new Error("dim should be divisible by num_heads");
    this.num_heads = numHeads;
    const headDim = Math.floor(dim / numHeads);
    this.scale = headDim ** -0.5;

    this.qkv = new nn.Linear(dim, dim * 3, { bias: qkvBias });
    this.attn_drop = new nn.Dropout(attnDrop);
    this.proj = new nn.Linear(dim, dim);
    this.proj_drop = new nn.Dropout(projDrop);
  }

  override forward(x: Tensor): Tensor {
    const [B, N, C] = x.shape;
    const qkv = this.qkv.call(x).reshape(B, N, 3, this.num_heads, Math.floor(C / this.num_heads)).permute(2, 0, 3, 1, 4);
    const [q, k, v] = qkv.unbind(0);

    let attn = matmul(q, k.transpose(-2, -1)).mul(this.scale);
    attn = attn.softmax(-1);
    attn = this.attn_drop.call(attn);

    x = matmul(attn, v).transpose(1, 2).reshape(B, N, C);
    x = this.proj.call(x);
    x = this.proj_drop.call(x);
    return x;
  }
}

class Mlp extends nn.Module {
  fc1: nn.Linear;
  act: nn.Module;
  drop1: nn.Dropout;
  fc2: nn.Linear;
  drop2: nn.Dropout;

  constructor(inFeatures: number, hiddenFeatures: number | null = null, outFeatures: number | null = null, actLayer: new () => nn.Module = nn.GELU, drop = 0.0) {
    super();
    outFeatures = outFeatures || inFeatures;
    hiddenFeatures = hiddenFeatures || inFeatures;
    this.fc1 = new nn.Linear(inFeatures, hiddenFeatures);
    this.act = new actLayer();
    this.drop1 = new nn.Dropout(drop);
    this.fc2 = new nn.Linear(hiddenFeatures, outFeatures);
    this.drop2 = new nn.Dropout(drop);
  }

  override forward(x: Tensor): Tensor {
    x = this.fc1.call(x);
    x = this.act.call(x);
    x = this.drop1.call(x);
    x = this.fc2.call(x);
    x = this.drop2.call(x);
    return x;
  }
}

class ViTBlock extends nn.Module {
  norm1: nn.LayerNorm;
  attn: Attention;
  drop_path: nn.Module;
  norm2: nn.LayerNorm;
  mlp: Mlp;

  constructor(dim: number, numHeads: number, mlpRatio = 4.0, qkvBias = false, dropPath = 0.0) {
    super();
    this.norm1 = new nn.LayerNorm(dim, { eps: 1e-6 });
    this.attn = new Attention(dim, numHeads, qkvBias);
    this.drop_path = dropPath > 0.0 ? new DropPath(dropPath) : new nn.Identity();
    this.norm2 = new nn.LayerNorm(dim, { eps: 1e-6 });
    this.mlp = new Mlp(dim, Math.trunc(dim * mlpRatio));
  }

  override forward(x: Tensor): Tensor {
    x = x.add(this.drop_path.call(this.attn.call(this.norm1.call(x))));
    x = x.add(this.drop_path.call(this.mlp.call(this.norm2.call(x))));
    return x;
  }
}

class TinyHybrid extends nn.Module {
  stem: nn.Sequential;
  stage: nn.Sequential;
  declare cls_token: Parameter;
  declare pos_embed: Parameter;
  blocks: nn.ModuleList;
  norm: nn.LayerNorm;
  head: nn.Linear;

  constructor(imgSize = 16, dim = 16, depths = [2, 2], numHeads = 2, numClasses = 7, dropPathRate = 0.1) {
    super();
    this.stem = new nn.Sequential(new nn.Conv2d(3, dim, 4, { stride: 4 }), new LayerNorm(dim, 1e-6, "channels_first"));
    const dpr = (linspace(0, dropPathRate, depths[0] + depths[1]).tolist() as number[]);
    this.stage = new nn.Sequential(...Array.from({ length: depths[0] }, (_, j) => new ConvNeXtBlock(dim, dpr[j])));
    const numPatches = Math.floor(imgSize / 4) ** 2;
    this.cls_token = new Parameter(zeros([1, 1, dim]));
    this.pos_embed = new Parameter(randn([1, numPatches + 1, dim]).mul(0.02));
    this.blocks = new nn.ModuleList(Array.from({ length: depths[1] }, (_, i) => new ViTBlock(dim, numHeads, 4.0, true, dpr[depths[0] + i])));
    this.norm = new nn.LayerNorm(dim, { eps: 1e-6 });
    this.head = new nn.Linear(dim, numClasses);
  }

  override forward(x: Tensor): Tensor {
    x = this.stem.call(x);
    x = this.stage.call(x);
    x = x.flatten(2).transpose(1, 2); // B, N, C
    const clsToken = this.cls_token.expand(x.shape[0], -1, -1);
    x = cat([clsToken, x], 1);
    x = x.add(this.pos_embed);
    for (const blk of this.blocks) {
      x = blk.call(x);
    }
    x = this.norm.call(x);
    return this.head.call(x.get(":", 0));
  }
}

const fx = fixture("examples/hybrid.json");
const CKPT = fileURLToPath(new URL("../fixtures/examples/hybrid.pth", import.meta.url));

describe("ConvNeXt blocks + ViT blocks (timm style), {'model': state_dict}", () => {
  it("prints as PyTorch (DropPath's f-string extra_repr, custom LayerNorm, ModuleList)", () => {
    expect(new TinyHybrid().toString()).toBe(fx.repr);
  });

  it("state-dict keys in PyTorch's order; loads strictly; x=[2,3,16,16] → logits [2,7] as PyTorch's", () => {
    const net = new TinyHybrid();
    const sd = load(CKPT, { key: "model" });
    expect([...net.stateDict().keys()]).toEqual([...sd.keys()]);
    net.loadStateDict(sd);
    net.eval();
    const y = net.call(detTensor(fx.input.det[0], fx.input.det[1]));
    expectClose(y, dec(fx.logits), { rtol: 1e-6, atol: 1e-6 }, "hybrid logits");
  });

  it("train mode: DropPath drops whole samples (a row of the output moves, eval restores PyTorch's)", () => {
    const net = new TinyHybrid();
    net.loadStateDict(load(CKPT, { key: "model" }));
    const x = detTensor(fx.input.det[0], fx.input.det[1]);
    net.train();
    const outs = Array.from({ length: 4 }, () => net.call(x));
    expect(outs.some((o) => !o.allclose(outs[0]))).toBe(true);
    net.eval();
    expectClose(net.call(x), dec(fx.logits), { rtol: 1e-6, atol: 1e-6 }, "hybrid logits after train()");
  });
});
