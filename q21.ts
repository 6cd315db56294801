import { resnet18 } from "/work/main/src/models/resnet.js";
import { randn } from "/work/main/src/tensor/tensor.js";
import { setNumThreads } from "/work/main/src/tensor/wasm/threads.js";
setNumThreads(2);
const size = Number(process.argv[2] ?? 224), batch = Number(process.argv[3] ?? 1);
const m: any = resnet18({ cifarStem: size === 32 } as any).eval();
const x = randn([batch, 3, size, size]);
for (let i = 0; i < 10; i++) m.call(x);
const ts: number[] = [];
for (let i = 0; i < 40; i++) { const t = performance.now(); m.call(x); ts.push(performance.now() - t); }
ts.sort((a, b) => a - b);
console.log(process.env.SPIN, size, batch, "median", ts[20].toFixed(1), "p10", ts[4].toFixed(1));
