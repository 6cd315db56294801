/**
 * MaxViT (PyTorch: `torchvision/models/maxvit.py`, torchvision 0.14): `MaxVit`, `MaxVitBlock`,
 * `MaxVitLayer`, `MBConv`, `PartitionAttentionLayer`, `RelativePositionalMultiHeadAttention`,
 * `SwapAxes`, `WindowPartition`, `WindowDepartition`, and the builder `maxvit_t`.
 */
import { AssertionError, ValueError } from "../errors.js";
import * as nn from "../nn/index.js";
import * as F from "../nn/functional.js";
import { indexRows } from "../nn/transformer.js";
import { Conv2dNormActivation, SqueezeExcitation, StochasticDepth, makeLayer, type LayerFactory } from "../ops/index.js";
import * as torch from "../tensor/index.js";
import { matmul, Tensor, zeros } from "../tensor/index.js";
import { truncNormal_ } from "../nn/init.js";

function getConvOutputShape(inputSize: [number, number], kernelSize: number, stride: number, padding: number): [number, number] {
  return [
    Math.floor((inputSize[0] - kernelSize + 2 * padding) / stride) + 1,
    Math.floor((inputSize[1] - kernelSize + 2 * padding) / stride) + 1,
  ];
}

/** Input size of every block: the stem and each block halve the size with a 3x3 stride-2 convolution. */
function makeBlockInputShapes(inputSize: [number, number], nBlocks: number): [number, number][] {
  const shapes: [number, number][] = [];
  let blockInputShape = getConvOutputShape(inputSize, 3, 2, 1);
  for (let i = 0; i < nBlocks; i++) {
    blockInputShape = getConvOutputShape(blockInputShape, 3, 2, 1);
    shapes.push(blockInputShape);
  }
  return shapes;
}

/** The `[h·w, h·w]` relative position index (int64) of an `h x w` window (torchvision: `_get_relative_position_index`). */
function getRelativePositionIndex(height: number, width: number): Tensor<"int64"> {
  const N = height * width;
  const idx = new BigInt64Array(N * N);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) {
      const dh = Math.floor(i / width) - Math.floor(j / width) + height - 1;
      const dw = (i % width) - (j % width) + width - 1;
      idx[i * N + j] = BigInt(dh * (2 * width - 1) + dw);
    }
  }
  return new Tensor(idx, [N, N], "int64");
}

/**
 * MBConv: pre-norm, 1x1 expansion, depthwise 3x3 (stride), squeeze-excitation, 1x1 projection,
 * with a (pooled, projected) shortcut (torchvision: `MBConv`).
 */
export class MBConv extends nn.Module {
  declare proj: nn.Module;
  declare stochastic_depth: nn.Module;
  declare layers: nn.Sequential;

  constructor(
    inChannels: number,
    outChannels: number,
    expansionRatio: number,
    squeezeRatio: number,
    stride: number,
    activationLayer: LayerFactory,
    normLayer: LayerFactory,
    pStochasticDropout = 0.0,
  ) {
    super();
    const shouldProj = stride !== 1 || inChannels !== outChannels;
    if (shouldProj) {
      let proj: nn.Module[] = [new nn.Conv2d(inChannels, outChannels, 1, { stride: 1, bias: true })];
      if (stride === 2) proj = [new nn.AvgPool2d(3, { stride, padding: 1 }), ...proj];
      this.proj = new nn.Sequential(...proj);
    } else {
      this.proj = new nn.Identity();
    }
    const midChannels = Math.trunc(outChannels * expansionRatio);
    const sqzChannels = Math.trunc(outChannels * squeezeRatio);
    this.stochastic_depth = pStochasticDropout ? new StochasticDepth(pStochasticDropout, "row") : new nn.Identity();
    const layers = new Map<string, nn.Module>();
    layers.set("pre_norm", makeLayer(normLayer, inChannels));
    layers.set("conv_a", new Conv2dNormActivation(inChannels, midChannels, { kernelSize: 1, stride: 1, padding: 0, activationLayer, normLayer, inplace: null }));
    layers.set(
      "conv_b",
      new Conv2dNormActivation(midChannels, midChannels, { kernelSize: 3, stride, padding: 1, activationLayer, normLayer, groups: midChannels, inplace: null }),
    );
    layers.set("squeeze_excitation", new SqueezeExcitation(midChannels, sqzChannels, { activation: nn.SiLU }));
    layers.set("conv_c", new nn.Conv2d(midChannels, outChannels, 1, { bias: true }));
    this.layers = new nn.Sequential(layers);
  }

  /** `[B, C, H, W]` → `[B, C_out, H/stride, W/stride]`. */
  override forward(x: Tensor): Tensor {
    const res = this.proj.call(x);
    x = this.stochastic_depth.call(this.layers.call(x));
    return res.add(x);
  }
}

/**
 * Multi-head self-attention over each partition with a learned relative position bias
 * (torchvision: `RelativePositionalMultiHeadAttention`). Input `[B, G, P, D]`.
 */
export class RelativePositionalMultiHeadAttention extends nn.Module {
  nHeads: number;
  headDim: number;
  size: number;
  maxSeqLen: number;
  declare to_qkv: nn.Linear;
  scaleFactor: number;
  declare merge: nn.Linear;
  declare relative_position_bias_table: nn.Parameter;
  declare relative_position_index: Tensor<"int64">;

  constructor(featDim: number, headDim: number, maxSeqLen: number) {
    super();
    if (featDim % headDim !== 0) throw new ValueError(`feat_dim: ${featDim} must be divisible by head_dim: ${headDim}`);
    this.nHeads = Math.floor(featDim / headDim);
    this.headDim = headDim;
    this.size = Math.trunc(Math.sqrt(maxSeqLen));
    this.maxSeqLen = maxSeqLen;
    this.to_qkv = new nn.Linear(featDim, this.nHeads * this.headDim * 3);
    this.scaleFactor = featDim ** -0.5;
    this.merge = new nn.Linear(this.headDim * this.nHeads, featDim);
    this.relative_position_bias_table = new nn.Parameter(zeros((2 * this.size - 1) * (2 * this.size - 1), this.nHeads));
    this.registerBuffer("relative_position_index", getRelativePositionIndex(this.size, this.size));
    // initialize with truncated normal the bias
    truncNormal_(this.relative_position_bias_table, 0, 0.02);
  }

  /** `[1, heads, P, P]` (torchvision: `get_relative_positional_bias`). */
  getRelativePositionalBias(): Tensor {
    const biasIndex = this.relative_position_index.view(-1);
    let relativeBias = indexRows(this.relative_position_bias_table, biasIndex).view(this.maxSeqLen, this.maxSeqLen, -1);
    relativeBias = relativeBias.permute(2, 0, 1).contiguous();
    return relativeBias.unsqueeze(0);
  }

  override forward(x: Tensor): Tensor {
    const [B, G, P, D] = x.shape;
    const H = this.nHeads;
    const DH = this.headDim;
    const qkv = this.to_qkv.call(x);
    let [q, k, v] = torch.chunk(qkv, 3, -1);
    q = q.reshape(B, G, P, H, DH).permute(0, 1, 3, 2, 4);
    k = k.reshape(B, G, P, H, DH).permute(0, 1, 3, 2, 4);
    v = v.reshape(B, G, P, H, DH).permute(0, 1, 3, 2, 4);
    k = k.mul(this.scaleFactor);
    // einsum "B G H I D, B G H J D -> B G H I J"
    let dotProd = matmul(q, k.transpose(-2, -1));
    const posBias = this.getRelativePositionalBias();
    dotProd = F.softmax(dotProd.add(posBias), -1);
    // einsum "B G H I J, B G H J D -> B G H I D"
    let out = matmul(dotProd, v);
    out = out.permute(0, 1, 3, 2, 4).reshape(B, G, P, D);
    return this.merge.call(out);
  }
}

/** Swaps two dims (torchvision: `SwapAxes`; PyTorch: `torch.swapaxes`). */
export class SwapAxes extends nn.Module {
  a: number;
  b: number;

  constructor(a: number, b: number) {
    super();
    this.a = a;
    this.b = b;
  }

  override forward(x: Tensor): Tensor {
    return x.transpose(this.a, this.b);
  }
}

/** `[B, C, H, W]` → `[B, (H/P)·(W/P), P·P, C]`: non-overlapping P x P windows (torchvision: `WindowPartition`). */
export class WindowPartition extends nn.Module {
  override forward(x: Tensor, p: number): Tensor {
    const [B, C, H, W] = x.shape;
    const P = p;
    // chunk up H and W dimensions
    x = x.reshape(B, C, Math.floor(H / P), P, Math.floor(W / P), P);
    x = x.permute(0, 2, 4, 3, 5, 1);
    // colapse partitions into a single dimension
    return x.reshape(B, Math.floor(H / P) * Math.floor(W / P), P * P, C);
  }
}

/** `[B, HP·WP, P·P, C]` → `[B, C, HP·P, WP·P]` (torchvision: `WindowDepartition`). */
export class WindowDepartition extends nn.Module {
  override forward(x: Tensor, p: number, hPartitions: number, wPartitions: number): Tensor {
    const [B, , , C] = x.shape;
    const P = p;
    const HP = hPartitions;
    const WP = wPartitions;
    // split P * P dimension into 2 P tile dimensionsa
    x = x.reshape(B, HP, WP, P, P, C);
    // permute into B, C, HP, P, WP, P
    x = x.permute(0, 5, 1, 3, 2, 4);
    // reshape into B, C, H, W
    return x.reshape(B, C, HP * P, WP * P);
  }
}

/**
 * Window ("block") or grid attention over partitions, then an MLP, each residual with stochastic
 * depth (torchvision: `PartitionAttentionLayer`).
 */
export class PartitionAttentionLayer extends nn.Module {
  nHeads: number;
  headDim: number;
  nPartitions: number;
  partitionType: "grid" | "window";
  gridSize: [number, number];
  p: number;
  g: number;
  declare partition_op: WindowPartition;
  declare departition_op: WindowDepartition;
  declare partition_swap: nn.Module;
  declare departition_swap: nn.Module;
  declare attn_layer: nn.Sequential;
  declare mlp_layer: nn.Sequential;
  declare stochastic_dropout: StochasticDepth;

  constructor(
    inChannels: number,
    headDim: number,
    // partitioning parameters
    partitionSize: number,
    partitionType: string,
    // grid size needs to be known at initialization time
    // because we need to know hamy relative offsets there are in the grid
    gridSize: [number, number],
    mlpRatio: number,
    activationLayer: LayerFactory,
    normLayer: LayerFactory,
    attentionDropout: number,
    mlpDropout: number,
    pStochasticDropout: number,
  ) {
    super();
    this.nHeads = Math.floor(inChannels / headDim);
    this.headDim = headDim;
    this.nPartitions = Math.floor(gridSize[0] / partitionSize);
    this.partitionType = partitionType as "grid" | "window";
    this.gridSize = gridSize;
    if (partitionType !== "grid" && partitionType !== "window") throw new ValueError("partition_type must be either 'grid' or 'window'");
    if (partitionType === "window") [this.p, this.g] = [partitionSize, this.nPartitions];
    else [this.p, this.g] = [this.nPartitions, partitionSize];
    this.partition_op = new WindowPartition();
    this.departition_op = new WindowDepartition();
    this.partition_swap = partitionType === "grid" ? new SwapAxes(-2, -3) : new nn.Identity();
    this.departition_swap = partitionType === "grid" ? new SwapAxes(-2, -3) : new nn.Identity();
    this.attn_layer = new nn.Sequential(
      makeLayer(normLayer, inChannels),
      // it's always going to be partition_size ** 2 because
      // of the axis swap in the case of grid partitioning
      new RelativePositionalMultiHeadAttention(inChannels, headDim, partitionSize ** 2),
      new nn.Dropout(attentionDropout),
    );
    // pre-normalization similar to transformer layers
    this.mlp_layer = new nn.Sequential(
      new nn.LayerNorm(inChannels),
      new nn.Linear(inChannels, inChannels * mlpRatio),
      makeLayer(activationLayer),
      new nn.Linear(inChannels * mlpRatio, inChannels),
      new nn.Dropout(mlpDropout),
    );
    // layer scale factors
    this.stochastic_dropout = new StochasticDepth(pStochasticDropout, "row");
  }

  /** `[B, C, H, W]` → `[B, C, H, W]`. */
  override forward(x: Tensor): Tensor {
    // Undefined behavior if H or W are not divisible by p
    // https://github.com/google-research/maxvit/blob/da76cf0d8a6ec668cc31b399c4126186da7da944/maxvit/models/maxvit.py#L766
    const gh = Math.floor(this.gridSize[0] / this.p);
    const gw = Math.floor(this.gridSize[1] / this.p);
    if (this.gridSize[0] % this.p !== 0 || this.gridSize[1] % this.p !== 0) {
      throw new AssertionError(
        `Grid size must be divisible by partition size. Got grid size of ${nn.pyRepr(this.gridSize)} and partition size of ${this.p}`,
      );
    }
    x = this.partition_op.call(x, this.p);
    x = this.partition_swap.call(x);
    x = x.add(this.stochastic_dropout.call(this.attn_layer.call(x)));
    x = x.add(this.stochastic_dropout.call(this.mlp_layer.call(x)));
    x = this.departition_swap.call(x);
    return this.departition_op.call(x, this.p, gh, gw);
  }
}

/** Options of `MaxVitLayer` / `MaxVitBlock` (torchvision's keyword arguments in camelCase). */
interface MaxVitLayerArgs {
  inChannels: number;
  outChannels: number;
  squeezeRatio: number;
  expansionRatio: number;
  normLayer: LayerFactory;
  activationLayer: LayerFactory;
  headDim: number;
  mlpRatio: number;
  mlpDropout: number;
  attentionDropout: number;
  partitionSize: number;
}

/** MBConv, then window attention, then grid attention (torchvision: `MaxVitLayer`). */
export class MaxVitLayer extends nn.Module {
  declare layers: nn.Sequential;

  constructor(a: MaxVitLayerArgs & { stride: number; pStochasticDropout: number; gridSize: [number, number] }) {
    super();
    const layers = new Map<string, nn.Module>();
    // convolutional layer
    layers.set(
      "MBconv",
      new MBConv(a.inChannels, a.outChannels, a.expansionRatio, a.squeezeRatio, a.stride, a.activationLayer, a.normLayer, a.pStochasticDropout),
    );
    // attention layers, block -> grid
    for (const type of ["window", "grid"]) {
      layers.set(
        `${type}_attention`,
        new PartitionAttentionLayer(
          a.outChannels, a.headDim, a.partitionSize, type, a.gridSize, a.mlpRatio, a.activationLayer, nn.LayerNorm,
          a.attentionDropout, a.mlpDropout, a.pStochasticDropout,
        ),
      );
    }
    this.layers = new nn.Sequential(layers);
  }

  override forward(x: Tensor): Tensor {
    return this.layers.call(x);
  }
}

/** `nLayers` MaxViT layers, the first with stride 2 (torchvision: `MaxVitBlock`). */
export class MaxVitBlock extends nn.Module {
  declare layers: nn.ModuleList;
  gridSize: [number, number];

  constructor(a: MaxVitLayerArgs & { inputGridSize: [number, number]; nLayers: number; pStochastic: number[] }) {
    super();
    if (a.pStochastic.length !== a.nLayers) {
      throw new ValueError(`p_stochastic must have length n_layers=${a.nLayers}, got p_stochastic=${nn.pyRepr(a.pStochastic)}.`);
    }
    this.layers = new nn.ModuleList();
    // account for the first stride of the first layer
    this.gridSize = getConvOutputShape(a.inputGridSize, 3, 2, 1);
    a.pStochastic.forEach((p, idx) => {
      const stride = idx === 0 ? 2 : 1;
      this.layers.append(
        new MaxVitLayer({ ...a, inChannels: idx === 0 ? a.inChannels : a.outChannels, stride, gridSize: this.gridSize, pStochasticDropout: p }),
      );
    });
  }

  override forward(x: Tensor): Tensor {
    for (const layer of this.layers) x = layer.call(x);
    return x;
  }
}

/** Options of `MaxVit` after its seven positional arguments (torchvision's keyword arguments). */
export interface MaxVitOptions {
  /** Default `partial(nn.BatchNorm2d, eps=1e-3, momentum=0.99)`. */
  normLayer?: LayerFactory | null;
  activationLayer?: LayerFactory;
  squeezeRatio?: number;
  expansionRatio?: number;
  mlpRatio?: number;
  mlpDropout?: number;
  attentionDropout?: number;
  numClasses?: number;
}

/** numpy's `linspace(start, stop, num).tolist()`: `i·step + start`, the last value exactly `stop`. */
function linspace(start: number, stop: number, num: number): number[] {
  const step = (stop - start) / (num - 1);
  const out = Array.from({ length: num }, (_, i) => i * step + start);
  if (num > 1) out[num - 1] = stop;
  return out;
}

/**
 * MaxViT (torchvision: `MaxVit`, https://arxiv.org/abs/2204.01697): a convolutional stem, blocks
 * of MBConv + window attention + grid attention, then pool, LayerNorm, Linear, Tanh, Linear.
 */
export class MaxVit extends nn.Module {
  declare stem: nn.Sequential;
  partitionSize: number;
  declare blocks: nn.ModuleList;
  declare classifier: nn.Sequential;

  constructor(
    inputSize: [number, number],
    stemChannels: number,
    partitionSize: number,
    blockChannels: number[],
    blockLayers: number[],
    headDim: number,
    stochasticDepthProb: number,
    opts: MaxVitOptions = {},
  ) {
    super();
    const {
      activationLayer = nn.GELU, squeezeRatio = 0.25, expansionRatio = 4, mlpRatio = 4, mlpDropout = 0.0, attentionDropout = 0.0, numClasses = 1000,
    } = opts;
    const inputChannels = 3;
    // https://github.com/google-research/maxvit/blob/da76cf0d8a6ec668cc31b399c4126186da7da944/maxvit/models/maxvit.py#L1029-L1030
    // for the exact parameters used in batchnorm
    const normLayer: LayerFactory = opts.normLayer ?? ((c: number) => new nn.BatchNorm2d(c, { eps: 1e-3, momentum: 0.99 }));

    // Make sure input size will be divisible by the partition size in all blocks
    // Undefined behavior if H or W are not divisible by p
    const blockInputSizes = makeBlockInputShapes(inputSize, blockChannels.length);
    blockInputSizes.forEach((s, idx) => {
      if (s[0] % partitionSize !== 0 || s[1] % partitionSize !== 0) {
        throw new ValueError(
          `Input size ${nn.pyRepr(s)} of block ${idx} is not divisible by partition size ${partitionSize}. ` +
            "Consider changing the partition size or the input size.\n" +
            `Current configuration yields the following block input sizes: [${blockInputSizes.map((b) => nn.pyRepr(b)).join(", ")}].`,
        );
      }
    });

    // stem
    this.stem = new nn.Sequential(
      new Conv2dNormActivation(inputChannels, stemChannels, { kernelSize: 3, stride: 2, normLayer, activationLayer, bias: false, inplace: null }),
      new Conv2dNormActivation(stemChannels, stemChannels, { kernelSize: 3, stride: 1, normLayer: null, activationLayer: null, bias: true }),
    );

    // account for stem stride
    let size = getConvOutputShape(inputSize, 3, 2, 1);
    this.partitionSize = partitionSize;

    // blocks
    this.blocks = new nn.ModuleList();
    const inChannels = [stemChannels, ...blockChannels.slice(0, -1)];
    const outChannels = blockChannels;

    // precompute the stochastich depth probabilities from 0 to stochastic_depth_prob
    // since we have N blocks with L layers, we will have N * L probabilities uniformly distributed
    // over the range [0, stochastic_depth_prob]
    const pStochastic = linspace(0, stochasticDepthProb, blockLayers.reduce((a, b) => a + b, 0));

    let pIdx = 0;
    for (let i = 0; i < blockChannels.length; i++) {
      const block = new MaxVitBlock({
        inChannels: inChannels[i], outChannels: outChannels[i], squeezeRatio, expansionRatio, normLayer, activationLayer, headDim, mlpRatio,
        mlpDropout, attentionDropout, partitionSize, inputGridSize: size, nLayers: blockLayers[i], pStochastic: pStochastic.slice(pIdx, pIdx + blockLayers[i]),
      });
      this.blocks.append(block);
      size = block.gridSize;
      pIdx += blockLayers[i];
    }

    // see https://github.com/google-research/maxvit/blob/da76cf0d8a6ec668cc31b399c4126186da7da944/maxvit/models/maxvit.py#L1137-L1158
    // for why there is Linear -> Tanh -> Linear
    const last = blockChannels[blockChannels.length - 1];
    this.classifier = new nn.Sequential(
      new nn.AdaptiveAvgPool2d(1),
      new nn.Flatten(),
      new nn.LayerNorm(last),
      new nn.Linear(last, last),
      new nn.Tanh(),
      new nn.Linear(last, numClasses, { bias: false }),
    );

    this._initWeights();
  }

  override forward(x: Tensor): Tensor {
    x = this.stem.call(x);
    for (const block of this.blocks) x = block.call(x);
    return this.classifier.call(x);
  }

  /** Convs and Linears N(0, 0.02²) with zero biases, BatchNorm 1/0 (torchvision: `_init_weights`). */
  _initWeights(): void {
    for (const m of this.modules()) {
      if (m instanceof nn.Conv2d || m instanceof nn.Linear) {
        nn.init.normal_(m.weight, 0, 0.02);
        if (m.bias) nn.init.zeros_(m.bias);
      } else if (m instanceof nn.BatchNorm2d) {
        nn.init.constant_(m.weight!, 1);
        nn.init.constant_(m.bias!, 0);
      }
    }
  }
}

/** Builder options: `MaxVit`'s keyword arguments plus `inputSize` (default `[224, 224]`). */
export interface MaxVitBuilderOptions extends MaxVitOptions {
  inputSize?: [number, number];
}

/** MaxViT-T: stem 64, blocks (64, 128, 256, 512) x (2, 2, 5, 2), head dim 32, partition 7 (torchvision: `maxvit_t`). */
export function maxvit_t(opts: MaxVitBuilderOptions = {}): MaxVit {
  const { inputSize = [224, 224], ...rest } = opts;
  return new MaxVit(inputSize, 64, 7, [64, 128, 256, 512], [2, 2, 5, 2], 32, 0.2, rest);
}
