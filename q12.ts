import { resnet18 } from "/work/main/src/models/resnet.js";
import { randn } from "/work/main/src/tensor/tensor.js";
import { setArena } from "/work/main/src/tensor/arena.js";
import { setNumThreads } from "/work/main/src/tensor/wasm/threads.js";
const size = Number(process.argv[2] ?? 224), batch = Number(process.argv[3] ?? 1), th = Number(process.argv[4] ?? 2);
setNumThreads(th);
const m = resnet18({ cifarStem: size === 32 } as any).eval();
const x = randn([batch, 3, size, size]);
const res: Record<string, number[]> = { arena: [], plain: [] };
for (let r = 0; r < 12; r++) for (const on of [true, false]) {
  setArena(on);
  m.call(x);
  const t = performance.now();
  for (let i = 0; i < 3; i++) m.call(x);
  res[on ? "arena" : "plain"].push((performance.now() - t) / 3);
}
for (const k in res) { const a = res[k].sort((p, q) => p - q); console.log(size, batch, k, a[6].toFixed(1)); }
