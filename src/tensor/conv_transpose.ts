/**
 * Transposed 2-D convolution (PyTorch: `F.conv_transpose2d`), the adjoint of `conv2d`: per image
 * and group, `cols = Wᵀ · x` on the SGEMM, then col2im scatters every column back to the output
 * positions the forward convolution would have read. `convTranspose2dReference` is the direct
 * scatter loop it is tested against.
 */
import { RuntimeError } from "../errors.js";
import { sgemm } from "./gemm.js";
import { formatShape } from "./shape.js";
import { Tensor } from "./tensor.js";

/** Options of `convTranspose2d`, sizes as pairs. */
export interface ConvTranspose2dArgs {
  stride?: [number, number];
  padding?: [number, number];
  outputPadding?: [number, number];
  dilation?: [number, number];
  groups?: number;
}

/** Output size of a transposed convolution along one dim: `(in-1)·s - 2p + d·(k-1) + op + 1`. */
export function convTransposeOutSize(size: number, k: number, s: number, p: number, d: number, op: number): number {
  return (size - 1) * s - 2 * p + d * (k - 1) + op + 1;
}

interface Geo {
  n: number; cin: number; h: number; w: number; cout: number; coutG: number; cinG: number;
  kh: number; kw: number; sh: number; sw: number; ph: number; pw: number; dh: number; dw: number;
  groups: number; oh: number; ow: number; unbatched: boolean;
}

function geometry(x: Tensor, weight: Tensor, bias: Tensor | null, a: ConvTranspose2dArgs): Geo {
  const unbatched = x.ndim === 3;
  if (x.ndim !== 3 && x.ndim !== 4) {
    throw new RuntimeError(`Expected 3D (unbatched) or 4D (batched) input to conv_transpose2d, but got input of size: ${formatShape(x.shape)}`);
  }
  if (weight.ndim !== 4) throw new RuntimeError(`conv_transpose2d: weight must be 4-D [in, out/groups, kH, kW], got ${formatShape(weight.shape)}`);
  const [n, cin, h, w] = unbatched ? [1, ...x.shape] : x.shape;
  const groups = a.groups ?? 1;
  const [wcin, coutG, kh, kw] = weight.shape;
  const [sh, sw] = a.stride ?? [1, 1];
  const [ph, pw] = a.padding ?? [0, 0];
  const [oph, opw] = a.outputPadding ?? [0, 0];
  const [dh, dw] = a.dilation ?? [1, 1];
  if (groups < 1 || !Number.isInteger(groups)) throw new RuntimeError("non-positive groups is not supported");
  if (sh < 1 || sw < 1) throw new RuntimeError("non-positive stride is not supported");
  if (ph < 0 || pw < 0) throw new RuntimeError("negative padding is not supported");
  if (!((oph < sh || oph < dh) && (opw < sw || opw < dw))) {
    throw new RuntimeError(
      `output padding must be smaller than either stride or dilation, but got output_padding_height: ${oph} output_padding_width: ${opw} ` +
        `stride_height: ${sh} stride_width: ${sw} dilation_height: ${dh} dilation_width: ${dw}`,
    );
  }
  if (wcin !== cin) {
    throw new RuntimeError(
      `Given transposed=1, weight of size ${formatShape(weight.shape)}, expected input${formatShape(x.shape)} to have ${wcin} channels, but got ${cin} channels instead`,
    );
  }
  if (cin % groups !== 0) {
    throw new RuntimeError(`Given groups=${groups}, expected weight to be divisible by ${groups} at dimension 0, but got weight of size ${formatShape(weight.shape)} instead`);
  }
  const cout = coutG * groups;
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== cout)) {
    throw new RuntimeError(`Given transposed=1, weight of size ${formatShape(weight.shape)}, expected bias to be 1-dimensional with ${cout} elements, but got bias of size ${formatShape(bias.shape)} instead`);
  }
  const oh = convTransposeOutSize(h, kh, sh, ph, dh, oph);
  const ow = convTransposeOutSize(w, kw, sw, pw, dw, opw);
  if (oh <= 0 || ow <= 0) {
    throw new RuntimeError(`Given input size per channel: (${h} x ${w}). Calculated output size per channel: (${oh} x ${ow}). Output size is too small`);
  }
  return { n, cin, h, w, cout, coutG, cinG: cin / groups, kh, kw, sh, sw, ph, pw, dh, dw, groups, oh, ow, unbatched };
}

function outTensor(g: Geo, data: Float32Array): Tensor {
  return new Tensor(data, g.unbatched ? [g.cout, g.oh, g.ow] : [g.n, g.cout, g.oh, g.ow]);
}

function addBias(out: Float32Array, bias: Float32Array, g: Geo): void {
  const plane = g.oh * g.ow;
  for (let b = 0; b < g.n; b++) {
    for (let c = 0; c < g.cout; c++) {
      const v = bias[c];
      const o = (b * g.cout + c) * plane;
      for (let i = 0; i < plane; i++) out[o + i] += v;
    }
  }
}

/**
 * Transposed convolution of `x` `[N, Cin, H, W]` (or `[Cin, H, W]`) with `weight`
 * `[Cin, Cout/groups, kH, kW]` and optional `bias` `[Cout]` (PyTorch: `F.conv_transpose2d(input,
 * weight, bias, stride, padding, output_padding, groups, dilation)`); output
 * `[N, Cout, (H-1)·s - 2p + d·(k-1) + op + 1, …]`.
 */
export function convTranspose2d(x: Tensor, weight: Tensor, bias: Tensor | null, args: ConvTranspose2dArgs = {}): Tensor {
  const g = geometry(x, weight, bias, args);
  const { n, cin, h, w, cout, coutG, cinG, kh, kw, sh, sw, ph, pw, dh, dw, groups, oh, ow } = g;
  const xd = x.contiguous().data;
  const wd = weight.contiguous().data;
  const HW = h * w;
  const rows = coutG * kh * kw;
  // Wᵀ per group, [rows, cinG] row-major, so the SGEMM's left operand has unit column stride.
  const wt = new Float32Array(groups * rows * cinG);
  for (let gi = 0; gi < groups; gi++) {
    const src = gi * cinG * rows;
    const dst = gi * rows * cinG;
    for (let ci = 0; ci < cinG; ci++) for (let r = 0; r < rows; r++) wt[dst + r * cinG + ci] = wd[src + ci * rows + r];
  }
  const cols = new Float32Array(rows * HW);
  const out = new Float32Array(n * cout * oh * ow);
  for (let b = 0; b < n; b++) {
    for (let gi = 0; gi < groups; gi++) {
      sgemm(
        rows, HW, cinG,
        { data: wt, offset: gi * rows * cinG, rowStride: cinG, colStride: 1 },
        { data: xd, offset: (b * cin + gi * cinG) * HW, rowStride: HW, colStride: 1 },
        cols, 0, HW,
      );
      // col2im: column (co, ky, kx) at input pixel (iy, ix) lands on output (iy·s - p + ky·d, ix·s - p + kx·d).
      for (let co = 0; co < coutG; co++) {
        const obase = (b * cout + gi * coutG + co) * oh * ow;
        for (let ky = 0; ky < kh; ky++) {
          for (let kx = 0; kx < kw; kx++) {
            const r = (co * kh + ky) * kw + kx;
            for (let iy = 0; iy < h; iy++) {
              const oy = iy * sh - ph + ky * dh;
              if (oy < 0 || oy >= oh) continue;
              const crow = r * HW + iy * w;
              const orow = obase + oy * ow;
              for (let ix = 0; ix < w; ix++) {
                const ox = ix * sw - pw + kx * dw;
                if (ox >= 0 && ox < ow) out[orow + ox] += cols[crow + ix];
              }
            }
          }
        }
      }
    }
  }
  if (bias) addBias(out, bias.contiguous().data, g);
  return outTensor(g, out);
}

/** The direct scatter loop (double accumulation per output): the oracle for `convTranspose2d`. */
export function convTranspose2dReference(x: Tensor, weight: Tensor, bias: Tensor | null, args: ConvTranspose2dArgs = {}): Tensor {
  const g = geometry(x, weight, bias, args);
  const { n, cin, h, w, cout, coutG, cinG, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow } = g;
  const xd = x.contiguous().data;
  const wd = weight.contiguous().data;
  const acc = new Float64Array(n * cout * oh * ow);
  for (let b = 0; b < n; b++) {
    for (let ci = 0; ci < cin; ci++) {
      const gi = Math.floor(ci / cinG);
      for (let iy = 0; iy < h; iy++) {
        for (let ix = 0; ix < w; ix++) {
          const v = xd[((b * cin + ci) * h + iy) * w + ix];
          for (let co = 0; co < coutG; co++) {
            for (let ky = 0; ky < kh; ky++) {
              const oy = iy * sh - ph + ky * dh;
              if (oy < 0 || oy >= oh) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ox = ix * sw - pw + kx * dw;
                if (ox < 0 || ox >= ow) continue;
                acc[((b * cout + gi * coutG + co) * oh + oy) * ow + ox] += v * wd[((ci * coutG + co) * kh + ky) * kw + kx];
              }
            }
          }
        }
      }
    }
  }
  const out = Float32Array.from(acc);
  if (bias) addBias(out, bias.contiguous().data, g);
  return outTensor(g, out);
}
