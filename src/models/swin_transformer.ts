/**
 * Swin Transformer v1 and v2 (PyTorch: `torchvision/models/swin_transformer.py`, torchvision
 * 0.14): `SwinTransformer`, `SwinTransformerBlock(V2)`, `ShiftedWindowAttention(V2)`,
 * `PatchMerging(V2)`, `shiftedWindowAttention`, and the builders `swin_t/s/b`, `swin_v2_t/s/b`.
 * Relative position indices (and v2's log-spaced coordinate table) are persistent buffers, as in
 * torchvision 0.14's state dicts.
 */
import { ValueError } from "../errors.js";
import * as nn from "../nn/index.js";
import * as F from "../nn/functional.js";
import { indexRows } from "../nn/transformer.js";
import { MLP, Permute, StochasticDepth, makeLayer, type LayerFactory } from "../ops/index.js";
import * as torch from "../tensor/index.js";
import { matmul, Tensor, zeros } from "../tensor/index.js";
import { truncNormal_, xavierUniform_ } from "../nn/init.js";

/** Pad H and W to even sizes and merge each 2x2 patch into channels: `[..., H, W, C]` → `[..., H/2, W/2, 4C]`. */
function patchMergingPad(x: Tensor): Tensor {
  const [H, W] = x.shape.slice(-3, -1);
  x = F.pad(x, [0, 0, 0, W % 2, 0, H % 2]);
  const x0 = x.get("...", "0::2", "0::2", ":"); // ... H/2 W/2 C
  const x1 = x.get("...", "1::2", "0::2", ":"); // ... H/2 W/2 C
  const x2 = x.get("...", "0::2", "1::2", ":"); // ... H/2 W/2 C
  const x3 = x.get("...", "1::2", "1::2", ":"); // ... H/2 W/2 C
  return torch.cat([x0, x1, x2, x3], -1); // ... H/2 W/2 4*C
}

/** The `[1, heads, N, N]` bias of a window from its table and flat index (torchvision: `_get_relative_position_bias`). */
function getRelativePositionBias(table: Tensor, index: Tensor<"int64">, windowSize: number[]): Tensor {
  const N = windowSize[0] * windowSize[1];
  let bias = indexRows(table, index); // table[index]: [N*N, heads]
  bias = bias.view(N, N, -1);
  return bias.permute(2, 0, 1).contiguous().unsqueeze(0);
}

/** Patch merging: 2x2 neighbours concatenated, LayerNorm, then Linear 4C → 2C (torchvision: `PatchMerging`). */
export class PatchMerging extends nn.Module {
  dim: number;
  declare reduction: nn.Linear;
  declare norm: nn.Module;

  constructor(dim: number, normLayer: LayerFactory = nn.LayerNorm) {
    super();
    this.dim = dim;
    this.reduction = new nn.Linear(4 * dim, 2 * dim, { bias: false });
    this.norm = makeLayer(normLayer, 4 * dim);
  }

  /** `[..., H, W, C]` → `[..., H/2, W/2, 2C]`. */
  override forward(x: Tensor): Tensor {
    x = patchMergingPad(x);
    x = this.norm.call(x);
    return this.reduction.call(x); // ... H/2 W/2 2*C
  }
}

/** Swin v2's patch merging: Linear 4C → 2C, then LayerNorm over 2C (torchvision: `PatchMergingV2`). */
export class PatchMergingV2 extends nn.Module {
  dim: number;
  declare reduction: nn.Linear;
  declare norm: nn.Module;

  constructor(dim: number, normLayer: LayerFactory = nn.LayerNorm) {
    super();
    this.dim = dim;
    this.reduction = new nn.Linear(4 * dim, 2 * dim, { bias: false });
    this.norm = makeLayer(normLayer, 2 * dim); // difference
  }

  /** `[..., H, W, C]` → `[..., H/2, W/2, 2C]`. */
  override forward(x: Tensor): Tensor {
    x = patchMergingPad(x);
    x = this.reduction.call(x); // ... H/2 W/2 2*C
    return this.norm.call(x);
  }
}

/** Options of `shiftedWindowAttention` after its seven positional arguments. */
export interface ShiftedWindowAttentionArgs {
  attentionDropout?: number;
  dropout?: number;
  qkvBias?: Tensor | null;
  projBias?: Tensor | null;
  /** Swin v2: cosine attention with this per-head logit scale. */
  logitScale?: Tensor | null;
}

/**
 * Window-based multi-head self-attention with relative position bias, shifted windows when
 * `shiftSize` is non-zero (torchvision: `shifted_window_attention`). `input` `[B, H, W, C]` →
 * the same shape.
 */
export function shiftedWindowAttention(
  input: Tensor,
  qkvWeight: Tensor,
  projWeight: Tensor,
  relativePositionBias: Tensor,
  windowSize: number[],
  numHeads: number,
  shiftSize: number[],
  opts: ShiftedWindowAttentionArgs = {},
): Tensor {
  const { attentionDropout = 0.0, dropout = 0.0, logitScale = null } = opts;
  let { qkvBias = null } = opts;
  const [B, H, W, C] = input.shape;
  // pad feature maps to multiples of window size
  const padR = (windowSize[1] - (W % windowSize[1])) % windowSize[1];
  const padB = (windowSize[0] - (H % windowSize[0])) % windowSize[0];
  let x = F.pad(input, [0, 0, 0, padR, 0, padB]);
  const [, padH, padW] = x.shape;

  shiftSize = [...shiftSize];
  // If window size is larger than feature size, there is no need to shift window
  if (windowSize[0] >= padH) shiftSize[0] = 0;
  if (windowSize[1] >= padW) shiftSize[1] = 0;
  const shifted = shiftSize[0] + shiftSize[1] > 0;

  // cyclic shift
  if (shifted) x = x.roll([-shiftSize[0], -shiftSize[1]], [1, 2]);

  // partition windows
  const numWindows = Math.floor(padH / windowSize[0]) * Math.floor(padW / windowSize[1]);
  x = x.view(B, Math.floor(padH / windowSize[0]), windowSize[0], Math.floor(padW / windowSize[1]), windowSize[1], C);
  x = x.permute(0, 1, 3, 2, 4, 5).reshape(B * numWindows, windowSize[0] * windowSize[1], C); // B*nW, Ws*Ws, C

  // multi-head attention
  if (logitScale !== null && qkvBias !== null) {
    qkvBias = qkvBias.clone();
    const length = Math.floor(qkvBias.numel() / 3);
    qkvBias.set([`${length}:${2 * length}`], 0);
  }
  let qkv = F.linear(x, qkvWeight, qkvBias);
  const [Bw, Nw] = x.shape;
  qkv = qkv.reshape(Bw, Nw, 3, numHeads, Math.floor(C / numHeads)).permute(2, 0, 3, 1, 4);
  let q = qkv.get(0);
  const k = qkv.get(1);
  const v = qkv.get(2);
  let attn: Tensor;
  if (logitScale !== null) {
    // cosine attention
    attn = matmul(F.normalize(q, { dim: -1 }), F.normalize(k, { dim: -1 }).transpose(-2, -1));
    attn = attn.mul(logitScale.clamp({ max: Math.log(100.0) }).exp());
  } else {
    q = q.mul(Math.floor(C / numHeads) ** -0.5);
    attn = matmul(q, k.transpose(-2, -1));
  }
  // add relative position bias
  attn = attn.add(relativePositionBias);

  if (shifted) {
    // generate attention mask
    let attnMask = zeros(padH, padW);
    const hSlices = [[0, -windowSize[0]], [-windowSize[0], -shiftSize[0]], [-shiftSize[0], null]];
    const wSlices = [[0, -windowSize[1]], [-windowSize[1], -shiftSize[1]], [-shiftSize[1], null]];
    let count = 0;
    for (const h of hSlices) {
      for (const w of wSlices) {
        attnMask.set([`${h[0]}:${h[1] ?? ""}`, `${w[0]}:${w[1] ?? ""}`], count);
        count++;
      }
    }
    attnMask = attnMask.view(Math.floor(padH / windowSize[0]), windowSize[0], Math.floor(padW / windowSize[1]), windowSize[1]);
    attnMask = attnMask.permute(0, 2, 1, 3).reshape(numWindows, windowSize[0] * windowSize[1]);
    attnMask = attnMask.unsqueeze(1).sub(attnMask.unsqueeze(2));
    attnMask = attnMask.maskedFill(attnMask.ne(0), -100.0).maskedFill(attnMask.eq(0), 0.0);
    attn = attn.view(Math.floor(Bw / numWindows), numWindows, numHeads, Nw, Nw);
    attn = attn.add(attnMask.unsqueeze(1).unsqueeze(0));
    attn = attn.view(-1, numHeads, Nw, Nw);
  }

  attn = F.softmax(attn, -1);
  attn = F.dropout(attn, attentionDropout);

  x = matmul(attn, v).transpose(1, 2).reshape(Bw, Nw, C);
  x = F.linear(x, projWeight, opts.projBias ?? null);
  x = F.dropout(x, dropout);

  // reverse windows
  x = x.view(B, Math.floor(padH / windowSize[0]), Math.floor(padW / windowSize[1]), windowSize[0], windowSize[1], C);
  x = x.permute(0, 1, 3, 2, 4, 5).reshape(B, padH, padW, C);

  // reverse cyclic shift
  if (shifted) x = x.roll([shiftSize[0], shiftSize[1]], [1, 2]);

  // unpad features
  return x.get(":", `:${H}`, `:${W}`, ":").contiguous();
}

/** Options of `ShiftedWindowAttention(V2)` after its four positional arguments. */
export interface ShiftedWindowAttentionOptions {
  qkvBias?: boolean;
  projBias?: boolean;
  attentionDropout?: number;
  dropout?: number;
}

/** The flat `[N·N]` relative position index of a window (int64), N = Wh·Ww. */
function relativePositionIndex(windowSize: number[]): Tensor<"int64"> {
  const [wh, ww] = windowSize;
  const N = wh * ww;
  const idx = new BigInt64Array(N * N);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) {
      const dh = Math.floor(i / ww) - Math.floor(j / ww) + wh - 1; // shift to start from 0
      const dw = (i % ww) - (j % ww) + ww - 1;
      idx[i * N + j] = BigInt(dh * (2 * ww - 1) + dw);
    }
  }
  return new Tensor(idx, [N * N], "int64");
}

/** Shifted-window attention with a learned relative position bias table (torchvision: `ShiftedWindowAttention`). */
export class ShiftedWindowAttention extends nn.Module {
  windowSize: number[];
  shiftSize: number[];
  numHeads: number;
  attentionDropout: number;
  dropout: number;
  declare qkv: nn.Linear;
  declare proj: nn.Linear;
  declare relative_position_bias_table: nn.Parameter;
  declare relative_position_index: Tensor<"int64">;

  constructor(dim: number, windowSize: number[], shiftSize: number[], numHeads: number, opts: ShiftedWindowAttentionOptions = {}) {
    super();
    const { qkvBias = true, projBias = true, attentionDropout = 0.0, dropout = 0.0 } = opts;
    if (windowSize.length !== 2 || shiftSize.length !== 2) throw new ValueError("window_size and shift_size must be of length 2");
    this.windowSize = [...windowSize];
    this.shiftSize = [...shiftSize];
    this.numHeads = numHeads;
    this.attentionDropout = attentionDropout;
    this.dropout = dropout;
    this.qkv = new nn.Linear(dim, dim * 3, { bias: qkvBias });
    this.proj = new nn.Linear(dim, dim, { bias: projBias });
    this.defineRelativePositionBiasTable();
    this.defineRelativePositionIndex();
  }

  /** `[(2Wh-1)(2Ww-1), heads]`, trunc_normal_(std=0.02) (torchvision: `define_relative_position_bias_table`). */
  defineRelativePositionBiasTable(): void {
    const [wh, ww] = this.windowSize;
    this.relative_position_bias_table = new nn.Parameter(zeros((2 * wh - 1) * (2 * ww - 1), this.numHeads));
    truncNormal_(this.relative_position_bias_table, 0, 0.02);
  }

  /** The persistent buffer `relative_position_index` (torchvision: `define_relative_position_index`). */
  defineRelativePositionIndex(): void {
    this.registerBuffer("relative_position_index", relativePositionIndex(this.windowSize));
  }

  /** `[1, heads, N, N]` (torchvision: `get_relative_position_bias`). */
  getRelativePositionBias(): Tensor {
    return getRelativePositionBias(this.relative_position_bias_table, this.relative_position_index, this.windowSize);
  }

  /** `[B, H, W, C]` → `[B, H, W, C]`. */
  override forward(x: Tensor): Tensor {
    const relativePositionBias = this.getRelativePositionBias();
    return shiftedWindowAttention(x, this.qkv.weight, this.proj.weight, relativePositionBias, this.windowSize, this.numHeads, this.shiftSize, {
      attentionDropout: this.attentionDropout,
      dropout: this.dropout,
      qkvBias: this.qkv.bias,
      projBias: this.proj.bias,
    });
  }
}

/**
 * Swin v2's attention: cosine similarity with a learned per-head logit scale, the bias from a
 * small MLP over log-spaced relative coordinates (torchvision: `ShiftedWindowAttentionV2`).
 */
export class ShiftedWindowAttentionV2 extends ShiftedWindowAttention {
  declare logit_scale: nn.Parameter;
  declare cpb_mlp: nn.Sequential;
  declare relative_coords_table: Tensor;

  constructor(dim: number, windowSize: number[], shiftSize: number[], numHeads: number, opts: ShiftedWindowAttentionOptions = {}) {
    super(dim, windowSize, shiftSize, numHeads, opts);
    const { qkvBias = true } = opts;
    const ls = new Float32Array(numHeads).fill(Math.fround(Math.log(10)));
    this.logit_scale = new nn.Parameter(new Tensor(ls, [numHeads, 1, 1]));
    // mlp to generate continuous relative position bias
    this.cpb_mlp = new nn.Sequential(new nn.Linear(2, 512, { bias: true }), new nn.ReLU(true), new nn.Linear(512, numHeads, { bias: false }));
    if (qkvBias) {
      const length = Math.floor(this.qkv.bias!.numel() / 3);
      this.qkv.bias!.data.fill(0, length, 2 * length);
      this.qkv.bias!._bumpVersion();
    }
  }

  /** The persistent buffer `relative_coords_table` `[1, 2Wh-1, 2Ww-1, 2]`: sign(t)·log2(|8t|+1)/3 of the normalised offsets. */
  override defineRelativePositionBiasTable(): void {
    const [wh, ww] = this.windowSize;
    const h = 2 * wh - 1;
    const w = 2 * ww - 1;
    const t = new Float32Array(h * w * 2);
    const f = Math.fround;
    const logSpaced = (c: number, size: number): number => {
      const a = f(f(c / (size - 1)) * 8); // normalize to -8, 8
      return f(f(Math.sign(a) * f(Math.log2(f(Math.abs(a) + 1)))) / 3);
    };
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        t[(i * w + j) * 2] = logSpaced(i - (wh - 1), wh);
        t[(i * w + j) * 2 + 1] = logSpaced(j - (ww - 1), ww);
      }
    }
    this.registerBuffer("relative_coords_table", new Tensor(t, [1, h, w, 2]));
  }

  /** `16·sigmoid(bias)` from `cpb_mlp(relative_coords_table)` (torchvision: `get_relative_position_bias`). */
  override getRelativePositionBias(): Tensor {
    const table = this.cpb_mlp.call(this.relative_coords_table).view(-1, this.numHeads);
    const bias = getRelativePositionBias(table, this.relative_position_index, this.windowSize);
    return F.sigmoid(bias).mul(16);
  }

  override forward(x: Tensor): Tensor {
    const relativePositionBias = this.getRelativePositionBias();
    return shiftedWindowAttention(x, this.qkv.weight, this.proj.weight, relativePositionBias, this.windowSize, this.numHeads, this.shiftSize, {
      attentionDropout: this.attentionDropout,
      dropout: this.dropout,
      qkvBias: this.qkv.bias,
      projBias: this.proj.bias,
      logitScale: this.logit_scale,
    });
  }
}

/** Options of `SwinTransformerBlock(V2)` after its four positional arguments. */
export interface SwinTransformerBlockOptions {
  mlpRatio?: number;
  dropout?: number;
  attentionDropout?: number;
  stochasticDepthProb?: number;
  normLayer?: LayerFactory;
  attnLayer?: new (dim: number, windowSize: number[], shiftSize: number[], numHeads: number, opts: ShiftedWindowAttentionOptions) => nn.Module;
}

/** Pre-norm window attention and MLP with stochastic depth (torchvision: `SwinTransformerBlock`). */
export class SwinTransformerBlock extends nn.Module {
  declare norm1: nn.Module;
  declare attn: nn.Module;
  declare stochastic_depth: StochasticDepth;
  declare norm2: nn.Module;
  declare mlp: MLP;

  constructor(dim: number, numHeads: number, windowSize: number[], shiftSize: number[], opts: SwinTransformerBlockOptions = {}) {
    super();
    const {
      mlpRatio = 4.0, dropout = 0.0, attentionDropout = 0.0, stochasticDepthProb = 0.0, normLayer = nn.LayerNorm, attnLayer = ShiftedWindowAttention,
    } = opts;
    this.norm1 = makeLayer(normLayer, dim);
    this.attn = new attnLayer(dim, windowSize, shiftSize, numHeads, { attentionDropout, dropout });
    this.stochastic_depth = new StochasticDepth(stochasticDepthProb, "row");
    this.norm2 = makeLayer(normLayer, dim);
    this.mlp = new MLP(dim, [Math.trunc(dim * mlpRatio), dim], { activationLayer: nn.GELU, inplace: null, dropout });
    for (const m of this.mlp.modules()) {
      if (m instanceof nn.Linear) {
        xavierUniform_(m.weight);
        if (m.bias) nn.init.normal_(m.bias, 0, 1e-6);
      }
    }
  }

  override forward(x: Tensor): Tensor {
    x = x.add(this.stochastic_depth.call(this.attn.call(this.norm1.call(x))));
    return x.add(this.stochastic_depth.call(this.mlp.call(this.norm2.call(x))));
  }
}

/** Swin v2's block: post-norm residuals (torchvision: `SwinTransformerBlockV2`). */
export class SwinTransformerBlockV2 extends SwinTransformerBlock {
  constructor(dim: number, numHeads: number, windowSize: number[], shiftSize: number[], opts: SwinTransformerBlockOptions = {}) {
    super(dim, numHeads, windowSize, shiftSize, { attnLayer: ShiftedWindowAttentionV2, ...opts });
  }

  override forward(x: Tensor): Tensor {
    // Here is the difference, we apply norm after the attention in V2.
    // In V1 we applied norm before the attention.
    x = x.add(this.stochastic_depth.call(this.norm1.call(this.attn.call(x))));
    return x.add(this.stochastic_depth.call(this.norm2.call(this.mlp.call(x))));
  }
}

/** Options of `SwinTransformer` after its five positional arguments (torchvision's keyword arguments). */
export interface SwinTransformerOptions {
  mlpRatio?: number;
  dropout?: number;
  attentionDropout?: number;
  stochasticDepthProb?: number;
  numClasses?: number;
  normLayer?: LayerFactory | null;
  block?: typeof SwinTransformerBlock | null;
  downsampleLayer?: new (dim: number, normLayer: LayerFactory) => nn.Module;
}

/**
 * Swin Transformer (torchvision: `SwinTransformer`, https://arxiv.org/pdf/2103.14030): patch
 * embedding, stages of (shifted) window-attention blocks with patch merging between them, norm,
 * global average pool, linear head. Works on `[B, H, W, C]` inside.
 */
export class SwinTransformer extends nn.Module {
  numClasses: number;
  declare features: nn.Sequential;
  declare norm: nn.Module;
  declare permute: Permute;
  declare avgpool: nn.AdaptiveAvgPool2d;
  declare flatten: nn.Flatten;
  declare head: nn.Linear;

  constructor(patchSize: number[], embedDim: number, depths: number[], numHeads: number[], windowSize: number[], opts: SwinTransformerOptions = {}) {
    super();
    const { mlpRatio = 4.0, dropout = 0.0, attentionDropout = 0.0, stochasticDepthProb = 0.1, numClasses = 1000, downsampleLayer = PatchMerging } = opts;
    this.numClasses = numClasses;
    const block = opts.block ?? SwinTransformerBlock;
    const normLayer: LayerFactory = opts.normLayer ?? ((d: number) => new nn.LayerNorm(d, { eps: 1e-5 }));

    const layers: nn.Module[] = [];
    // split image into non-overlapping patches
    layers.push(
      new nn.Sequential(
        new nn.Conv2d(3, embedDim, [patchSize[0], patchSize[1]], { stride: [patchSize[0], patchSize[1]] }),
        new Permute([0, 2, 3, 1]),
        makeLayer(normLayer, embedDim),
      ),
    );

    const totalStageBlocks = depths.reduce((a, b) => a + b, 0);
    let stageBlockId = 0;
    // build SwinTransformer blocks
    for (let iStage = 0; iStage < depths.length; iStage++) {
      const stage: nn.Module[] = [];
      const dim = embedDim * 2 ** iStage;
      for (let iLayer = 0; iLayer < depths[iStage]; iLayer++) {
        // adjust stochastic depth probability based on the depth of the stage block
        const sdProb = (stochasticDepthProb * stageBlockId) / (totalStageBlocks - 1);
        stage.push(
          new block(dim, numHeads[iStage], windowSize, windowSize.map((w) => (iLayer % 2 === 0 ? 0 : Math.floor(w / 2))), {
            mlpRatio, dropout, attentionDropout, stochasticDepthProb: sdProb, normLayer,
          }),
        );
        stageBlockId++;
      }
      layers.push(new nn.Sequential(...stage));
      // add patch merging layer
      if (iStage < depths.length - 1) layers.push(new downsampleLayer(dim, normLayer));
    }
    this.features = new nn.Sequential(...layers);

    const numFeatures = embedDim * 2 ** (depths.length - 1);
    this.norm = makeLayer(normLayer, numFeatures);
    this.permute = new Permute([0, 3, 1, 2]); // B H W C -> B C H W
    this.avgpool = new nn.AdaptiveAvgPool2d(1);
    this.flatten = new nn.Flatten(1);
    this.head = new nn.Linear(numFeatures, numClasses);

    for (const m of this.modules()) {
      if (m instanceof nn.Linear) {
        truncNormal_(m.weight, 0, 0.02);
        if (m.bias) nn.init.zeros_(m.bias);
      }
    }
  }

  override forward(x: Tensor): Tensor {
    x = this.features.call(x);
    x = this.norm.call(x);
    x = this.permute.call(x);
    x = this.avgpool.call(x);
    x = this.flatten.call(x);
    return this.head.call(x);
  }
}

/** Builder options: `SwinTransformer`'s keyword arguments. */
export type SwinBuilderOptions = Omit<SwinTransformerOptions, "block" | "downsampleLayer" | "stochasticDepthProb"> & { stochasticDepthProb?: number };

function swinTransformer(
  patchSize: number[], embedDim: number, depths: number[], numHeads: number[], windowSize: number[], stochasticDepthProb: number,
  opts: SwinBuilderOptions, v2: boolean,
): SwinTransformer {
  return new SwinTransformer(patchSize, embedDim, depths, numHeads, windowSize, {
    stochasticDepthProb,
    ...opts,
    ...(v2 ? { block: SwinTransformerBlockV2, downsampleLayer: PatchMergingV2 } : {}),
  });
}

/** Swin-T: embed 96, depths (2, 2, 6, 2), heads (3, 6, 12, 24), window 7 (torchvision: `swin_t`). */
export function swin_t(opts: SwinBuilderOptions = {}): SwinTransformer {
  return swinTransformer([4, 4], 96, [2, 2, 6, 2], [3, 6, 12, 24], [7, 7], 0.2, opts, false);
}

/** Swin-S: embed 96, depths (2, 2, 18, 2) (torchvision: `swin_s`). */
export function swin_s(opts: SwinBuilderOptions = {}): SwinTransformer {
  return swinTransformer([4, 4], 96, [2, 2, 18, 2], [3, 6, 12, 24], [7, 7], 0.3, opts, false);
}

/** Swin-B: embed 128, depths (2, 2, 18, 2), heads (4, 8, 16, 32) (torchvision: `swin_b`). */
export function swin_b(opts: SwinBuilderOptions = {}): SwinTransformer {
  return swinTransformer([4, 4], 128, [2, 2, 18, 2], [4, 8, 16, 32], [7, 7], 0.5, opts, false);
}

/** Swin-V2-T: window 8, v2 blocks and patch merging (torchvision: `swin_v2_t`). */
export function swin_v2_t(opts: SwinBuilderOptions = {}): SwinTransformer {
  return swinTransformer([4, 4], 96, [2, 2, 6, 2], [3, 6, 12, 24], [8, 8], 0.2, opts, true);
}

/** Swin-V2-S (torchvision: `swin_v2_s`). */
export function swin_v2_s(opts: SwinBuilderOptions = {}): SwinTransformer {
  return swinTransformer([4, 4], 96, [2, 2, 18, 2], [3, 6, 12, 24], [8, 8], 0.3, opts, true);
}

/** Swin-V2-B (torchvision: `swin_v2_b`). */
export function swin_v2_b(opts: SwinBuilderOptions = {}): SwinTransformer {
  return swinTransformer([4, 4], 128, [2, 2, 18, 2], [4, 8, 16, 32], [8, 8], 0.5, opts, true);
}
