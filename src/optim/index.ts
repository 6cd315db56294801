/**
 * `optim`: optimizers and learning-rate schedulers (PyTorch: `torch.optim`).
 */
export { Optimizer, type ParamGroup, type ParamGroupInput, type ParamState, type OptimizerStateDict } from "./optimizer.js";
export { SGD, type SGDOptions } from "./sgd.js";
export { Adam, AdamW, type AdamOptions } from "./adam.js";
export { RMSprop, type RMSpropOptions } from "./rmsprop.js";
/** Learning-rate schedulers (PyTorch: `torch.optim.lr_scheduler`). */
export * as lrScheduler from "./lr_scheduler.js";
