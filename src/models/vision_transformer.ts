/**
 * Vision Transformer (PyTorch: `torchvision/models/vision_transformer.py`, torchvision 0.14):
 * `VisionTransformer`, `Encoder`, `EncoderBlock`, `MLPBlock`, and the builders `vit_b_16`,
 * `vit_b_32`, `vit_l_16`, `vit_l_32`, `vit_h_14` with torchvision's children, keys and init.
 */
import { AssertionError } from "../errors.js";
import * as nn from "../nn/index.js";
import { Conv2dNormActivation, MLP, type LayerFactory, makeLayer } from "../ops/index.js";
import * as torch from "../tensor/index.js";
import { formatSize, Tensor, zeros } from "../tensor/index.js";
import { truncNormal_, xavierUniform_ } from "../nn/init.js";

/** torchvision's default norm layer here: `partial(nn.LayerNorm, eps=1e-6)`. */
const layerNorm1e6: LayerFactory = (d: number) => new nn.LayerNorm(d, { eps: 1e-6 });

/** One convolution of a convolutional stem (torchvision: `ConvStemConfig`). */
export interface ConvStemConfig {
  outChannels: number;
  kernelSize: number;
  stride: number;
  /** Default `nn.BatchNorm2d`. */
  normLayer?: LayerFactory;
  /** Default `nn.ReLU`. */
  activationLayer?: LayerFactory;
}

/**
 * The transformer's MLP: Linear → GELU → Dropout → Linear → Dropout, xavier-uniform weights and
 * N(0, 1e-6) biases (torchvision: `MLPBlock`, state-dict version 2: children `0`…`4`).
 */
export class MLPBlock extends MLP {
  static override _version = 2;

  constructor(inDim: number, mlpDim: number, dropout: number) {
    super(inDim, [mlpDim, inDim], { activationLayer: nn.GELU, inplace: null, dropout });
    for (const m of this.modules()) {
      if (m instanceof nn.Linear) {
        xavierUniform_(m.weight);
        if (m.bias) nn.init.normal_(m.bias, 0, 1e-6);
      }
    }
  }

  /** Version-1 checkpoints name the linears `linear_1`/`linear_2`: renamed to `0`/`3` on load, as torchvision. */
  override _loadFromStateDict(
    sd: nn.StateDict,
    prefix: string,
    localMetadata: { version?: number },
    missingKeys: string[],
    unexpectedKeys: string[],
    errors: string[],
  ): void {
    const version = localMetadata.version;
    if (version === undefined || version < 2) {
      for (let i = 0; i < 2; i++) {
        for (const type of ["weight", "bias"]) {
          const oldKey = `${prefix}linear_${i + 1}.${type}`;
          if (sd.has(oldKey)) {
            sd.set(`${prefix}${3 * i}.${type}`, sd.get(oldKey)!);
            sd.delete(oldKey);
          }
        }
      }
    }
    super._loadFromStateDict(sd, prefix, localMetadata, missingKeys, unexpectedKeys, errors);
  }
}

/** Pre-norm self-attention and MLP, each with a residual (torchvision: `EncoderBlock`). */
export class EncoderBlock extends nn.Module {
  numHeads: number;
  declare ln_1: nn.Module;
  declare self_attention: nn.MultiheadAttention;
  declare dropout: nn.Module;
  declare ln_2: nn.Module;
  declare mlp: MLPBlock;

  constructor(numHeads: number, hiddenDim: number, mlpDim: number, dropout: number, attentionDropout: number, normLayer: LayerFactory = layerNorm1e6) {
    super();
    this.numHeads = numHeads;
    this.ln_1 = makeLayer(normLayer, hiddenDim);
    this.self_attention = new nn.MultiheadAttention(hiddenDim, numHeads, { dropout: attentionDropout, batchFirst: true });
    this.dropout = new nn.Dropout(dropout);
    this.ln_2 = makeLayer(normLayer, hiddenDim);
    this.mlp = new MLPBlock(hiddenDim, mlpDim, dropout);
  }

  override forward(input: Tensor): Tensor {
    if (input.dim() !== 3) throw new AssertionError(`Expected (batch_size, seq_length, hidden_dim) got ${formatSize(input.shape)}`);
    let x = this.ln_1.call(input);
    [x] = this.self_attention.call(x, x, x, { needWeights: false });
    x = this.dropout.call(x);
    x = x.add(input);
    let y = this.ln_2.call(x);
    y = this.mlp.call(y);
    return x.add(y);
  }
}

/** Position embedding, dropout, `numLayers` encoder blocks, final norm (torchvision: `Encoder`). */
export class Encoder extends nn.Module {
  declare pos_embedding: nn.Parameter;
  declare dropout: nn.Dropout;
  declare layers: nn.Sequential;
  declare ln: nn.Module;

  constructor(
    seqLength: number,
    numLayers: number,
    numHeads: number,
    hiddenDim: number,
    mlpDim: number,
    dropout: number,
    attentionDropout: number,
    normLayer: LayerFactory = layerNorm1e6,
  ) {
    super();
    this.pos_embedding = new nn.Parameter(nn.init.normal_(zeros(1, seqLength, hiddenDim), 0, 0.02)); // from BERT
    this.dropout = new nn.Dropout(dropout);
    const layers = new Map<string, nn.Module>();
    for (let i = 0; i < numLayers; i++) {
      layers.set(`encoder_layer_${i}`, new EncoderBlock(numHeads, hiddenDim, mlpDim, dropout, attentionDropout, normLayer));
    }
    this.layers = new nn.Sequential(layers);
    this.ln = makeLayer(normLayer, hiddenDim);
  }

  override forward(input: Tensor): Tensor {
    if (input.dim() !== 3) throw new AssertionError(`Expected (batch_size, seq_length, hidden_dim) got ${formatSize(input.shape)}`);
    input = input.add(this.pos_embedding);
    return this.ln.call(this.layers.call(this.dropout.call(input)));
  }
}

/** Options of `VisionTransformer` after its six positional arguments (torchvision's keyword arguments). */
export interface VisionTransformerOptions {
  dropout?: number;
  attentionDropout?: number;
  numClasses?: number;
  representationSize?: number | null;
  normLayer?: LayerFactory;
  convStemConfigs?: ConvStemConfig[] | null;
}

/**
 * Vision Transformer (torchvision: `VisionTransformer`, https://arxiv.org/abs/2010.11929): patches by
 * a strided convolution, a class token, a transformer encoder, a linear head on the class token.
 */
export class VisionTransformer extends nn.Module {
  imageSize: number;
  patchSize: number;
  hiddenDim: number;
  mlpDim: number;
  attentionDropout: number;
  dropout: number;
  numClasses: number;
  representationSize: number | null;
  normLayer: LayerFactory;
  declare conv_proj: nn.Module;
  declare class_token: nn.Parameter;
  declare encoder: Encoder;
  seqLength: number;
  declare heads: nn.Sequential;

  constructor(
    imageSize: number,
    patchSize: number,
    numLayers: number,
    numHeads: number,
    hiddenDim: number,
    mlpDim: number,
    opts: VisionTransformerOptions = {},
  ) {
    super();
    const { dropout = 0.0, attentionDropout = 0.0, numClasses = 1000, representationSize = null, normLayer = layerNorm1e6, convStemConfigs = null } = opts;
    if (imageSize % patchSize !== 0) throw new AssertionError("Input shape indivisible by patch size!");
    this.imageSize = imageSize;
    this.patchSize = patchSize;
    this.hiddenDim = hiddenDim;
    this.mlpDim = mlpDim;
    this.attentionDropout = attentionDropout;
    this.dropout = dropout;
    this.numClasses = numClasses;
    this.representationSize = representationSize;
    this.normLayer = normLayer;

    if (convStemConfigs !== null) {
      // As per https://arxiv.org/abs/2106.14881
      const seqProj = new nn.Sequential();
      let prevChannels = 3;
      convStemConfigs.forEach((c, i) => {
        seqProj.addModule(
          `conv_bn_relu_${i}`,
          new Conv2dNormActivation(prevChannels, c.outChannels, {
            kernelSize: c.kernelSize,
            stride: c.stride,
            normLayer: c.normLayer ?? nn.BatchNorm2d,
            activationLayer: c.activationLayer ?? nn.ReLU,
          }),
        );
        prevChannels = c.outChannels;
      });
      seqProj.addModule("conv_last", new nn.Conv2d(prevChannels, hiddenDim, 1));
      this.conv_proj = seqProj;
    } else {
      this.conv_proj = new nn.Conv2d(3, hiddenDim, patchSize, { stride: patchSize });
    }

    let seqLength = (imageSize / patchSize) ** 2;
    // Add a class token
    this.class_token = new nn.Parameter(zeros(1, 1, hiddenDim));
    seqLength += 1;
    this.encoder = new Encoder(seqLength, numLayers, numHeads, hiddenDim, mlpDim, dropout, attentionDropout, normLayer);
    this.seqLength = seqLength;

    const headsLayers = new Map<string, nn.Module>();
    if (representationSize === null) headsLayers.set("head", new nn.Linear(hiddenDim, numClasses));
    else {
      headsLayers.set("pre_logits", new nn.Linear(hiddenDim, representationSize));
      headsLayers.set("act", new nn.Tanh());
      headsLayers.set("head", new nn.Linear(representationSize, numClasses));
    }
    this.heads = new nn.Sequential(headsLayers);

    if (this.conv_proj instanceof nn.Conv2d) {
      // Init the patchify stem
      const c = this.conv_proj;
      const fanIn = c.weight.shape[1] * c.weight.shape[2] * c.weight.shape[3];
      truncNormal_(c.weight, 0, Math.sqrt(1 / fanIn));
      if (c.bias) nn.init.zeros_(c.bias);
    } else {
      const last = (this.conv_proj as nn.Sequential)._modules.get("conv_last");
      if (last instanceof nn.Conv2d) {
        // Init the last 1x1 conv of the conv stem
        nn.init.normal_(last.weight, 0, Math.sqrt(2 / last.weight.shape[0]));
        if (last.bias) nn.init.zeros_(last.bias);
      }
    }
    const preLogits = this.heads._modules.get("pre_logits");
    if (preLogits instanceof nn.Linear) {
      truncNormal_(preLogits.weight, 0, Math.sqrt(1 / preLogits.inFeatures));
      nn.init.zeros_(preLogits.bias!);
    }
    const head = this.heads._modules.get("head");
    if (head instanceof nn.Linear) {
      nn.init.zeros_(head.weight);
      nn.init.zeros_(head.bias!);
    }
  }

  /** Patchify: `[n, 3, h, w]` → `[n, (h/p)·(w/p), hiddenDim]` (torchvision: `_process_input`). */
  _processInput(x: Tensor): Tensor {
    const [n, , h, w] = x.shape;
    const p = this.patchSize;
    if (h !== this.imageSize) throw new AssertionError(`Wrong image height! Expected ${this.imageSize} but got ${h}!`);
    if (w !== this.imageSize) throw new AssertionError(`Wrong image width! Expected ${this.imageSize} but got ${w}!`);
    const nH = Math.floor(h / p);
    const nW = Math.floor(w / p);
    // (n, c, h, w) -> (n, hidden_dim, n_h, n_w) -> (n, hidden_dim, (n_h * n_w)) -> (n, (n_h * n_w), hidden_dim)
    x = this.conv_proj.call(x);
    x = x.reshape(n, this.hiddenDim, nH * nW);
    return x.permute(0, 2, 1);
  }

  override forward(x: Tensor): Tensor {
    x = this._processInput(x);
    const n = x.shape[0];
    // Expand the class token to the full batch
    const batchClassToken = this.class_token.expand(n, -1, -1);
    x = torch.cat([batchClassToken, x], 1);
    x = this.encoder.call(x);
    // Classifier "token" as used by standard language architectures
    x = x.get(":", 0);
    return this.heads.call(x);
  }
}

/** Builder options: `VisionTransformer`'s keyword arguments plus `imageSize` (default 224). */
export interface ViTBuilderOptions extends VisionTransformerOptions {
  imageSize?: number;
}

function visionTransformer(patchSize: number, numLayers: number, numHeads: number, hiddenDim: number, mlpDim: number, opts: ViTBuilderOptions): VisionTransformer {
  const { imageSize = 224, ...rest } = opts;
  return new VisionTransformer(imageSize, patchSize, numLayers, numHeads, hiddenDim, mlpDim, rest);
}

/** ViT-B/16: 12 layers, 12 heads, width 768, MLP 3072 (torchvision: `vit_b_16`). */
export function vit_b_16(opts: ViTBuilderOptions = {}): VisionTransformer {
  return visionTransformer(16, 12, 12, 768, 3072, opts);
}

/** ViT-B/32 (torchvision: `vit_b_32`). */
export function vit_b_32(opts: ViTBuilderOptions = {}): VisionTransformer {
  return visionTransformer(32, 12, 12, 768, 3072, opts);
}

/** ViT-L/16: 24 layers, 16 heads, width 1024, MLP 4096 (torchvision: `vit_l_16`). */
export function vit_l_16(opts: ViTBuilderOptions = {}): VisionTransformer {
  return visionTransformer(16, 24, 16, 1024, 4096, opts);
}

/** ViT-L/32 (torchvision: `vit_l_32`). */
export function vit_l_32(opts: ViTBuilderOptions = {}): VisionTransformer {
  return visionTransformer(32, 24, 16, 1024, 4096, opts);
}

/** ViT-H/14: 32 layers, 16 heads, width 1280, MLP 5120 (torchvision: `vit_h_14`). */
export function vit_h_14(opts: ViTBuilderOptions = {}): VisionTransformer {
  return visionTransformer(14, 32, 16, 1280, 5120, opts);
}
