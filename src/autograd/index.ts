/**
 * `autograd` (PyTorch: `torch.autograd`): grad mode, the graph nodes, the engine and the backward
 * formulas. `Tensor` carries the fields (`requiresGrad`, `grad`, `gradFn`, `backward()`, ...).
 */
import "../tensor/tensor.js";

export { noGrad, enableGrad, isGradEnabled, setGradEnabled } from "./grad_mode.js";
export { Node, AccumulateGrad, record, recording, type BackwardFn } from "./graph.js";
export { sumTo, FORMULAS, recordOp, recordInplace } from "./formulas.js";
export { requiresGradOf } from "./fields.js";
