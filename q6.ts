import { kernels } from "/work/main/src/index.js";
kernels.setNumThreads(1);
for (const [M, N, K] of [[64, 2048, 64], [256, 1024, 1152], [512, 16, 512], [64, 784, 64]]) {
  const A = kernels.randn([M, K]), B = kernels.randn([K, N]); const C = new Float32Array(M * N);
  const va = { data: A.data, offset: 0, rowStride: K, colStride: 1 }, vb = { data: B.data, offset: 0, rowStride: N, colStride: 1 };
  const reps = Math.max(3, Math.round(2e9 / (2 * M * N * K)));
  const ts: number[] = [];
  for (let r = 0; r < 7; r++) { const t = performance.now(); for (let i = 0; i < reps; i++) kernels.sgemm(M, N, K, va, vb, C, 0, N); ts.push((performance.now() - t) / reps); }
  ts.sort((a, b) => a - b);
  console.log(`${M}x${N}x${K}`, (2 * M * N * K / ts[3] / 1e6).toFixed(1), "GFLOP/s");
}
