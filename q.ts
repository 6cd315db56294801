import { resnet18 } from "/work/main/src/models/resnet.js";
import { randn } from "/work/main/src/tensor/tensor.js";
import { setWinograd } from "/work/main/src/tensor/winograd.js";
import { setNumThreads } from "/work/main/src/tensor/wasm/threads.js";
const size = Number(process.argv[2] ?? 224), batch = Number(process.argv[3] ?? 1), th = Number(process.argv[4] ?? 2);
setNumThreads(th);
const m = resnet18({ cifarStem: size === 32 } as any).eval();
const x = randn([batch, 3, size, size]);
for (const on of [false, true, false, true]) {
  setWinograd(on);
  for (let i = 0; i < 3; i++) m.call(x);
  const ts: number[] = [];
  for (let i = 0; i < 15; i++) { const t = performance.now(); m.call(x); ts.push(performance.now() - t); }
  ts.sort((a, b) => a - b);
  console.log(size, batch, th, on ? "wino" : "im2col", ts[7].toFixed(1), "ms");
}
