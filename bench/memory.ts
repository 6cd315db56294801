/**
 * `npm run bench:memory`: RSS over 1,000 consecutive forwards (ResNet-18 CIFAR variant, batch 1,
 * default threads), sampled every 100; growth after warm-up indicates a leak.
 */
import { models, noGrad, randn } from "../src/index.js";

const m = models.resnet18({ numClasses: 10, cifarStem: true }).eval();
const x = randn([1, 3, 32, 32]);
const mb = (): number => process.memoryUsage().rss / 1e6;
for (let i = 0; i < 20; i++) noGrad(() => m.call(x));
const samples: number[] = [];
const t0 = performance.now();
for (let i = 1; i <= 1000; i++) {
  noGrad(() => m.call(x));
  if (i % 100 === 0) samples.push(mb());
}
const secs = (performance.now() - t0) / 1000;
console.log(`RSS (MB) every 100 forwards: ${samples.map((s) => s.toFixed(0)).join(" ")}`);
console.log(`after warm-up ${samples[0].toFixed(0)} MB, after 1,000 forwards ${samples.at(-1)!.toFixed(0)} MB, peak RSS ${((process.resourceUsage().maxRSS * 1024) / 1e6).toFixed(0)} MB, ${(1000 / secs).toFixed(1)} forwards/s`);
