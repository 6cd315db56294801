/**
 * Images for inference: decode PNG (our streaming decoder over `fflate`'s inflate, with PIL's
 * mode conversions) and JPEG (libjpeg-turbo compiled to
 * WebAssembly, as `@cwasm/jpeg-turbo` ships it: the library PIL uses, so decoded pixels match
 * PIL's) to 8-bit pixels, after reading the declared size from the header and refusing images over
 * PIL's pixel limit, and
 * torchvision's preprocessing on them — `Resize` (PIL's antialiased bilinear resampling, with
 * its 8-bit intermediate), `CenterCrop`, `Pad`, `ToTensor`, `Normalize`.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Unzlib } from "fflate";
import { crc32 } from "../io/zip.js";
import { TsnnError, TypeError_, ValueError } from "../errors.js";
import { Tensor } from "../tensor/index.js";

const require = createRequire(import.meta.url);

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
 * The most pixels an image may have before tsnn refuses to decode it: PIL's
 * `Image.MAX_IMAGE_PIXELS` (178,956,970, i.e. 1024 x 1024 x 1024 / 4 / 3), a decompression-bomb
 * guard. Pass `{ maxPixels }` to `decodeImage` (CLI: `--max-pixels`) to change it.
 */
export const MAX_IMAGE_PIXELS = 178_956_970;

/** Options of `decodeImage` and `preprocess`. */
export interface ImageOptions {
  /** Refuse images (and resize targets) with more pixels than this; default `MAX_IMAGE_PIXELS`. */
  maxPixels?: number;
}

/** What an image file declares about itself, read from its header without decoding it. */
export interface ImageInfo {
  format: "PNG" | "JPEG";
  width: number;
  height: number;
  /** PNG: IHDR colour type; JPEG: number of components (1 grey, 3 YCbCr/RGB, 4 CMYK/YCCK). */
  colorType: number;
  /** PNG: bit depth; JPEG: sample precision. */
  bitDepth: number;
}

const isPngBytes = (b: Uint8Array): boolean => b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[4] === 0x0d && b[5] === 0x0a && b[6] === 0x1a && b[7] === 0x0a;
const isJpegBytes = (b: Uint8Array): boolean => b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;

/** PNG colour types and the bit depths each allows (PNG spec, table 11.1). */
const PNG_DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

/** A PNG's header and where its data lie. */
interface PngLayout extends ImageInfo {
  interlaced: boolean;
  /** The IDAT chunks' data, in order ([start, end) byte ranges). */
  idat: [number, number][];
  palette: Uint8Array | null;
}

/** Walk a PNG's chunks (bounds and CRCs, no decoding): IHDR first, IDAT present, IEND last. */
function pngLayout(b: Uint8Array, what: string, maxPixels = Infinity): PngLayout {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const bad = (msg: string): never => {
    throw new ImageError(`${what}: ${msg}`);
  };
  let pos = 8;
  let info: PngLayout | null = null;
  for (;;) {
    if (pos + 8 > b.length) bad(`truncated PNG file (${b.length} bytes; it ends ${info ? "before its IEND chunk" : "inside its header"})`);
    const len = dv.getUint32(pos);
    const type = String.fromCharCode(b[pos + 4], b[pos + 5], b[pos + 6], b[pos + 7]);
    if (!/^[A-Za-z]{4}$/.test(type)) bad(`corrupt PNG file (bad chunk type at byte ${pos + 4})`);
    if (len > 0x7fffffff) bad(`corrupt PNG file (chunk ${type} at byte ${pos} claims ${len} bytes)`);
    if (pos + 12 + len > b.length) bad(`truncated PNG file (${b.length} bytes; chunk ${type} at byte ${pos} needs ${len + 12})`);
    if (crc32(b.subarray(pos + 4, pos + 8 + len)) !== dv.getUint32(pos + 8 + len)) bad(`corrupt PNG file (chunk ${type} at byte ${pos} fails its CRC check)`);
    const data = b.subarray(pos + 8, pos + 8 + len);
    if (!info) {
      if (type !== "IHDR" || len !== 13) bad("corrupt PNG file (it does not start with an IHDR chunk)");
      const width = dv.getUint32(pos + 8);
      const height = dv.getUint32(pos + 12);
      const bitDepth = data[8];
      const colorType = data[9];
      if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) bad(`corrupt PNG file (size ${width}x${height})`);
      if (!PNG_DEPTHS[colorType]?.includes(bitDepth)) bad(`unsupported PNG (colour type ${colorType} with bit depth ${bitDepth})`);
      if (data[10] !== 0 || data[11] !== 0 || data[12] > 1) bad("unsupported PNG (unknown compression, filter or interlace method)");
      info = { format: "PNG", width, height, colorType, bitDepth, interlaced: data[12] === 1, idat: [], palette: null };
      checkPixels(width, height, maxPixels, what, "the image declares");
    } else if (type === "IDAT") info.idat.push([pos + 8, pos + 8 + len]);
    else if (type === "PLTE") {
      if (len % 3 !== 0 || len > 768) bad(`corrupt PNG file (palette of ${len} bytes)`);
      info.palette = data;
    } else if (type === "IEND") {
      if (!info.idat.length) bad("corrupt PNG file (no image data: no IDAT chunk)");
      if (info.colorType === 3 && !info.palette) bad("corrupt PNG file (palette image without a PLTE chunk)");
      return info;
    }
    pos += 12 + len;
  }
}

/** Adam7 passes: first column, first row, column step, row step (one pass when not interlaced). */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];
const SAMPLES: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** Stops inflating once every row is in (PIL ignores data past the last row). */
const DONE = Symbol("png rows complete");

/**
 * Decode a PNG as PIL reads it and converts it to "L" (grey, grey+alpha) or "RGB" (the rest):
 * alpha dropped, palettes looked up, 1/2/4-bit grey scaled to 0..255, 16-bit samples by their high
 * byte except 16-bit grey, which PIL holds as "I" and clips to 255. The image data is inflated as
 * a stream, row by row, straight into the output: memory is the output plus two rows, and data
 * that ends before the last row is refused (PIL: "image file is truncated").
 */
function decodePng(b: Uint8Array, png: PngLayout, what: string): Image8 {
  const { width: w, height: h, bitDepth: depth, colorType: ct, palette } = png;
  const spp = SAMPLES[ct];
  const bitsPerPixel = spp * depth;
  const bpp = Math.max(1, bitsPerPixel >> 3);
  const channels: 1 | 3 = ct === 0 || ct === 4 ? 1 : 3;
  const out = new Uint8Array(w * h * channels);
  const passes = (png.interlaced ? ADAM7 : [[0, 0, 1, 1]])
    .map(([x0, y0, dx, dy]) => ({ x0, y0, dx, dy, pw: w > x0 ? Math.ceil((w - x0) / dx) : 0, ph: h > y0 ? Math.ceil((h - y0) / dy) : 0 }))
    .filter((p) => p.pw > 0 && p.ph > 0);
  const expected = passes.reduce((s, p) => s + p.ph * (1 + Math.ceil((p.pw * bitsPerPixel) / 8)), 0);
  const scale = ct === 0 && depth < 8 ? 255 / ((1 << depth) - 1) : 1;
  const mask = (1 << depth) - 1;
  let pass = 0;
  let y = 0;
  let rowBytes = Math.ceil((passes[0].pw * bitsPerPixel) / 8);
  let cur = new Uint8Array(1 + rowBytes);
  let prev = new Uint8Array(1 + rowBytes);
  let fill = 0;
  let got = 0;
  const sample = (row: Uint8Array, i: number): number => {
    if (depth === 8) return row[1 + i];
    if (depth === 16) return row[1 + 2 * i];
    const bit = i * depth;
    return (row[1 + (bit >> 3)] >> (8 - depth - (bit & 7))) & mask;
  };
  const emit = (row: Uint8Array): void => {
    const { x0, y0, dx, dy, pw } = passes[pass];
    let o = ((y0 + y * dy) * w + x0) * channels;
    const step = dx * channels;
    for (let i = 0; i < pw; i++, o += step) {
      if (ct === 0) {
        out[o] = depth === 16 ? Math.min(255, (row[1 + 2 * i] << 8) | row[2 + 2 * i]) : depth === 8 ? row[1 + i] : Math.round(sample(row, i) * scale);
      } else if (ct === 4) out[o] = sample(row, 2 * i);
      else if (ct === 3) {
        const k = 3 * sample(row, i);
        out[o] = palette![k] ?? 0;
        out[o + 1] = palette![k + 1] ?? 0;
        out[o + 2] = palette![k + 2] ?? 0;
      } else {
        out[o] = sample(row, spp * i);
        out[o + 1] = sample(row, spp * i + 1);
        out[o + 2] = sample(row, spp * i + 2);
      }
    }
  };
  const unfilter = (row: Uint8Array, up: Uint8Array): void => {
    const f = row[0];
    const n = row.length;
    if (f === 1) for (let i = 1 + bpp; i < n; i++) row[i] = row[i] + row[i - bpp];
    else if (f === 2) for (let i = 1; i < n; i++) row[i] = row[i] + up[i];
    else if (f === 3) for (let i = 1; i < n; i++) row[i] = row[i] + (((i > bpp ? row[i - bpp] : 0) + up[i]) >> 1);
    else if (f === 4) {
      for (let i = 1; i < n; i++) {
        const a = i > bpp ? row[i - bpp] : 0;
        const c = i > bpp ? up[i - bpp] : 0;
        const bb = up[i];
        const p = a + bb - c;
        const pa = Math.abs(p - a), pb = Math.abs(p - bb), pc = Math.abs(p - c);
        row[i] = row[i] + (pa <= pb && pa <= pc ? a : pb <= pc ? bb : c);
      }
    } else if (f !== 0) throw new ImageError(`${what}: corrupt PNG file (row filter type ${f})`);
  };
  const onData = (chunk: Uint8Array): void => {
    let at = 0;
    while (at < chunk.length) {
      if (pass >= passes.length) throw DONE;
      const n = Math.min(cur.length - fill, chunk.length - at);
      cur.set(chunk.subarray(at, at + n), fill);
      fill += n;
      at += n;
      got += n;
      if (fill < cur.length) continue;
      unfilter(cur, prev);
      emit(cur);
      [prev, cur] = [cur, prev];
      fill = 0;
      if (++y === passes[pass].ph) {
        y = 0;
        if (++pass < passes.length) {
          rowBytes = Math.ceil((passes[pass].pw * bitsPerPixel) / 8);
          cur = new Uint8Array(1 + rowBytes);
          prev = new Uint8Array(1 + rowBytes);
        }
      }
    }
  };
  const stream = new Unzlib((chunk) => onData(chunk));
  try {
    png.idat.forEach(([start, end], k) => {
      for (let p = start; p < end; p += 65536) stream.push(b.subarray(p, Math.min(p + 65536, end)), k === png.idat.length - 1 && p + 65536 >= end);
    });
  } catch (e) {
    if (e !== DONE) {
      if (e instanceof ImageError) throw e;
      if (pass < passes.length) throw new ImageError(`${what}: corrupt PNG file (image data: ${(e as Error).message})`, { cause: e });
    }
  }
  if (pass < passes.length) throw new ImageError(`${what}: truncated PNG file (its image data ends after ${got} of ${expected} bytes)`);
  return { width: w, height: h, channels, data: out };
}

/** Most scans a JPEG may have (a progressive JPEG has about 10). */
const MAX_JPEG_SCANS = 1000;

/** Read a JPEG's frame header (SOFn) for its size, walking the marker segments before it. */
function jpegInfo(b: Uint8Array, what: string, maxPixels = Infinity): ImageInfo {
  const bad = (msg: string): never => {
    throw new ImageError(`${what}: ${msg}`);
  };
  let pos = 2;
  for (;;) {
    while (pos < b.length && b[pos] !== 0xff) pos++;
    while (pos < b.length && b[pos] === 0xff) pos++;
    if (pos + 2 >= b.length) bad(`truncated JPEG file (${b.length} bytes, no frame header)`);
    const marker = b[pos++];
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) continue;
    if (marker === 0xd9 || marker === 0xda) bad("corrupt JPEG file (image data before the frame header)");
    const len = (b[pos] << 8) | b[pos + 1];
    if (len < 2) bad(`corrupt JPEG file (marker segment of length ${len} at byte ${pos})`);
    if (pos + len > b.length) bad(`truncated JPEG file (${b.length} bytes, segment at byte ${pos} needs ${len})`);
    const sof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (sof) {
      if (len < 8) bad("corrupt JPEG file (short frame header)");
      const bitDepth = b[pos + 2];
      const height = (b[pos + 3] << 8) | b[pos + 4];
      const width = (b[pos + 5] << 8) | b[pos + 6];
      const components = b[pos + 7];
      if (width === 0 || height === 0) bad(`unsupported JPEG (size ${width}x${height}; a height given later by a DNL marker is not supported)`);
      if (marker === 0xc3 || marker === 0xc7 || marker === 0xcb || marker === 0xcf) bad("unsupported JPEG (lossless JPEG)");
      if (bitDepth !== 8) bad(`unsupported JPEG (${bitDepth}-bit samples; tsnn reads 8-bit JPEGs)`);
      if (![1, 3, 4].includes(components)) bad(`unsupported JPEG (${components} colour components)`);
      checkPixels(width, height, maxPixels, what, "the image declares");
      // The entropy-coded data after the scan header cannot contain FF D9: without it the file was cut.
      let end = false;
      for (let i = b.length - 2; i > pos; i--) {
        if (b[i] === 0xff && b[i + 1] === 0xd9) {
          end = true;
          break;
        }
      }
      if (!end) bad(`truncated JPEG file (${b.length} bytes, no end-of-image marker)`);
      // Each progressive scan walks the whole image again: thousands of tiny scans make a small file
      // cost minutes (libjpeg-turbo's own fuzzers stop at 500). Count the start-of-scan markers.
      let scans = 0;
      for (let i = pos; i + 1 < b.length; i++) if (b[i] === 0xff && b[i + 1] === 0xda && ++scans > MAX_JPEG_SCANS) bad(`unsupported JPEG (more than ${MAX_JPEG_SCANS} scans)`);
      // Huffman-coded scans spend at least one bit per 8x8 block on its DC coefficient: a file far
      // smaller than width x height / 512 bytes cannot hold the image (PIL: "image file is
      // truncated"), so it is refused before libjpeg-turbo allocates the full-size output.
      if (marker <= 0xc2 && b.length * 2048 < width * height) {
        bad(`truncated JPEG file (${b.length} bytes cannot hold the ${width}x${height} image it declares)`);
      }
      return { format: "JPEG", width, height, colorType: components, bitDepth };
    }
    pos += len;
  }
}

/**
 * Format and declared size of PNG or JPEG bytes, from the header alone (nothing is decoded); an
 * `ImageError` naming the file for anything else, or for a truncated or corrupt header.
 */
export function imageInfo(bytes: Uint8Array, what = "<image>"): ImageInfo {
  if (isPngBytes(bytes)) {
    const { format, width, height, colorType, bitDepth } = pngLayout(bytes, what);
    return { format, width, height, colorType, bitDepth };
  }
  if (isJpegBytes(bytes)) return jpegInfo(bytes, what);
  throw new ImageError(`${what}: unsupported image format (tsnn reads PNG and JPEG)`);
}

function checkPixels(width: number, height: number, maxPixels: number, what: string, doing: string): void {
  if (width * height > maxPixels) {
    throw new ImageError(
      `${what}: ${doing} ${width}x${height} = ${width * height} pixels, over the limit of ${maxPixels} ` +
        "(PIL's MAX_IMAGE_PIXELS; a decompression bomb?); raise it with { maxPixels } (CLI: --max-pixels)",
    );
  }
}

/**
 * Decode PNG or JPEG bytes (by magic number). The declared size is read first and refused over
 * `maxPixels` before anything is decoded. Grey PNGs and JPEGs stay 1-channel ("L"); everything
 * else becomes RGB: alpha dropped and CMYK converted as PIL's `convert("RGB")` does.
 */
export function decodeImage(bytes: Uint8Array, what = "<image>", opts: ImageOptions = {}): Image8 {
  if (!(bytes instanceof Uint8Array)) throw new TypeError_(`decodeImage: expected the file's bytes as a Uint8Array, got ${bytes === null ? "null" : typeof bytes}`);
  const maxPixels = opts.maxPixels ?? MAX_IMAGE_PIXELS;
  const png = isPngBytes(bytes) ? pngLayout(bytes, what, maxPixels) : null;
  const info = png ?? (isJpegBytes(bytes) ? jpegInfo(bytes, what, maxPixels) : imageInfo(bytes, what));
  checkPixels(info.width, info.height, maxPixels, what, "the image declares");
  let img: Image8;
  try {
    img = png ? decodePng(bytes, png, what) : decodeJpeg(bytes, info);
  } catch (e) {
    if (e instanceof ImageError) throw e;
    throw new ImageError(`${what}: corrupt ${info.format} file (${describeDecodeError(e as Error)})`, { cause: e });
  }
  if (img.width !== info.width || img.height !== info.height) {
    throw new ImageError(`${what}: corrupt ${info.format} file (decoded ${img.width}x${img.height}, header says ${info.width}x${info.height})`);
  }
  return img;
}

function describeDecodeError(e: Error): string {
  const m = e.message ?? String(e);
  if (m === "Not implemented") return "libjpeg-turbo stopped on an error in the data";
  return m;
}

// ------------------------------------------------------------------ JPEG (libjpeg-turbo, WASM)

interface TurboExports {
  memory: WebAssembly.Memory;
  malloc(n: number): number;
  free(p: number): void;
  tjInitDecompress(): number;
  tjDestroy(h: number): number;
  tjDecompressHeader3(h: number, src: number, size: number, w: number, hgt: number, sub: number, cs: number): number;
  tjDecompress2(h: number, src: number, size: number, dst: number, w: number, pitch: number, hgt: number, pf: number, flags: number): number;
}
let turbo: TurboExports | null = null;
let turboModule: WebAssembly.Module | null = null;

/** libjpeg-turbo's TurboJPEG, the WASM build that `@cwasm/jpeg-turbo` ships, instantiated once. */
function turboJpeg(): TurboExports {
  if (turbo) return turbo;
  turboModule ??= new WebAssembly.Module(readFileSync(join(dirname(require.resolve("@cwasm/jpeg-turbo")), "jpeg-turbo.wasm")));
  const fail = (): never => {
    throw new Error("Not implemented");
  };
  const instance = new WebAssembly.Instance(turboModule, {
    env: { setjmp: () => 0, longjmp: fail },
    wasi_snapshot_preview1: { environ_sizes_get: () => 0, environ_get: fail, proc_exit: fail, fd_close: fail, fd_seek: fail, fd_write: fail },
  });
  turbo = instance.exports as unknown as TurboExports;
  return turbo;
}

const TJPF_RGB = 0;
const TJPF_GRAY = 6;
const TJPF_CMYK = 11;

/** Decode a JPEG whose header `jpegInfo` has checked: grey → "L", YCbCr/RGB → "RGB", CMYK/YCCK → PIL's CMYK → RGB. */
function decodeJpeg(bytes: Uint8Array, info: ImageInfo): Image8 {
  const tj = turboJpeg();
  const channels = info.colorType === 1 ? 1 : info.colorType === 4 ? 4 : 3;
  const format = channels === 1 ? TJPF_GRAY : channels === 4 ? TJPF_CMYK : TJPF_RGB;
  const outSize = info.width * info.height * channels;
  const src = tj.malloc(bytes.length);
  const dst = tj.malloc(outSize);
  const handle = tj.tjInitDecompress();
  let ok = false;
  try {
    if (!src || !dst || !handle) throw new Error(`out of WebAssembly memory for a ${info.width}x${info.height} image`);
    new Uint8Array(tj.memory.buffer, src, bytes.length).set(bytes);
    const meta = tj.malloc(16);
    try {
      if (!meta || tj.tjDecompressHeader3(handle, src, bytes.length, meta, meta + 4, meta + 8, meta + 12) !== 0) throw new Error("libjpeg-turbo could not read its header");
      const [w, h] = new Uint32Array(tj.memory.buffer, meta, 2);
      if (w !== info.width || h !== info.height) throw new Error(`libjpeg-turbo reads a ${w}x${h} image, the frame header says ${info.width}x${info.height}`);
    } finally {
      if (meta) tj.free(meta);
    }
    const status = tj.tjDecompress2(handle, src, bytes.length, dst, info.width, info.width * channels, info.height, format, 0);
    if (status !== 0) throw new Error("libjpeg-turbo could not decode it");
    const px = new Uint8Array(tj.memory.buffer, dst, outSize);
    const data = channels === 4 ? cmykToRgb(px, info.width * info.height) : px.slice();
    ok = true;
    return { width: info.width, height: info.height, channels: channels === 1 ? 1 : 3, data };
  } finally {
    if (handle) tj.tjDestroy(handle);
    if (dst) tj.free(dst);
    if (src) tj.free(src);
    // WebAssembly memory never shrinks: after a big image, drop the instance so the GC frees it.
    // After an error libjpeg-turbo's state is abandoned mid-way: start the next image afresh too.
    if (!ok || outSize + bytes.length > 64 * 2 ** 20) turbo = null;
  }
}

/**
 * PIL's reading of a CMYK JPEG ("CMYK;I": Adobe's inverted polarity, which PIL always assumes)
 * followed by its `convert("RGB")`: with k' = 255 - K, each of R, G, B = k' - C·k'/255 (rounded as
 * PIL's MULDIV255).
 */
function cmykToRgb(inverted: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const nk = inverted[4 * i + 3];
    for (let c = 0; c < 3; c++) {
      const t = (255 - inverted[4 * i + c]) * nk + 128;
      const v = nk - (((t >> 8) + t) >> 8);
      out[3 * i + c] = v < 0 ? 0 : v;
    }
  }
  return out;
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

/** PIL's resampling filters: support and weight function (bicubic with a = -0.5, as PIL). */
const FILTERS = {
  bilinear: { support: 1, weight: (t: number): number => (t < 1 ? 1 - t : 0) },
  bicubic: {
    support: 2,
    weight: (t: number): number => (t < 1 ? (1.5 * t - 2.5) * t * t + 1 : t < 2 ? (((t - 5) * t + 8) * t - 4) * -0.5 : 0),
  },
};

/** Interpolations `resize` offers (PIL's `Image.BILINEAR` and `Image.BICUBIC`). */
export type Interpolation = keyof typeof FILTERS;

/**
 * One separable pass of PIL's resampling: antialiased when shrinking (support grows with the
 * scale), rounding back to 8 bits as PIL does.
 */
function resamplePass(src: Uint8Array, inW: number, inH: number, c: number, outLen: number, horizontal: boolean, filter: Interpolation = "bilinear"): Uint8Array {
  const inLen = horizontal ? inW : inH;
  const scale = inLen / outLen;
  const filterScale = Math.max(scale, 1);
  const { support: base, weight } = FILTERS[filter];
  const support = base * filterScale;
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
      const w = weight(Math.abs((j + xmin - center + 0.5) / filterScale));
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

/** Resize to `width` x `height` with PIL's antialiased bilinear (or bicubic) filter, horizontal pass first. */
export function resizeBilinear(img: Image8, width: number, height: number, filter: Interpolation = "bilinear"): Image8 {
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) throw new ValueError(`height and width must be > 0, got ${width}x${height}`);
  if (!(filter in FILTERS)) throw new ValueError(`unknown interpolation ${JSON.stringify(filter)}; choose bilinear or bicubic`);
  let { data } = img;
  let w = img.width;
  if (width !== img.width) {
    data = resamplePass(data, img.width, img.height, img.channels, width, true, filter);
    w = width;
  }
  if (height !== img.height) data = resamplePass(data, w, img.height, img.channels, height, false, filter);
  return { width, height, channels: img.channels, data };
}

/**
 * torchvision's `Resize(size)` with an int: the shorter side becomes `size`, the longer
 * `int(size * long / short)`.
 */
export function resizeShorter(img: Image8, size: number, filter: Interpolation = "bilinear"): Image8 {
  if (!(Number.isInteger(size) && size > 0)) throw new ValueError(`resize size must be a positive integer, got ${size}`);
  const [w, h] = shorterTarget(img.width, img.height, size);
  if (w === img.width && h === img.height) return img;
  return resizeBilinear(img, w, h, filter);
}

/** Python's round(): halves to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** torchvision's `CenterCrop(size)` (offsets `round((H - size) / 2)`, Python rounding). */
export function centerCrop(img: Image8, size: number): Image8 {
  if (!(Number.isInteger(size) && size > 0)) throw new ValueError(`crop size must be a positive integer, got ${size}`);
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

/** Largest float tensor `toTensor` makes: 2^28 elements (1 GiB). */
const MAX_TENSOR_ELEMENTS = 2 ** 28;

/** `ToTensor` + `Normalize(mean, std)` (per channel), optional zero `pad` on every side first. */
export function toTensor(img: Image8, mean: number[], std: number[], pad = 0, repeatTo: number = img.channels): Tensor {
  const c = img.channels;
  const W = img.width + 2 * pad;
  const H = img.height + 2 * pad;
  const okStats = (xs: number[], positive: boolean): boolean =>
    Array.isArray(xs) && (xs.length === 1 || xs.length === repeatTo) && xs.every((x) => typeof x === "number" && Number.isFinite(x) && (!positive || x > 0));
  if (!okStats(mean, false)) throw new ValueError(`mean must be 1 or ${repeatTo} finite numbers, got ${JSON.stringify(mean)}`);
  if (!okStats(std, true)) throw new ValueError(`std must be 1 or ${repeatTo} positive finite numbers, got ${JSON.stringify(std)}`);
  if (!(Number.isInteger(pad) && pad >= 0)) throw new ValueError(`pad must be a non-negative integer, got ${pad}`);
  if (repeatTo * H * W > MAX_TENSOR_ELEMENTS) {
    throw new ImageError(`a ${W}x${H} image makes a ${repeatTo}x${H}x${W} float tensor, over ${MAX_TENSOR_ELEMENTS} elements (1 GiB); use a transform that resizes (auto, imagenet, cifar)`);
  }
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
  | { kind: "eval"; resizeSize: number; cropSize: number; interpolation: Interpolation; mean: number[]; std: number[] }
  | { kind: "custom"; grayscale: boolean; pad: number; channels: number; mean: number[]; std: number[]; size?: number };

/** The size `resizeShorter(img, size)` gives. */
function shorterTarget(w: number, h: number, size: number): [number, number] {
  if ((w <= h && w === size) || (h <= w && h === size)) return [w, h];
  return w < h ? [size, Math.trunc((size * h) / w)] : [Math.trunc((size * w) / h), size];
}

/**
 * Apply a recipe to a decoded image, giving a `[C, H, W]` float tensor. A resize whose result
 * would exceed `maxPixels` (a 1 x 1,000,000 image resized to 256 wide) is refused first, naming
 * `what` (the file).
 */
export function preprocess(img: Image8, t: Transform, opts: ImageOptions & { what?: string } = {}): Tensor {
  const what = opts.what ?? "<image>";
  const maxPixels = opts.maxPixels ?? MAX_IMAGE_PIXELS;
  switch (t.kind) {
    case "imagenet": {
      const [w, h] = shorterTarget(img.width, img.height, 256);
      checkPixels(w, h, maxPixels, what, `resizing ${img.width}x${img.height} (shorter side to 256) gives`);
      if (w < 224 || h < 224) throw new ImageError(`${what}: center crop of 224x224 from a ${w}x${h} image`);
      return toTensor(centerCrop(resizeShorter(convert(img, 3), 256), 224), IMAGENET_MEAN, IMAGENET_STD);
    }
    case "eval": {
      const [w, h] = shorterTarget(img.width, img.height, t.resizeSize);
      checkPixels(w, h, maxPixels, what, `resizing ${img.width}x${img.height} (shorter side to ${t.resizeSize}) gives`);
      if (w < t.cropSize || h < t.cropSize) throw new ImageError(`${what}: center crop of ${t.cropSize}x${t.cropSize} from a ${w}x${h} image`);
      return toTensor(centerCrop(resizeShorter(convert(img, 3), t.resizeSize, t.interpolation), t.cropSize), t.mean, t.std);
    }
    case "cifar": {
      const rgb = convert(img, 3);
      const sized = rgb.width === 32 && rgb.height === 32 ? rgb : resizeBilinear(rgb, 32, 32);
      return toTensor(sized, CIFAR_MEAN, CIFAR_STD);
    }
    case "none":
      if (3 * img.width * img.height > MAX_TENSOR_ELEMENTS) {
        throw new ImageError(`${what}: ${img.width}x${img.height} is too large to use without resizing (over ${MAX_TENSOR_ELEMENTS} float elements); use --transform auto, imagenet or cifar`);
      }
      return toTensor(convert(img, 3), [0], [1]);
    default:
      throw new ValueError(`unknown transform kind ${JSON.stringify((t as { kind?: unknown })?.kind)}; choose imagenet, eval, cifar, none or custom`);
    case "custom": {
      let im = convert(img, t.grayscale ? 1 : 3);
      if (t.size && (im.width !== t.size || im.height !== t.size)) {
        checkPixels(t.size, t.size, maxPixels, what, "resizing gives");
        im = resizeBilinear(im, t.size, t.size);
      }
      checkPixels(im.width + 2 * t.pad, im.height + 2 * t.pad, maxPixels, what, "padding gives");
      return toTensor(im, t.mean, t.std, t.pad, t.channels);
    }
  }
}
