import v8 from "node:v8";
if (process.argv[2] === "fma") v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
const { buildKernels, gemmLayout, ensureMemory } = await import("/work/main/src/tensor/wasm/gemm.js");
const w = buildKernels()!;
console.log("fma", w.fma);
for (const [M, N, K] of [[64, 2048, 64], [256, 1024, 1152], [512, 16, 512], [128, 512, 128]]) {
  const L = gemmLayout(M, N, K, M * K, K * N);
  ensureMemory(w, L.end);
  const mem = new Float32Array(w.memory.buffer);
  for (let i = 0; i < (L.end - L.a) / 4; i++) mem[L.a / 4 + i] = Math.random();
  const { pa, pb, spill } = L.scratch[0];
  const gs: number[] = [];
  for (let rep = 0; rep < 9; rep++) {
    const reps = Math.max(2, Math.round(3e8 / (2 * M * N * K)));
    const t = performance.now();
    for (let i = 0; i < reps; i++) w.gemm(M, N, K, L.a, K, L.b, N, 1, L.c, N, pa, pb, spill, 0, 0);
    gs.push(2 * M * N * K * reps / (performance.now() - t) / 1e6);
  }
  gs.sort((a, b) => a - b);
  console.log(`${M}x${N}x${K}`, gs[4].toFixed(1));
}
