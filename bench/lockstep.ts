/**
 * The Fashion-MNIST recipe in lockstep, tsnn's side: the batches, flips and initial weights that
 * scripts/lockstep_fashion_mnist.py wrote (default folder bench/lockstep), the recipe's optimizer
 * and schedule, and the three loss curves side by side (tsnn, PyTorch float32, PyTorch float64),
 * with each float32 run's distance from float64.
 *
 *     node --import tsx bench/lockstep.ts [folder] [threads]
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { load, nn, optim, setNumThreads, type Tensor } from "../src/index.js";
import { resnet18 } from "../src/models/resnet.js";
import { FashionMNIST, mnistBatch } from "../src/vision/datasets.js";

const dir = process.argv[2] ?? fileURLToPath(new URL("lockstep", import.meta.url));
if (!existsSync(`${dir}/lockstep.json`)) {
  console.error(`${dir}/lockstep.json is missing: run /usr/bin/python3 scripts/lockstep_fashion_mnist.py first`);
  process.exit(1);
}
setNumThreads(Number(process.argv[3] ?? 2));
const ref = JSON.parse(readFileSync(`${dir}/lockstep.json`, "utf8")) as { torch: string; plan: { idx: number[]; flip: boolean[] }[]; float32: number[]; float64: number[] };
// The recipe's model: torchvision's resnet18 with the CIFAR stem swapped in (weights from PyTorch).
const model = resnet18({ numClasses: 10 });
model.conv1 = new nn.Conv2d(3, 64, 3, { stride: 1, padding: 1, bias: false });
model.maxpool = new nn.Identity();
model.loadStateDict(load(`${dir}/init.pth`) as Map<string, Tensor>);
const ds = new FashionMNIST("/usr/share/datasets/fashion-mnist");
const opt = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
const sched = new optim.lrScheduler.OneCycleLR(opt, 0.1, { totalSteps: ref.plan.length });
model.train();
console.log(`| step | lr | tsnn | PyTorch ${ref.torch} float32 | float64 | tsnn − float64 | PyTorch float32 − float64 |`);
console.log("|---|---|---|---|---|---|---|");
ref.plan.forEach((p, s) => {
  let k = 0;
  // The step's flips as the plan has them (mnistBatch flips an image when random() < flipP).
  const generator = { random: (): number => (p.flip[k++] ? 0 : 1) } as unknown as NonNullable<Parameters<typeof mnistBatch>[2]>["generator"];
  const { input, target } = mnistBatch(ds, p.idx, { flipP: 0.5, generator });
  const lr = opt.paramGroups[0].lr;
  opt.zeroGrad();
  const loss = nn.functional.crossEntropy(model.call(input) as Tensor, target);
  loss.backward();
  opt.step();
  sched.step();
  const l = loss.item();
  const d = (v: number): string => (v >= 0 ? "+" : "") + v.toFixed(4);
  console.log(`| ${s + 1} | ${lr.toFixed(4)} | ${l.toFixed(4)} | ${ref.float32[s].toFixed(4)} | ${ref.float64[s].toFixed(4)} | ${d(l - ref.float64[s])} | ${d(ref.float32[s] - ref.float64[s])} |`);
});
