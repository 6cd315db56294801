import { buildKernels, gemmLayout, ensureMemory } from "/work/main/src/tensor/wasm/gemm.js";
const variants: [string, any][] = [["base", {}], ["splat", { loadSplat: true }], ["unroll2", { unroll: 2 }], ["both", { unroll: 2, loadSplat: true }], ["u4", { unroll: 4, loadSplat: true }]];
const ks = variants.map(([n, o]) => [n, buildKernels(o)!] as const);
const shapes = [[64, 2048, 64], [256, 1024, 1152], [512, 16, 512], [128, 512, 128]];
const res = new Map<string, number[]>();
for (let rep = 0; rep < 9; rep++) {
  for (const [M, N, K] of shapes) {
    for (const [name, w] of ks) {
      const L = gemmLayout(M, N, K, M * K, K * N);
      ensureMemory(w, L.end);
      const mem = new Float32Array(w.memory.buffer);
      for (let i = 0; i < (L.end - L.a) / 4; i++) mem[L.a / 4 + i] = Math.random();
      const { pa, pb, spill } = L.scratch[0];
      const reps = Math.max(2, Math.round(3e8 / (2 * M * N * K)));
      const t = performance.now();
      for (let i = 0; i < reps; i++) w.gemm(M, N, K, L.a, K, L.b, N, 1, L.c, N, pa, pb, spill, 0, 0);
      const g = 2 * M * N * K * reps / (performance.now() - t) / 1e6;
      const key = `${M}x${N}x${K} ${name}`;
      res.set(key, [...(res.get(key) ?? []), g]);
    }
  }
}
for (const [k, v] of res) { v.sort((a, b) => a - b); console.log(k.padEnd(24), v[4].toFixed(1)); }
