import { kernels } from "/work/main/src/index.js";
kernels.setNumThreads(Number(process.argv[2] ?? 2));
for (const [n, c, s] of [[1, 512, 7], [8, 512, 4], [1, 256, 14], [8, 256, 8], [1, 128, 28], [1, 64, 56]]) {
  const x = kernels.randn([n, c, s, s]), w = kernels.randn([c, c, 3, 3]);
  const res: Record<string, number[]> = { wino: [], im2col: [] };
  for (let r = 0; r < 15; r++) for (const on of [true, false]) {
    kernels.setWinograd(on);
    kernels.conv2d(x, w, null, { padding: [1, 1] });
    const t = performance.now();
    for (let i = 0; i < 5; i++) kernels.conv2d(x, w, null, { padding: [1, 1] });
    res[on ? "wino" : "im2col"].push((performance.now() - t) / 5);
  }
  const med = (a: number[]) => a.sort((p, q) => p - q)[7].toFixed(2);
  console.log(`n=${n} c=${c} ${s}x${s}: wino ${med(res.wino)} ms, im2col ${med(res.im2col)} ms`);
}
