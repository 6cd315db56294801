/**
 * Images for inference: decode PNG (`pngjs`, pure JS) and JPEG (`@cwasm/jpeg-turbo`: libjpeg-turbo
 * compiled to WebAssembly, the library PIL uses, so decoded pixels match PIL's) to 8-bit pixels, and
 * torchvision's preprocessing on them — `Resize` (PIL's antialiased bilinear resampling, with
 * its 8-bit intermediate), `CenterCrop`, `Pad`, `ToTensor`, `Normalize`.
 */
import { createRequire } from "node:module";
import { PNG } from "pngjs";
import { TsnnError } from "../errors.js";
import { Tensor } from "../tensor/index.js";

const require = createRequire(import.meta.url);
let jpegTurbo: { decode(b: Uint8Array): { width: number; height: number; data: Uint8ClampedArray } } | null = null;

/** An 8-bit image, `channels` interleaved (1 = grey "L", 3 = "RGB"), row-major. */
export interface Image8 {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

/** An image file tsnn cannot decode. */
export class ImageError extends TsnnError {
  override name = "ImageError";
}

/**
 * Decode PNG or JPEG bytes (by magic number). Grey PNGs stay 1-channel ("L"); everything else
 * becomes RGB, dropping alpha as PIL's `convert("RGB")` does.
 */
export function decodeImage(bytes: Uint8Array, what = "<image>"): Image8 {
  const isPng = bytes.length > 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  try {
    if (isPng) {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      const grey = (png as unknown as { colorType?: number }).colorType === 0 || (png as unknown as { colorType?: number }).colorType === 4;
      return fromRgba(png.data, png.width, png.height, grey);
    }
    if (isJpeg) {
      jpegTurbo ??= require("@cwasm/jpeg-turbo");
      const img = jpegTurbo!.decode(bytes);
      return fromRgba(new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength), img.width, img.height, false);
    }
  } catch (e) {
    throw new ImageError(`${what}: cannot decode ${isPng ? "PNG" : "JPEG"}: ${(e as Error).message}`);
  }
  throw new ImageError(`${what}: unsupported image format (tsnn reads PNG and JPEG)`);
}

function fromRgba(rgba: Uint8Array, width: number, height: number, grey: boolean): Image8 {
  const n = width * height;
  const c = grey ? 1 : 3;
  const data = new Uint8Array(n * c);
  for (let i = 0; i < n; i++) {
    if (grey) data[i] = rgba[4 * i];
    else {
      data[3 * i] = rgba[4 * i];
      data[3 * i + 1] = rgba[4 * i + 1];
      data[3 * i + 2] = rgba[4 * i + 2];
    }
  }
  return { width, height, channels: c, data };
}

/** PIL's `convert("RGB")` / `convert("L")` (ITU-R 601-2 luma: 299/587/114 per mille). */
export function convert(img: Image8, channels: 1 | 3): Image8 {
  if (img.channels === channels) return img;
  const n = img.width * img.height;
  const data = new Uint8Array(n * channels);
  if (channels === 3) {
    for (let i = 0; i < n; i++) data[3 * i] = data[3 * i + 1] = data[3 * i + 2] = img.data[i];
  } else {
    for (let i = 0; i < n; i++) {
      const r = img.data[3 * i], g = img.data[3 * i + 1], b = img.data[3 * i + 2];
      data[i] = Math.floor((r * 19595 + g * 38470 + b * 7471 + 0x8000) / 65536);
    }
  }
  return { width: img.width, height: img.height, channels, data };
}

/**
 * One separable pass of PIL's resampling with the bilinear (triangle) filter: antialiased when
 * shrinking (support grows with the scale), rounding back to 8 bits as PIL does.
 */
function resamplePass(src: Uint8Array, inW: number, inH: number, c: number, outLen: number, horizontal: boolean): Uint8Array {
  const inLen = horizontal ? inW : inH;
  const scale = inLen / outLen;
  const filterScale = Math.max(scale, 1);
  const support = 1 * filterScale;
  const bounds = new Int32Array(outLen * 2);
  const kSize = Math.ceil(support) * 2 + 1;
  const weights = new Float64Array(outLen * kSize);
  for (let x = 0; x < outLen; x++) {
    const center = (x + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inLen) xmax = inLen;
    xmax -= xmin;
    let total = 0;
    for (let j = 0; j < xmax; j++) {
      const t = Math.abs((j + xmin - center + 0.5) / filterScale);
      const w = t < 1 ? 1 - t : 0;
      weights[x * kSize + j] = w;
      total += w;
    }
    for (let j = 0; j < xmax; j++) weights[x * kSize + j] = total ? weights[x * kSize + j] / total : 0;
    bounds[2 * x] = xmin;
    bounds[2 * x + 1] = xmax;
  }
  const outW = horizontal ? outLen : inW;
  const outH = horizontal ? inH : outLen;
  const out = new Uint8Array(outW * outH * c);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const o = horizontal ? x : y;
      const xmin = bounds[2 * o];
      const len = bounds[2 * o + 1];
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let j = 0; j < len; j++) {
          const idx = horizontal ? (y * inW + xmin + j) * c + ch : ((xmin + j) * inW + x) * c + ch;
          s += src[idx] * weights[o * kSize + j];
        }
        const v = Math.floor(s + 0.5);
        out[(y * outW + x) * c + ch] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
  return out;
}

/** Resize to `width` x `height` with PIL's antialiased bilinear filter (horizontal pass first). */
export function resizeBilinear(img: Image8, width: number, height: number): Image8 {
  let { data } = img;
  let w = img.width;
  if (width !== img.width) {
    data = resamplePass(data, img.width, img.height, img.channels, width, true);
    w = width;
  }
  if (height !== img.height) data = resamplePass(data, w, img.height, img.channels, height, false);
  return { width, height, channels: img.channels, data };
}

/**
 * torchvision's `Resize(size)` with an int: the shorter side becomes `size`, the longer
 * `int(size * long / short)`.
 */
export function resizeShorter(img: Image8, size: number): Image8 {
  const { width: w, height: h } = img;
  if ((w <= h && w === size) || (h <= w && h === size)) return img;
  if (w < h) return resizeBilinear(img, size, Math.trunc((size * h) / w));
  return resizeBilinear(img, Math.trunc((size * w) / h), size);
}

/** Python's round(): halves to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** torchvision's `CenterCrop(size)` (offsets `round((H - size) / 2)`, Python rounding). */
export function centerCrop(img: Image8, size: number): Image8 {
  if (img.width < size || img.height < size) {
    throw new ImageError(`center crop of ${size}x${size} from a ${img.width}x${img.height} image`);
  }
  const top = roundHalfEven((img.height - size) / 2);
  const left = roundHalfEven((img.width - size) / 2);
  const c = img.channels;
  const data = new Uint8Array(size * size * c);
  for (let y = 0; y < size; y++) {
    data.set(img.data.subarray(((top + y) * img.width + left) * c, ((top + y) * img.width + left + size) * c), y * size * c);
  }
  return { width: size, height: size, channels: img.channels, data };
}

/** `ToTensor` + `Normalize(mean, std)` (per channel), optional zero `pad` on every side first. */
export function toTensor(img: Image8, mean: number[], std: number[], pad = 0, repeatTo: number = img.channels): Tensor {
  const c = img.channels;
  const W = img.width + 2 * pad;
  const H = img.height + 2 * pad;
  const out = new Float32Array(repeatTo * H * W);
  for (let ch = 0; ch < repeatTo; ch++) {
    const sc = ch % c;
    const m = mean[ch % mean.length];
    const s = std[ch % std.length];
    const plane = ch * H * W;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const iy = y - pad;
        const ix = x - pad;
        const v = iy >= 0 && iy < img.height && ix >= 0 && ix < img.width ? img.data[(iy * img.width + ix) * c + sc] / 255 : 0;
        out[plane + y * W + x] = (v - m) / s;
      }
    }
  }
  return new Tensor(out, [repeatTo, H, W]);
}

/** ImageNet statistics used by torchvision's pretrained models. */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
export const IMAGENET_STD = [0.229, 0.224, 0.225];
/** CIFAR-10 statistics, the usual `Normalize` for 32x32 CIFAR-style models. */
export const CIFAR_MEAN = [0.4914, 0.4822, 0.4465];
export const CIFAR_STD = [0.247, 0.2435, 0.2616];

/** A preprocessing recipe. `fashion`-style recipes come from a weights file's metadata. */
export type Transform =
  | { kind: "imagenet" }
  | { kind: "cifar" }
  | { kind: "none" }
  | { kind: "custom"; grayscale: boolean; pad: number; channels: number; mean: number[]; std: number[]; size?: number };

/** Apply a recipe to a decoded image, giving a `[C, H, W]` float tensor. */
export function preprocess(img: Image8, t: Transform): Tensor {
  switch (t.kind) {
    case "imagenet":
      return toTensor(centerCrop(resizeShorter(convert(img, 3), 256), 224), IMAGENET_MEAN, IMAGENET_STD);
    case "cifar": {
      const rgb = convert(img, 3);
      const sized = rgb.width === 32 && rgb.height === 32 ? rgb : resizeBilinear(rgb, 32, 32);
      return toTensor(sized, CIFAR_MEAN, CIFAR_STD);
    }
    case "none":
      return toTensor(convert(img, 3), [0], [1]);
    case "custom": {
      let im = convert(img, t.grayscale ? 1 : 3);
      if (t.size && (im.width !== t.size || im.height !== t.size)) im = resizeBilinear(im, t.size, t.size);
      return toTensor(im, t.mean, t.std, t.pad, t.channels);
    }
  }
}
