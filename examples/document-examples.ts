/**
 * The design document's models built in TypeScript, printed exactly
 * as PyTorch prints them, then the CIFAR-style ResNet-18 run on a batch.
 */
import { manualSeed, models, nn, noGrad, randn, Tensor } from "../src/index.js";

class MyModel extends nn.Module {
  conv1 = new nn.Conv2d(3, 64, 3);
  pool = new nn.MaxPool2d(2);
}

class MyModel2 extends nn.Module {
  layer1 = new nn.Sequential(new nn.Conv2d(1, 20, 5), new nn.ReLU(), new nn.Conv2d(20, 64, 5), new nn.ReLU());
  layer2 = new nn.Sequential(
    new Map<string, nn.Module>([
      ["convolution_layer_1", new nn.Conv2d(1, 20, 5)],
      ["activation_1", new nn.ReLU()],
      ["convolution_layer_2", new nn.Conv2d(20, 64, 5)],
      ["activation_2", new nn.ReLU()],
    ]),
  );
}

console.log(new MyModel().toString());
console.log(new MyModel2().toString());

manualSeed(0);
const model = models.resnet18({ numClasses: 10, cifarStem: true }).eval();
console.log(model.toString());

const x = randn([8, 3, 32, 32]);
noGrad(() => model.call(x)); // warm-up (JIT)
const runs: number[] = [];
let y: Tensor = x;
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  y = noGrad(() => model.call(x));
  runs.push(performance.now() - t0);
}
runs.sort((a, b) => a - b);
const params = [...model.parameters()].reduce((s, p) => s + p.numel(), 0);
console.log(`\nResNet-18 (CIFAR stem, random init): ${params.toLocaleString("en-US")} parameters`);
console.log(`input [${x.shape.join(", ")}] -> logits [${y.shape.join(", ")}], predicted classes ${Array.from(y.argmax(1).data).join(" ")}`);
console.log(`median forward ${runs[1].toFixed(0)} ms for batch 8 (${((8 * 1000) / runs[1]).toFixed(1)} images/s)`);
