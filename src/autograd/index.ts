/**
 * `autograd` (PyTorch: `torch.autograd`): grad mode, the graph nodes and the engine. Importing it
 * adds the autograd fields to `Tensor` (`requiresGrad`, `grad`, `gradFn`, `backward()`, ...).
 */
import "./fields.js";
import { installHooks } from "./formulas.js";

installHooks();

export { noGrad, enableGrad, isGradEnabled, setGradEnabled } from "./grad_mode.js";
export { Node, AccumulateGrad, record, recording, type BackwardFn } from "./graph.js";
export { sumTo, FORMULAS } from "./formulas.js";
export { requiresGradOf } from "./fields.js";
