/**
 * Property tests: every fast kernel against its obviously-correct reference on random shapes
 * (odd sizes, groups, dilation, padding, strides), with a fixed seed so failures reproduce.
 */
import { describe, expect, it } from "vitest";
import { Generator, kernels, RuntimeError, Tensor } from "../src/index.js";
import { expectClose } from "./helpers.js";
import * as arena from "../src/tensor/arena.js";

const gen = new Generator(20261126);
const int = (lo: number, hi: number): number => lo + Math.floor(gen.random() * (hi - lo + 1));
const rnd = (shape: number[]): Tensor => kernels.randn(shape, gen);

/**
 * Tolerances. The JS kernel accumulates in double: |diff| <= 1e-5 + 1e-5·|ref|. The WASM kernel
 * accumulates in float32 (as PyTorch does), so its error grows with the summands, not with the
 * (possibly cancelling) result: the usual probabilistic bound for a K-term float32 sum,
 * 4·√K·2⁻²⁴·Σₖ|aᵢₖ·bₖⱼ|, on top of the same 1e-5 terms.
 */
function expectGemmClose(backend: kernels.Backend, C: Float32Array, R: Float32Array, absProducts: Float32Array, K: number, M: number, N: number): void {
  const extra = backend === "wasm" ? 4 * Math.sqrt(K) * 2 ** -24 : 0;
  for (let i = 0; i < C.length; i++) {
    const tol = 1e-5 + 1e-5 * Math.abs(R[i]) + extra * absProducts[i];
    if (!(Math.abs(C[i] - R[i]) <= tol)) {
      throw new Error(`${backend} [${M}x${N}x${K}] element ${i}: ${C[i]} vs ${R[i]} (tol ${tol})`);
    }
  }
}

const abs = (t: Tensor): Tensor => new Tensor(Float32Array.from(t.data, Math.abs), t.shape);

for (const backend of ["js", "wasm"] as const) {
  describe(`${backend}: sgemm matches the reference on random shapes and strides`, () => {
    for (let t = 0; t < 25; t++) {
      const M = int(1, 70), N = int(1, 70), K = int(1, 300), transB = t % 2 === 1;
      it(`M=${M} N=${N} K=${K}${transB ? " Bᵀ" : ""}`, () => {
        const A = rnd([M, K]);
        const B = rnd(transB ? [N, K] : [K, N]);
        const view = (x: Tensor) => (transB && x === B ? { data: x.data, offset: 0, rowStride: 1, colStride: K } : { data: x.data, offset: 0, rowStride: x.shape[1], colStride: 1 });
        const C = new Float32Array(M * N);
        const previous = kernels.getBackend();
        kernels.setBackend(backend);
        try {
          kernels.sgemm(M, N, K, view(A), view(B), C, 0, N);
        } finally {
          kernels.setBackend(previous);
        }
        const R = kernels.sgemmReference(M, N, K, view(A), view(B));
        const absA = abs(A), absB = abs(B);
        const P = kernels.sgemmReference(M, N, K, { ...view(A), data: absA.data }, { ...view(B), data: absB.data });
        expectGemmClose(backend, C, R, P, K, M, N);
      });
    }
  });

  describe(`${backend}: conv2d (im2col + GEMM) matches the direct reference on random shapes`, () => {
    for (let t = 0; t < 40; t++) {
      const groups = [1, 1, 2, 3][int(0, 3)];
      const cin = groups * int(1, 4), cout = groups * int(1, 5);
      const kh = int(1, 4), kw = int(1, 4), sh = int(1, 3), sw = int(1, 3), dh = int(1, 2), dw = int(1, 2);
      const same = t % 7 === 0;
      const ph = same ? 0 : int(0, 2), pw = same ? 0 : int(0, 2);
      const h = dh * (kh - 1) + 1 + int(0, 6) + (t % 5 === 0 ? 20 : 0), w = dw * (kw - 1) + 1 + int(0, 6), n = int(1, 2);
      const args: kernels.Conv2dArgs = { stride: same ? [1, 1] : [sh, sw], padding: same ? "same" : [ph, pw], dilation: [dh, dw], groups };
      it(`x=[${n},${cin},${h},${w}] w=[${cout},${cin / groups},${kh},${kw}] s=${args.stride} p=${args.padding} d=${dh},${dw} g=${groups}`, () => {
        const x = rnd([n, cin, h, w]);
        const wt = rnd([cout, cin / groups, kh, kw]);
        const b = t % 2 ? rnd([cout]) : null;
        const previous = kernels.getBackend();
        kernels.setBackend(backend);
        let y: Tensor;
        try {
          y = kernels.conv2d(x, wt, b, args);
        } finally {
          kernels.setBackend(previous);
        }
        const ref = kernels.conv2dReference(x, wt, b, args);
        const bound = kernels.conv2dReference(abs(x), abs(wt), b ? abs(b) : null, args);
        const K = (cin / groups) * kh * kw;
        expectGemmClose(backend, y.data, ref.data, bound.data, K, ref.shape[1], ref.numel());
      });
    }
  });
}

describe("shape helpers", () => {
  it("poolOutSize applies PyTorch's ceil-mode rule (H=5, k=2, s=2, p=1 → 3)", () => {
    expect(kernels.poolOutSize(5, 2, 2, 1, 1, true)).toBe(3);
    expect(kernels.poolOutSize(5, 2, 2, 1, 1, false)).toBe(3);
    expect(kernels.poolOutSize(8, 3, 2, 0, 1, true)).toBe(4);
    expect(kernels.poolOutSize(8, 3, 2, 0, 1, false)).toBe(3);
  });
  it("convOutSize", () => {
    expect(kernels.convOutSize(224, 7, 2, 3, 3, 1)).toBe(112);
    expect(kernels.convOutSize(7, 3, 1, 2, 2, 2)).toBe(7);
  });
});

describe("max pooling: WASM (no indices) equals the JS kernel bit for bit, -0.0 and NaN included", () => {
  // Every case has at least 2^16 window reads, so the WASM kernels run (SIMD for strides 1 and 2).
  for (const [shape, k, s, p, d, ceil] of [
    [[1, 64, 112, 112], 3, 2, 1, 1, false],
    [[2, 9, 65, 63], 2, 2, 1, 2, true],
    [[1, 7, 40, 45], 3, 1, 1, 1, false],
    [[3, 4, 37, 30], 3, 2, 0, 1, true],
    [[1, 9, 50, 47], 3, 3, 1, 1, true],
  ] as const) {
    it(`x=[${shape.join(",")}] k=${k} s=${s} p=${p} d=${d} ceil=${ceil}`, () => {
      const x = rnd([...shape]);
      for (let i = 0; i < x.numel(); i += 97) {
        // Ties of -0.0 and +0.0 in both orders, and NaNs among them.
        x.data[i] = -0;
        x.data[i + 1] = 0;
        if (i % 3 === 0) x.data[i + 2] = -0;
        if (i % 1000 === 0) x.data[i + 3] = NaN;
      }
      const args = { kernel: [k, k] as [number, number], stride: [s, s] as [number, number], padding: [p, p] as [number, number], dilation: [d, d] as [number, number], ceilMode: ceil };
      const fast = kernels.maxPool2d(x, args, false).output;
      const ref = kernels.maxPool2d(x, args).output;
      expect(kernels.getBackend()).toBe("wasm");
      expect(Buffer.from(fast.data.buffer).equals(Buffer.from(ref.data.buffer))).toBe(true);
    });
  }
});

describe("global average pooling (four planes at a time) keeps each plane's sum in order: the bits of the plain loop", () => {
  for (const shape of [[1, 1, 3, 3], [1, 3, 1, 1], [2, 5, 7, 7], [1, 9, 5, 3], [3, 4, 28, 28]]) {
    it(`x=[${shape.join(",")}] → [${shape[0]},${shape[1]},1,1]`, () => {
      const x = rnd(shape);
      const P = shape[2] * shape[3];
      const want = new Float32Array(shape[0] * shape[1]);
      for (let p = 0; p < want.length; p++) {
        let s = 0;
        for (let i = 0; i < P; i++) s += x.data[p * P + i];
        want[p] = s / P;
      }
      const y = kernels.adaptiveAvgPool2d(x, [1, 1]);
      expect(y.shape).toEqual([shape[0], shape[1], 1, 1]);
      expect(new Uint32Array(y.data.slice().buffer)).toEqual(new Uint32Array(want.buffer));
    });
  }
});

describe("large batches are convolved in chunks with the same result", () => {
  it("x=[5,3,9,9] w=[4,3,3,3] p=1, forced into chunks of 2 images", async () => {
    const { _setConvChunkFloats } = await import("../src/tensor/conv.js");
    const x = rnd([5, 3, 9, 9]);
    const wt = rnd([4, 3, 3, 3]);
    const whole = kernels.conv2d(x, wt, null, { padding: [1, 1] });
    _setConvChunkFloats(2 * 27 * 81);
    try {
      const chunked = kernels.conv2d(x, wt, null, { padding: [1, 1] });
      expect(Buffer.from(chunked.data.buffer).equals(Buffer.from(whole.data.buffer))).toBe(true);
    } finally {
      _setConvChunkFloats(64 * 1024 * 1024);
    }
  });
});

/**
 * Winograd F(2x2,3x3) tolerance: the transforms add at most four terms at a time (and halve), so
 * the same bound as the direct float32 GEMM holds: 4·√K·2⁻²⁴·Σ|x·w| plus 1e-5 terms (K = 9·Cin).
 * Measured worst case: 0.07·√K·2⁻²⁴·Σ|x·w|.
 */
describe("wasm: Winograd F(2x2,3x3) matches the direct reference on random shapes", () => {
  for (let t = 0; t < 24; t++) {
    const cin = int(16, 40) + (t === 3 ? 280 : 0), cout = int(16, 41);
    const h = int(1, 13) + (t % 6 === 0 ? 20 : 0), w = int(1, 13), p = int(0, 2), n = int(1, 3);
    if (h + 2 * p < 3 || w + 2 * p < 3) continue;
    it(`x=[${n},${cin},${h},${w}] w=[${cout},${cin},3,3] p=${p}`, () => {
      const x = rnd([n, cin, h, w]);
      const wt = rnd([cout, cin, 3, 3]);
      const b = t % 2 ? rnd([cout]) : null;
      const args: kernels.Conv2dArgs = { padding: [p, p] };
      const previous = kernels.getBackend();
      kernels.setBackend("wasm");
      let y: Tensor;
      try {
        expect(kernels.getWinograd()).toBe(true);
        y = kernels.conv2d(x, wt, b, args);
      } finally {
        kernels.setBackend(previous);
      }
      const ref = kernels.conv2dReference(x, wt, b, args);
      const bound = kernels.conv2dReference(abs(x), abs(wt), b ? abs(b) : null, args);
      const extra = 4 * Math.sqrt(9 * cin) * 2 ** -24;
      for (let i = 0; i < ref.numel(); i++) {
        const tol = 1e-5 + 1e-5 * Math.abs(ref.data[i]) + extra * bound.data[i];
        if (!(Math.abs(y.data[i] - ref.data[i]) <= tol)) throw new Error(`element ${i}: ${y.data[i]} vs ${ref.data[i]} (tol ${tol})`);
      }
    });
  }

  it("x=[2,64,30,29] w=[72,64,3,3] p=1 on 2 threads (8 of the 16 GEMMs each) gives the 1-thread bits", () => {
    const x = rnd([2, 64, 30, 29]);
    const wt = rnd([72, 64, 3, 3]);
    const previous = kernels.getNumThreads();
    try {
      kernels.setNumThreads(1);
      const one = kernels.conv2d(x, wt, null, { padding: [1, 1] });
      kernels.setNumThreads(2);
      const two = kernels.conv2d(x, wt, null, { padding: [1, 1] });
      expect(Buffer.from(two.data.buffer).equals(Buffer.from(one.data.buffer))).toBe(true);
      const ref = kernels.conv2dReference(x, wt, null, { padding: [1, 1] });
      expectClose(two, ref, { rtol: 1e-4, atol: 1e-4 }, "2 threads");
    } finally {
      kernels.setNumThreads(previous);
    }
  });

  it("x=[7,24,10,9] w=[20,24,3,3] p=1 in batch chunks of 2 images gives the unchunked bits", async () => {
    const { _setConvChunkFloats } = await import("../src/tensor/conv.js");
    const x = rnd([7, 24, 10, 9]);
    const wt = rnd([20, 24, 3, 3]);
    const whole = kernels.conv2d(x, wt, null, { padding: [1, 1] });
    _setConvChunkFloats(2 * 16 * 24 * 25);
    try {
      const chunked = kernels.conv2d(x, wt, null, { padding: [1, 1] });
      expect(Buffer.from(chunked.data.buffer).equals(Buffer.from(whole.data.buffer))).toBe(true);
    } finally {
      _setConvChunkFloats(64 * 1024 * 1024);
    }
  });

  it("the filter transform is U = G g Gᵀ (a 3x3 filter of ones gives [1 1.5 .5 1; ...] outer products)", () => {
    const U = kernels.winogradFilter(new Float32Array(9).fill(1), 1, 1);
    const g = [1, 1.5, 0.5, 1];
    expect(Array.from(U)).toEqual(g.flatMap((a) => g.map((b) => a * b)));
  });
});

describe("cached weight transforms follow in-place changes to the weight", () => {
  const x = rnd([1, 16, 6, 6]);
  const expectRef = (y: Tensor, wt: Tensor): void => {
    expectClose(y, kernels.conv2dReference(x, wt, null, { padding: [1, 1] }), { rtol: 1e-4, atol: 1e-4 }, "conv");
  };
  for (const [what, change] of [
    ["copy_", (w: Tensor) => w.copy_(rnd(w.shape))],
    ["fill_", (w: Tensor) => w.fill_(0.25)],
    ["an element written through .data, then _bumpVersion()", (w: Tensor) => { w.data[5] += 3; w._bumpVersion(); }],
  ] as const) {
    for (const [path, stride] of [["Winograd", 1], ["im2col", 2]] as const) {
      it(`${what} (${path} path, w=[16,16,3,3])`, () => {
        const wt = rnd([16, 16, 3, 3]);
        const args: kernels.Conv2dArgs = { padding: [1, 1], stride: [stride, stride] };
        const before = kernels.conv2d(x, wt, null, args);
        expectClose(before, kernels.conv2dReference(x, wt, null, args), { rtol: 1e-4, atol: 1e-4 }, "before");
        const v = wt._version;
        change(wt);
        expect(wt._version).toBeGreaterThan(v);
        const after = kernels.conv2d(x, wt, null, args);
        expectClose(after, kernels.conv2dReference(x, wt, null, args), { rtol: 1e-4, atol: 1e-4 }, "after");
        if (stride === 1) expectRef(after, wt);
      });
    }
  }
});

describe("wasm: strided im2col on wide rows (the vector path for stride 2) matches the reference", () => {
  for (const [cin, w, k, p, d] of [[3, 37, 7, 3, 1], [4, 40, 3, 1, 2], [2, 33, 1, 0, 1], [3, 21, 5, 0, 1], [8, 64, 3, 1, 1]] as const) {
    it(`x=[2,${cin},9,${w}] k=${k} s=2 p=${p} d=${d}`, () => {
      const x = rnd([2, cin, 9, w]);
      const wt = rnd([5, cin, k, k]);
      const args: kernels.Conv2dArgs = { stride: [2, 2], padding: [p, p], dilation: [d, d] };
      expect(kernels.getBackend()).toBe("wasm");
      const y = kernels.conv2d(x, wt, null, args);
      const ref = kernels.conv2dReference(x, wt, null, args);
      const bound = kernels.conv2dReference(abs(x), abs(wt), null, args);
      expectGemmClose("wasm", y.data, ref.data, bound.data, cin * k * k, ref.shape[1], ref.numel());
    });
  }
});

describe("wasm: a 1x1 convolution reads an arena input in place as B, with the copied path's bits", () => {
  // [cout, cin, h, w, groups, bias, BatchNorm epilogue]: odd sizes, panels split by rows and by columns.
  const shapes = [[5, 3, 7, 9, 1, false, false], [40, 24, 28, 28, 1, false, true], [96, 16, 13, 11, 1, true, false], [12, 8, 5, 7, 2, false, true], [160, 480, 7, 7, 1, false, true]] as const;
  for (const [cout, cin, h, w, groups, withBias, withBn] of shapes) {
    it(`x=[1,${cin},${h},${w}] w=[${cout},${cin / groups},1,1] groups=${groups}${withBias ? " bias" : ""}${withBn ? " +BN epilogue" : ""}`, () => {
      const x = rnd([1, cin, h, w]);
      const wt = rnd([cout, cin / groups, 1, 1]);
      const bias = withBias ? rnd([cout]) : null;
      const epilogue = withBn ? { scale: Float64Array.from({ length: cout }, (_, i) => 0.5 + i / cout), shift: Float64Array.from({ length: cout }, (_, i) => i / 7 - 1), relu: true, residual: null } : null;
      const args: kernels.Conv2dArgs = { groups };
      expect(kernels.getBackend()).toBe("wasm");
      const copied = kernels.conv2d(x, wt, bias, args, epilogue);
      const buf = arena.acquire(x.numel());
      buf.set(x.data);
      expect(arena.wasmAddress(buf)).toBeGreaterThanOrEqual(0);
      try {
        const inPlace = kernels.conv2d(new Tensor(buf, x.shape), wt, bias, args, epilogue);
        expect(Array.from(buf)).toEqual(Array.from(x.data)); // the input is only read
        expect(new Uint32Array(inPlace.data.slice().buffer)).toEqual(new Uint32Array(copied.data.slice().buffer));
      } finally {
        arena.release(buf);
      }
      if (!withBn) {
        const ref = kernels.conv2dReference(x, wt, bias, args);
        const bound = kernels.conv2dReference(abs(x), abs(wt), bias && abs(bias), args);
        expectGemmClose("wasm", copied.data, ref.data, bound.data, cin / groups, cout, h * w);
      }
    });
  }
});

describe("wasm: the GEMM's epilogue adds a residual (BatchNorm → add → ReLU) with the separate steps' bits", () => {
  // [cout, cin, h, w, k, stride]: 1x1 (direct) and strided (im2col) convolutions; odd sizes; more
  // rows than columns (threads split rows) and fewer (threads split columns).
  const shapes = [[5, 3, 7, 9, 1, 1], [40, 24, 28, 28, 1, 1], [96, 16, 5, 7, 3, 2], [200, 32, 7, 7, 1, 1], [12, 8, 13, 11, 1, 2]] as const;
  for (const [cout, cin, h, w, k, stride] of shapes) {
    for (const [relu, inArena] of [[true, false], [false, true], [true, true]] as const) {
      it(`x=[1,${cin},${h},${w}] w=[${cout},${cin},${k},${k}] s=${stride}${relu ? " +ReLU" : ""}${inArena ? ", residual and output in the arena" : ""}`, () => {
        const x = rnd([1, cin, h, w]);
        const wt = rnd([cout, cin, k, k]);
        const args: kernels.Conv2dArgs = { stride: [stride, stride], padding: [k >> 1, k >> 1] };
        const scale = Float64Array.from({ length: cout }, (_, i) => 0.5 + i / cout);
        const shift = Float64Array.from({ length: cout }, (_, i) => i / 7 - 1);
        const plainOut = kernels.conv2d(x, wt, null, args);
        const n = plainOut.numel(), P = n / cout;
        const res = rnd([n]).data as Float32Array;
        const want = new Float32Array(n);
        for (let i = 0; i < n; i++) {
          const c = Math.floor(i / P);
          const v = Math.fround(Math.fround(plainOut.data[i] * scale[c] + shift[c]) + res[i]);
          want[i] = relu && v < 0 ? 0 : v;
        }
        const residual = inArena ? arena.acquire(n) : res;
        const out = inArena ? arena.acquire(n) : null;
        try {
          if (inArena) residual.set(res);
          const y = kernels.conv2d(x, wt, null, args, { scale, shift, relu, residual }, out);
          expect(new Uint32Array(y.data.slice().buffer)).toEqual(new Uint32Array(want.buffer));
          expect(Array.from(residual)).toEqual(Array.from(res));
        } finally {
          if (inArena) {
            arena.release(residual);
            arena.release(out!);
          }
        }
      });
    }
  }
});

describe("wasm: a convolution with one output pixel (matrix-vector product) has the GEMM's bits", () => {
  // [cin, cout, k, h, pad, bias]: K below, at and above one 256-block; cout not a multiple of 4; a 3x3 window on a 3x3 and a (padded) 1x1 input.
  const cases = [[16, 4, 1, 1, 0, true], [240, 61, 1, 1, 0, true], [672, 168, 1, 1, 0, true], [168, 672, 1, 1, 0, false], [513, 7, 1, 1, 0, true], [8, 5, 3, 3, 0, true], [6, 9, 3, 1, 1, false]] as const;
  for (const [cin, cout, k, h, pad, withBias] of cases) {
    it(`x=[1,${cin},${h},${h}] w=[${cout},${cin},${k},${k}] p=${pad}${withBias ? " bias" : ""}`, () => {
      const x = rnd([1, cin, h, h]);
      const wt = rnd([cout, cin, k, k]);
      const bias = withBias ? rnd([cout]) : null;
      const args: kernels.Conv2dArgs = { padding: [pad, pad] };
      const y = kernels.conv2d(x, wt, bias, args);
      expect(y.shape).toEqual([1, cout, 1, 1]);
      // The same pixel as the first column of a two-pixel GEMM: the input repeated along W (no padding).
      if (pad === 0) {
        const x2 = new Tensor(new Float32Array(cin * h * (2 * h)), [1, cin, h, 2 * h]);
        for (let c = 0; c < cin; c++) for (let r = 0; r < h; r++) for (let q = 0; q < 2 * h; q++) x2.data[(c * h + r) * 2 * h + q] = x.data[(c * h + r) * h + (q % h)];
        const y2 = kernels.conv2d(x2, wt, bias, { stride: [1, h] });
        expect(y2.shape[3]).toBe(2);
        const first = Float32Array.from({ length: cout }, (_, c) => y2.data[c * 2]);
        expect(new Uint32Array(y.data.slice().buffer)).toEqual(new Uint32Array(first.buffer));
      }
      const ref = kernels.conv2dReference(x, wt, bias, args);
      const bound = kernels.conv2dReference(abs(x), abs(wt), bias && abs(bias), args);
      expectGemmClose("wasm", y.data, ref.data, bound.data, cin * k * k, cout, 1);
    });
  }
});

describe("wasm: linear (weight resident and packed) matches the reference and follows weight changes", () => {
  for (const [rows, inF, outF] of [[1, 512, 1000], [5, 300, 70], [2, 3, 3000]] as const) {
    it(`x=[${rows},${inF}] W=[${outF},${inF}]`, () => {
      const x = rnd([rows, inF]);
      const w = rnd([outF, inF]);
      const check = (): void => {
        const y = kernels.linear(x, w, null);
        const ref = kernels.sgemmReference(rows, outF, inF, { data: x.data, offset: 0, rowStride: inF, colStride: 1 }, { data: w.data, offset: 0, rowStride: 1, colStride: inF });
        const bound = kernels.sgemmReference(rows, outF, inF, { data: abs(x).data, offset: 0, rowStride: inF, colStride: 1 }, { data: abs(w).data, offset: 0, rowStride: 1, colStride: inF });
        expectGemmClose("wasm", y.data, ref, bound, inF, rows, outF);
      };
      check();
      w.copy_(rnd([outF, inF]));
      check();
    });
  }
});

describe("wasm: the Winograd filter transform kernel gives the JS transform's bits, packed", () => {
  for (const [cout, cin] of [[16, 16], [21, 300], [64, 64], [3, 5]] as const) {
    it(`w=[${cout},${cin},3,3]`, async () => {
      const { _winogradFilterPackedWasm, packWinogradFilter } = await import("../src/tensor/winograd.js");
      const { packedSize, wasmGemm } = await import("../src/tensor/wasm/gemm.js");
      const w = rnd([cout, cin, 3, 3]);
      w.data[7] = -0;
      w.data[8] = 3e38;
      const xiFloats = packedSize(cout, cin);
      const js = new Float32Array(16 * xiFloats).fill(NaN);
      packWinogradFilter(w.data, cout, cin, js, 0, xiFloats);
      const wasm = _winogradFilterPackedWasm(wasmGemm()!, w.data, cout, cin);
      expect(Buffer.from(wasm.buffer).equals(Buffer.from(js.buffer))).toBe(true);
    });
  }
});

/**
 * Non-finite values as a direct sum gives them (PyTorch's behaviour): Winograd's transforms
 * subtract, so without care one +Inf pixel becomes NaN tiles and ±3e38 overflows in the sums.
 * Every ±Inf/NaN of the output must sit where the reference has the same value, finite outputs
 * within the Winograd tolerance above.
 */
describe("wasm: Winograd keeps the direct convolution's non-finite pattern (Inf, NaN, ±3e38)", () => {
  const cls = (v: number): string => (Number.isNaN(v) ? "NaN" : v === Infinity ? "+Inf" : v === -Infinity ? "-Inf" : "finite");
  function expectSamePattern(y: Tensor, x: Tensor, wt: Tensor, args: kernels.Conv2dArgs): void {
    const ref = kernels.conv2dReference(x, wt, null, args);
    const bound = kernels.conv2dReference(abs(x), abs(wt), null, args);
    const extra = 4 * Math.sqrt(9 * x.shape[1]) * 2 ** -24;
    for (let i = 0; i < ref.numel(); i++) {
      const r = ref.data[i], v = y.data[i];
      if (cls(r) !== "finite" || cls(v) !== "finite") {
        if (cls(v) !== cls(r)) throw new Error(`element ${i}: ${v} where the direct sum gives ${r}`);
        continue;
      }
      const tol = 1e-5 + 1e-5 * Math.abs(r) + extra * bound.data[i];
      if (!(Math.abs(v - r) <= tol)) throw new Error(`element ${i}: ${v} vs ${r} (tol ${tol})`);
    }
  }
  const uniform = (shape: number[], scale: number): Tensor => {
    const t = kernels.rand(shape, gen);
    for (let i = 0; i < t.data.length; i++) t.data[i] = (2 * t.data[i] - 1) * scale;
    return t;
  };
  /** `count` positions of `t` set to `values[k % values.length]`, on a grid `spacing` apart in H and W. */
  const plant = (t: Tensor, values: number[], spacing: number): Tensor => {
    const [, c, h, w] = t.shape.length === 4 ? t.shape : [1, ...t.shape];
    let k = 0;
    for (let y = 1; y < h; y += spacing) {
      for (let xx = 1; xx < w; xx += spacing) {
        const ch = (y * 7 + xx * 3) % c;
        t.data[(ch * h + y) * w + xx] = values[k++ % values.length];
      }
    }
    t._bumpVersion();
    return t;
  };
  const conv = (x: Tensor, wt: Tensor, args: kernels.Conv2dArgs, inArena: boolean): Tensor => {
    const previous = kernels.getBackend();
    kernels.setBackend("wasm");
    try {
      expect(kernels.winogradApplies(x.shape[1], wt.shape[0], 3, 3, 1, 1, 1, 1, 1)).toBe(kernels.getWinograd());
      if (!inArena) return kernels.conv2d(x, wt, null, args);
      const buf = arena.acquire(x.numel());
      buf.set(x.data);
      expect(arena.wasmAddress(buf)).toBeGreaterThanOrEqual(0);
      try {
        return kernels.conv2d(new Tensor(buf, x.shape), wt, null, args);
      } finally {
        arena.release(buf);
      }
    } finally {
      kernels.setBackend(previous);
    }
  };
  const cases: [string, () => [Tensor, Tensor]][] = [
    ["one +Inf input pixel", () => [plant(uniform([1, 16, 9, 9], 1), [Infinity], 99), uniform([16, 16, 3, 3], 0.2)]],
    ["±Inf input pixels 3 apart", () => [plant(uniform([1, 16, 11, 10], 1), [Infinity, -Infinity], 3), uniform([20, 16, 3, 3], 0.2)]],
    ["NaN input pixels", () => [plant(uniform([2, 16, 8, 8], 1), [NaN], 5), uniform([16, 16, 3, 3], 0.2)]],
    ["±3e38 input pixels 3 apart (finite direct sums)", () => [plant(uniform([1, 16, 12, 12], 1), [3e38, -3e38], 3), uniform([16, 16, 3, 3], 0.05)]],
    ["an Inf weight", () => [uniform([1, 16, 8, 8], 1), plant(uniform([16, 16, 3, 3], 0.2), [Infinity], 99)]],
    ["a NaN weight", () => [uniform([1, 16, 8, 8], 1), plant(uniform([16, 16, 3, 3], 0.2), [NaN], 99)]],
    ["±3e38 weights, one per output channel (finite direct sums)", () => {
      const wt = uniform([16, 16, 3, 3], 0.2);
      for (let co = 0; co < 16; co += 2) wt.data[((co * 16 + ((co * 5) % 16)) * 3 + 1) * 3 + (co % 3)] = co % 4 ? 3e38 : -3e38;
      return [uniform([1, 16, 8, 8], 0.5), wt._bumpVersion()];
    }],
  ];
  for (const [what, make] of cases) {
    for (const inArena of [false, true]) {
      it(`x=[.,16,.,.] w=[.,16,3,3] p=1, ${what}${inArena ? ", input in the arena (WASM scan)" : ""}`, () => {
        const [x, wt] = make();
        const args: kernels.Conv2dArgs = { padding: [1, 1] };
        expectSamePattern(conv(x, wt, args, inArena), x, wt, args);
      });
    }
  }
  it("ordinary inputs keep taking the Winograd path (its bits differ from im2col's)", () => {
    const x = uniform([1, 16, 8, 8], 1), wt = uniform([16, 16, 3, 3], 0.2);
    const args: kernels.Conv2dArgs = { padding: [1, 1] };
    const wino = conv(x, wt, args, false);
    kernels.setWinograd(false);
    let gemm: Tensor;
    try {
      gemm = conv(x, wt, args, false);
    } finally {
      kernels.setWinograd(true);
    }
    expect(Buffer.from(wino.data.buffer).equals(Buffer.from(gemm.data.buffer))).toBe(false);
    expectSamePattern(wino, x, wt, args);
  });
});

describe("setNumThreads: PyTorch's errors, clamped to the machine's cores, shrinking frees workers", () => {
  it("0, -1, 1.5 and '2' are refused with PyTorch's texts", () => {
    expect(() => kernels.setNumThreads(0)).toThrow(new RuntimeError("set_num_threads expects a positive integer"));
    expect(() => kernels.setNumThreads(-1)).toThrow(new RuntimeError("set_num_threads expects a positive integer"));
    expect(() => kernels.setNumThreads(1.5)).toThrow(new RuntimeError("set_num_threads expects an int, but got float"));
    expect(() => kernels.setNumThreads("2" as any)).toThrow(/expects an int, but got str/);
  });
  it("setNumThreads(200) uses the machine's cores (one warning), and setNumThreads(1) terminates every worker", async () => {
    const { MAX_THREADS, _workers } = await import("../src/tensor/wasm/threads.js");
    const previous = kernels.getNumThreads();
    const previousBackend = kernels.getBackend();
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on("warning", onWarning);
    try {
      kernels.setNumThreads(200);
      kernels.setNumThreads(300);
      expect(kernels.getNumThreads()).toBe(MAX_THREADS);
      // A 3x3 convolution big enough to be split over the threads starts the pool.
      kernels.setBackend("wasm");
      kernels.conv2d(rnd([1, 64, 30, 30]), rnd([64, 64, 3, 3]), null, { padding: [1, 1] });
      const started = _workers();
      expect(started.length).toBeLessThanOrEqual(MAX_THREADS - 1);
      const exited = started.map((w) => new Promise<number>((done) => w.once("exit", done)));
      kernels.setNumThreads(1);
      expect(_workers()).toEqual([]);
      await Promise.all(exited);
      await new Promise((done) => setImmediate(done));
      expect(warnings.filter((m) => m.includes("setNumThreads")).length).toBeLessThanOrEqual(1);
    } finally {
      process.off("warning", onWarning);
      kernels.setNumThreads(Math.min(previous, MAX_THREADS));
      kernels.setBackend(previousBackend);
    }
  });
});

describe("runParallel: more jobs than threads", () => {
  it("64 jobs of the max-abs kernel on 2 threads: one worker, every job done", async () => {
    const threads = await import("../src/tensor/wasm/threads.js");
    const { ensureMemory, wasmGemm } = await import("../src/tensor/wasm/gemm.js");
    const { residentEnd } = await import("../src/tensor/wasm/resident.js");
    const w = wasmGemm();
    if (!w || !w.shared || threads.MAX_THREADS < 2) return;
    const previous = kernels.getNumThreads();
    try {
      kernels.setNumThreads(2);
      const at = Math.ceil(residentEnd() / 64) * 64;
      ensureMemory(w, at + 64 + 64 * 16 + 64 * 16 * 4);
      const mem = new Float32Array(w.memory.buffer);
      // Job t reads 16 floats all equal to -(t + 1) and writes their lane-wise max |x|.
      const x = at + 64;
      for (let t = 0; t < 64; t++) mem.fill(-(t + 1), x / 4 + 16 * t, x / 4 + 16 * t + 16);
      const out = x + 64 * 16 * 4;
      threads.runParallel(w, Array.from({ length: 64 }, (_, t) => [x + 64 * t, 16, out + 16 * t]), "maxAbs");
      expect(threads._workers().length).toBe(1);
      const got = Array.from({ length: 64 }, (_, t) => new Float32Array(w.memory.buffer, out + 16 * t, 4)[0]);
      expect(got).toEqual(Array.from({ length: 64 }, (_, t) => t + 1));
    } finally {
      kernels.setNumThreads(Math.min(previous, threads.MAX_THREADS));
    }
  });
});

describe("setNumThreads: shrinking gives the workers' memory back", () => {
  it("4 workers (started directly, past the clamp) raise RSS; setNumThreads(1) terminates them and RSS falls back", async () => {
    const threads = await import("../src/tensor/wasm/threads.js");
    const { wasmGemm } = await import("../src/tensor/wasm/gemm.js");
    const w = wasmGemm();
    if (!w || !w.shared) return;
    const previous = kernels.getNumThreads();
    const rss = (): number => process.memoryUsage().rss / 2 ** 20;
    try {
      kernels.setNumThreads(1);
      const before = rss();
      // Asking the pool for five threads starts four workers (each instantiates the kernels over
      // the shared memory). Calls never do this: they use at most getNumThreads() threads.
      threads.workers(w, 5);
      const started = threads._workers();
      expect(started.length).toBe(4);
      for (let waited = 0; waited < 5000 && rss() - before <= 8; waited += 50) await new Promise((done) => setTimeout(done, 50));
      const during = rss();
      const exited = started.map((wk) => new Promise((done) => wk.once("exit", done)));
      kernels.setNumThreads(1);
      await Promise.all(exited);
      await new Promise((done) => setTimeout(done, 200));
      const after = rss();
      expect(threads._workers()).toEqual([]);
      // Measured: about +30 MB for four workers, all of it back after the shrink.
      expect(during - before).toBeGreaterThan(8);
      expect(after).toBeLessThan(before + (during - before) / 2);
    } finally {
      kernels.setNumThreads(Math.min(previous, threads.MAX_THREADS));
    }
  });
});

describe("kernels refuse operands whose .data no longer fits the tensor", () => {
  it("conv2d x=[1,3,5,5] w=[4,3,3,3] with w.data of 3 floats; linear with a bias of 5 for 4 outputs", () => {
    const w = rnd([4, 3, 3, 3]);
    w.data = new Float32Array(3);
    expect(() => kernels.conv2d(rnd([1, 3, 5, 5]), w, null)).toThrow(new RuntimeError("conv2d: weight: data has 3 elements but shape [4, 3, 3, 3] needs 108"));
    expect(() => kernels.linear(rnd([2, 3]), rnd([4, 3]), rnd([5]))).toThrow(/linear: bias of shape \[5\] for a weight of shape \[4, 3\]/);
    const x = rnd([2, 3]);
    (x as any).data = [1, 2, 3, 4, 5, 6];
    expect(() => kernels.linear(x, rnd([4, 3]), null)).toThrow(/^linear: input: /);
  });
});
