/**
 * Helper of scripts/verify_roundtrip.py (checkpoint case). In the folder it is given, for each
 * optimizer kind ("sgd", "adam"):
 * - from `init.pth` and `batch.pth`, 3 tsnn training steps, then `save(<kind>.tsnn.pth,
 *   { model, optimizer, epoch: 3 })`, then one more step: `<kind>.tsnn.step4.pth` (the model);
 * - from PyTorch's `<kind>.torch.pth` (written after 3 PyTorch steps), a fresh model and optimizer
 *   loaded with `loadCheckpoint`, one step: `<kind>.torch.step4.tsnn.pth`.
 */
import { join } from "node:path";
import { load, loadCheckpoint, nn, optim, save, type Module, type Tensor } from "../src/index.js";

const dir = process.argv[2];

/** The verify script's model: Conv2d(1,3,3) → ReLU → Flatten → Linear(48, 5). */
function model(): Module {
  return new nn.Sequential(new nn.Conv2d(1, 3, 3), new nn.ReLU(), new nn.Flatten(), new nn.Linear(48, 5));
}
function optimizer(kind: string, m: Module): optim.Optimizer {
  const params = [...m.parameters()];
  return kind === "sgd" ? new optim.SGD(params, { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 }) : new optim.Adam(params, { lr: 0.01, betas: [0.8, 0.99] });
}

const batch = load(join(dir, "batch.pth"));
const x = batch.get("x")!;
const y = batch.get("y")!;
const lossFn = new nn.CrossEntropyLoss();
function step(m: Module, opt: optim.Optimizer): void {
  opt.zeroGrad();
  const loss = lossFn.call(m.call(x), y) as Tensor;
  loss.backward();
  opt.step();
}

for (const kind of ["sgd", "adam"]) {
  const m = model();
  m.loadStateDict(load(join(dir, "init.pth")));
  const opt = optimizer(kind, m);
  for (let i = 0; i < 3; i++) step(m, opt);
  save(join(dir, `${kind}.tsnn.pth`), { model: m.stateDict(), optimizer: opt.stateDict(), epoch: 3 });
  step(m, opt);
  save(join(dir, `${kind}.tsnn.step4.pth`), m.stateDict());

  const ckpt = loadCheckpoint(join(dir, `${kind}.torch.pth`)) as { model: Map<string, Tensor>; optimizer: optim.OptimizerStateDict; epoch: number };
  const m2 = model();
  m2.loadStateDict(ckpt.model);
  const opt2 = optimizer(kind, m2);
  opt2.loadStateDict(ckpt.optimizer);
  step(m2, opt2);
  save(join(dir, `${kind}.torch.step4.tsnn.pth`), m2.stateDict());
  console.log(`${kind}: tsnn checkpoint written; PyTorch checkpoint (epoch ${ckpt.epoch}) loaded and stepped`);
}
