import { resnet18 } from "/work/main/src/models/resnet.js";
import { randn } from "/work/main/src/tensor/tensor.js";
import { setNumThreads } from "/work/main/src/tensor/wasm/threads.js";
const size = Number(process.argv[2] ?? 224), batch = Number(process.argv[3] ?? 1), th = Number(process.argv[4] ?? 2);
setNumThreads(th);
const m: any = resnet18({ cifarStem: size === 32 } as any).eval();
const x = randn([batch, 3, size, size]);
for (let i = 0; i < 5; i++) m.call(x);
const acc = new Map<string, number[]>();
(globalThis as any).__tp = (k: string, a: number, b: number, job: number[]) => { const key = k + (k === "winoGemm" ? ":" + job[1] + "x" + job[2] + "x" + job[3] : k==="gemmAffine"||k==="gemm" ? ":" + job[0]+"x"+job[1]+"x"+job[2] : ""); const v = acc.get(key) ?? [0, 0, 0]; v[0] += a; v[1] += b; v[2]++; acc.set(key, v); };
const N = 20; let tot = 0;
for (let i = 0; i < N; i++) { const t = performance.now(); m.call(x); tot += performance.now() - t; }
console.log("forward", (tot / N).toFixed(1));
let s = 0;
for (const [k, v] of acc) { console.log(k.padEnd(28), "main", (v[0] / N).toFixed(2), "wait", (v[1] / N).toFixed(2), "calls", v[2] / N); s += (v[0] + v[1]) / N; }
console.log("parallel total", s.toFixed(1));
