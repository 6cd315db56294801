/**
 * The model registry: every builder by its torchvision name, with its family (the torchvision
 * file it comes from, = the tsnn file in `src/models/`) and the evaluation preprocessing that
 * torchvision 0.14's default weights define for it (PyTorch: `torchvision.models.list_models`,
 * `get_model_builder`, `get_model`, and `get_model_weights(name).DEFAULT.transforms()`).
 *
 * Adding a family: import its file below, then add one line per builder to `MODELS`, e.g.
 * `  mobilenet_v2: entry(mobilenetv2.mobilenet_v2, "mobilenetv2", 224, 232),`
 * (crop size, resize size, then `"bicubic"` and mean/std only where torchvision's weights differ
 * from the ImageNet defaults). The table's order does not matter: `listModels()` sorts.
 */
import { ValueError } from "../errors.js";
import type { Module } from "../nn/index.js";
import type { DType, Tensor } from "../tensor/index.js";
import * as alexnet from "./alexnet.js";
import * as densenet from "./densenet.js";
import * as googlenet from "./googlenet.js";
import * as inception from "./inception.js";
import * as resnet from "./resnet.js";
import * as squeezenet from "./squeezenet.js";
import * as vgg from "./vgg.js";
import * as mobilenetv2 from "./mobilenetv2.js";
import * as mobilenetv3 from "./mobilenetv3.js";
import * as mnasnet from "./mnasnet.js";
import * as shufflenetv2 from "./shufflenetv2.js";
import * as efficientnet from "./efficientnet.js";
import * as regnet from "./regnet.js";
import * as convnext from "./convnext.js";
import * as vision_transformer from "./vision_transformer.js";
import * as swin_transformer from "./swin_transformer.js";
import * as maxvit from "./maxvit.js";

/** A builder as the registry holds it: an options object in, a fresh model out. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ModelBuilder = (opts?: any) => Module;

/**
 * torchvision's `ImageClassification` preset (`transforms/_presets.py`) for a builder's default
 * weights: resize the shorter side to `resizeSize` with `interpolation`, center-crop `cropSize`,
 * scale to [0, 1], normalise with `mean`/`std` per channel.
 */
export interface EvalTransforms {
  resizeSize: number;
  cropSize: number;
  interpolation: "bilinear" | "bicubic";
  mean: [number, number, number];
  std: [number, number, number];
}

/** One registry row. */
export interface ModelEntry {
  /** The builder (e.g. `resnet18`). */
  builder: ModelBuilder;
  /** The torchvision module file it comes from (`"resnet"`, `"mobilenetv2"`, ...). */
  family: string;
  /** Evaluation preprocessing of torchvision's default weights. */
  transforms: EvalTransforms;
  /**
   * Key renaming torchvision applies to this family's checkpoints before loading (DenseNet's
   * `norm.1` → `norm1`); the model's own `loadStateDict` applies it too, so this is for code
   * that compares a file's keys with the model's first (the CLI).
   */
  adaptStateDict?: <T extends Map<string, Tensor<DType>>>(stateDict: T) => T;
  /**
   * Builder options torchvision sets when it builds the model for its own pretrained weights
   * (GoogLeNet and Inception v3: `transformInput: true`, since those weights expect inputs scaled
   * to [-1, 1] while the preset normalises with ImageNet's mean/std). Pass them when loading
   * torchvision's checkpoints to get torchvision's predictions.
   */
  weightsOptions?: Record<string, unknown>;
}

/** ImageNet's per-channel mean (torchvision's `ImageClassification` default). */
export const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
/** ImageNet's per-channel standard deviation (torchvision's `ImageClassification` default). */
export const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];

/** A registry row; defaults as torchvision's `ImageClassification` (bilinear, ImageNet mean/std). */
function entry(
  builder: ModelBuilder,
  family: string,
  cropSize: number,
  resizeSize = 256,
  interpolation: "bilinear" | "bicubic" = "bilinear",
  mean: [number, number, number] = IMAGENET_MEAN,
  std: [number, number, number] = IMAGENET_STD,
): ModelEntry {
  return { builder, family, transforms: { resizeSize, cropSize, interpolation, mean, std } };
}

/** Every registered builder: name → entry. One line per builder; append new families at the end. */
export const MODELS: Record<string, ModelEntry> = {
  // resnet.ts
  resnet18: entry(resnet.resnet18, "resnet", 224, 256),
  resnet34: entry(resnet.resnet34, "resnet", 224, 256),
  resnet50: entry(resnet.resnet50, "resnet", 224, 232),
  resnet101: entry(resnet.resnet101, "resnet", 224, 232),
  resnet152: entry(resnet.resnet152, "resnet", 224, 232),
  resnext50_32x4d: entry(resnet.resnext50_32x4d, "resnet", 224, 232),
  resnext101_32x8d: entry(resnet.resnext101_32x8d, "resnet", 224, 232),
  resnext101_64x4d: entry(resnet.resnext101_64x4d, "resnet", 224, 232),
  wide_resnet50_2: entry(resnet.wide_resnet50_2, "resnet", 224, 232),
  wide_resnet101_2: entry(resnet.wide_resnet101_2, "resnet", 224, 232),
  // alexnet.ts
  alexnet: entry(alexnet.alexnet, "alexnet", 224, 256),
  // vgg.ts
  vgg11: entry(vgg.vgg11, "vgg", 224, 256),
  vgg11_bn: entry(vgg.vgg11_bn, "vgg", 224, 256),
  vgg13: entry(vgg.vgg13, "vgg", 224, 256),
  vgg13_bn: entry(vgg.vgg13_bn, "vgg", 224, 256),
  vgg16: entry(vgg.vgg16, "vgg", 224, 256),
  vgg16_bn: entry(vgg.vgg16_bn, "vgg", 224, 256),
  vgg19: entry(vgg.vgg19, "vgg", 224, 256),
  vgg19_bn: entry(vgg.vgg19_bn, "vgg", 224, 256),
  // squeezenet.ts
  squeezenet1_0: entry(squeezenet.squeezenet1_0, "squeezenet", 224, 256),
  squeezenet1_1: entry(squeezenet.squeezenet1_1, "squeezenet", 224, 256),
  // densenet.ts
  densenet121: { ...entry(densenet.densenet121, "densenet", 224, 256), adaptStateDict: densenet.renameLegacyDenseNetKeys },
  densenet161: { ...entry(densenet.densenet161, "densenet", 224, 256), adaptStateDict: densenet.renameLegacyDenseNetKeys },
  densenet169: { ...entry(densenet.densenet169, "densenet", 224, 256), adaptStateDict: densenet.renameLegacyDenseNetKeys },
  densenet201: { ...entry(densenet.densenet201, "densenet", 224, 256), adaptStateDict: densenet.renameLegacyDenseNetKeys },
  // googlenet.ts
  googlenet: { ...entry(googlenet.googlenet, "googlenet", 224, 256), weightsOptions: { transformInput: true } },
  // inception.ts
  inception_v3: { ...entry(inception.inception_v3, "inception", 299, 342), weightsOptions: { transformInput: true } },
  // mobilenetv2.ts
  mobilenet_v2: entry(mobilenetv2.mobilenet_v2, "mobilenetv2", 224, 232),
  // mobilenetv3.ts
  mobilenet_v3_large: entry(mobilenetv3.mobilenet_v3_large, "mobilenetv3", 224, 232),
  mobilenet_v3_small: entry(mobilenetv3.mobilenet_v3_small, "mobilenetv3", 224, 256),
  // mnasnet.ts
  mnasnet0_5: entry(mnasnet.mnasnet0_5, "mnasnet", 224, 256),
  mnasnet0_75: entry(mnasnet.mnasnet0_75, "mnasnet", 224, 232),
  mnasnet1_0: entry(mnasnet.mnasnet1_0, "mnasnet", 224, 256),
  mnasnet1_3: entry(mnasnet.mnasnet1_3, "mnasnet", 224, 232),
  // shufflenetv2.ts
  shufflenet_v2_x0_5: entry(shufflenetv2.shufflenet_v2_x0_5, "shufflenetv2", 224, 256),
  shufflenet_v2_x1_0: entry(shufflenetv2.shufflenet_v2_x1_0, "shufflenetv2", 224, 256),
  shufflenet_v2_x1_5: entry(shufflenetv2.shufflenet_v2_x1_5, "shufflenetv2", 224, 232),
  shufflenet_v2_x2_0: entry(shufflenetv2.shufflenet_v2_x2_0, "shufflenetv2", 224, 232),
  // efficientnet.ts
  efficientnet_b0: entry(efficientnet.efficientnet_b0, "efficientnet", 224, 256, "bicubic"),
  efficientnet_b1: entry(efficientnet.efficientnet_b1, "efficientnet", 240, 255),
  efficientnet_b2: entry(efficientnet.efficientnet_b2, "efficientnet", 288, 288, "bicubic"),
  efficientnet_b3: entry(efficientnet.efficientnet_b3, "efficientnet", 300, 320, "bicubic"),
  efficientnet_b4: entry(efficientnet.efficientnet_b4, "efficientnet", 380, 384, "bicubic"),
  efficientnet_b5: entry(efficientnet.efficientnet_b5, "efficientnet", 456, 456, "bicubic"),
  efficientnet_b6: entry(efficientnet.efficientnet_b6, "efficientnet", 528, 528, "bicubic"),
  efficientnet_b7: entry(efficientnet.efficientnet_b7, "efficientnet", 600, 600, "bicubic"),
  efficientnet_v2_s: entry(efficientnet.efficientnet_v2_s, "efficientnet", 384, 384),
  efficientnet_v2_m: entry(efficientnet.efficientnet_v2_m, "efficientnet", 480, 480),
  efficientnet_v2_l: entry(efficientnet.efficientnet_v2_l, "efficientnet", 480, 480, "bicubic", [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]),
  // regnet.ts
  regnet_y_400mf: entry(regnet.regnet_y_400mf, "regnet", 224, 232),
  regnet_y_800mf: entry(regnet.regnet_y_800mf, "regnet", 224, 232),
  regnet_y_1_6gf: entry(regnet.regnet_y_1_6gf, "regnet", 224, 232),
  regnet_y_3_2gf: entry(regnet.regnet_y_3_2gf, "regnet", 224, 232),
  regnet_y_8gf: entry(regnet.regnet_y_8gf, "regnet", 224, 232),
  regnet_y_16gf: entry(regnet.regnet_y_16gf, "regnet", 224, 232),
  regnet_y_32gf: entry(regnet.regnet_y_32gf, "regnet", 224, 232),
  regnet_y_128gf: entry(regnet.regnet_y_128gf, "regnet", 384, 384, "bicubic"),
  regnet_x_400mf: entry(regnet.regnet_x_400mf, "regnet", 224, 232),
  regnet_x_800mf: entry(regnet.regnet_x_800mf, "regnet", 224, 232),
  regnet_x_1_6gf: entry(regnet.regnet_x_1_6gf, "regnet", 224, 232),
  regnet_x_3_2gf: entry(regnet.regnet_x_3_2gf, "regnet", 224, 232),
  regnet_x_8gf: entry(regnet.regnet_x_8gf, "regnet", 224, 232),
  regnet_x_16gf: entry(regnet.regnet_x_16gf, "regnet", 224, 232),
  regnet_x_32gf: entry(regnet.regnet_x_32gf, "regnet", 224, 232),
  // convnext.ts
  convnext_tiny: entry(convnext.convnext_tiny, "convnext", 224, 236),
  convnext_small: entry(convnext.convnext_small, "convnext", 224, 230),
  convnext_base: entry(convnext.convnext_base, "convnext", 224, 232),
  convnext_large: entry(convnext.convnext_large, "convnext", 224, 232),
  // vision_transformer.ts (vit_h_14's default weights are SWAG E2E at 518 px: build it with imageSize 518 for them)
  vit_b_16: entry(vision_transformer.vit_b_16, "vision_transformer", 224, 256),
  vit_b_32: entry(vision_transformer.vit_b_32, "vision_transformer", 224, 256),
  vit_l_16: entry(vision_transformer.vit_l_16, "vision_transformer", 224, 242),
  vit_l_32: entry(vision_transformer.vit_l_32, "vision_transformer", 224, 256),
  vit_h_14: entry(vision_transformer.vit_h_14, "vision_transformer", 518, 518, "bicubic"),
  // swin_transformer.ts
  swin_t: entry(swin_transformer.swin_t, "swin_transformer", 224, 232, "bicubic"),
  swin_s: entry(swin_transformer.swin_s, "swin_transformer", 224, 246, "bicubic"),
  swin_b: entry(swin_transformer.swin_b, "swin_transformer", 224, 238, "bicubic"),
  swin_v2_t: entry(swin_transformer.swin_v2_t, "swin_transformer", 256, 260, "bicubic"),
  swin_v2_s: entry(swin_transformer.swin_v2_s, "swin_transformer", 256, 260, "bicubic"),
  swin_v2_b: entry(swin_transformer.swin_v2_b, "swin_transformer", 256, 272, "bicubic"),
  // maxvit.ts
  maxvit_t: entry(maxvit.maxvit_t, "maxvit", 224, 224, "bicubic"),
};

/** The registered builder names, sorted (PyTorch: `torchvision.models.list_models()`). */
export function listModels(): string[] {
  return Object.keys(MODELS).sort();
}

/** Up to `n` registered names closest to `name` (edit distance; a shared prefix ranks first on ties). */
export function closeModelNames(name: string, n = 5): string[] {
  const scored = listModels().map((m) => ({ m, d: editDistance(name, m) }));
  const limit = Math.max(2, Math.floor(name.length / 3));
  return scored
    .filter(({ m, d }) => d <= limit || m.startsWith(name) || name.startsWith(m))
    .sort((a, b) => a.d - b.d || (a.m < b.m ? -1 : 1))
    .slice(0, n)
    .map(({ m }) => m);
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/**
 * The registry row of `name` (case-insensitive, as torchvision lowers the name). Unknown names
 * throw PyTorch's `ValueError: Unknown model <name>`, followed by the closest registered names.
 */
export function getModelEntry(name: string): ModelEntry {
  const key = name.toLowerCase();
  const e = Object.prototype.hasOwnProperty.call(MODELS, key) ? MODELS[key] : undefined;
  if (e) return e;
  const close = closeModelNames(key);
  const hint = close.length > 0 ? `; did you mean ${close.join(", ")}?` : "; `tsnn list` (listModels()) names them all";
  throw new ValueError(`Unknown model ${key}${hint}`);
}

/** The builder registered as `name` (PyTorch: `torchvision.models.get_model_builder(name)`). */
export function getModelBuilder(name: string): ModelBuilder {
  return getModelEntry(name).builder;
}

/** Build `name` with `opts` (PyTorch: `torchvision.models.get_model(name, **config)`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function getModel(name: string, opts?: any): Module {
  return getModelEntry(name).builder(opts);
}

/** The evaluation preprocessing of `name`'s default torchvision weights. */
export function getModelTransforms(name: string): EvalTransforms {
  return getModelEntry(name).transforms;
}
