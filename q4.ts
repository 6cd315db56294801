import { resnet18 } from "/work/main/src/models/resnet.js";
import { randn } from "/work/main/src/tensor/tensor.js";
import { setNumThreads } from "/work/main/src/tensor/wasm/threads.js";
const size = Number(process.argv[2] ?? 224), batch = Number(process.argv[3] ?? 1), th = Number(process.argv[4] ?? 2);
setNumThreads(th);
const m: any = resnet18({ cifarStem: size === 32 } as any).eval();
const x = randn([batch, 3, size, size]);
for (let i = 0; i < 40; i++) m.call(x);
