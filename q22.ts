import { resnet18 } from "/work/main/src/models/resnet.js";
import { randn } from "/work/main/src/tensor/tensor.js";
import { setNumThreads } from "/work/main/src/tensor/wasm/threads.js";
setNumThreads(2);
const size = Number(process.argv[2] ?? 224), batch = Number(process.argv[3] ?? 1);
const m: any = resnet18({ cifarStem: size === 32 } as any).eval();
const x = randn([batch, 3, size, size]);
for (let i = 0; i < 5; i++) m.call(x);
const r: Record<string, number[]> = { dynamic: [], static: [] };
for (let k = 0; k < 16; k++) for (const st of [false, true]) {
  (globalThis as any).__static = st;
  m.call(x);
  const t = performance.now();
  for (let i = 0; i < 3; i++) m.call(x);
  r[st ? "static" : "dynamic"].push((performance.now() - t) / 3);
}
for (const k in r) { const a = r[k].sort((p, q) => p - q); console.log(size, batch, k, a[8].toFixed(1)); }
