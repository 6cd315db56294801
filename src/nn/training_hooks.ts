/**
 * Interim autograd hooks for the modules whose forwards call kernels directly (`Conv2d`,
 * `Linear`, `BatchNorm*`): when a graph is being recorded their forward also records the
 * kernel's backward node (`ConvolutionBackward0`, `AddmmBackward0`, `NativeBatchNormBackward0`).
 * When nothing requires grad (or under `noGrad`) the original forward runs untouched, so the
 * eval fast paths are unaffected. To be replaced by one `record*` line in each forward (or each
 * kernel) by their owners; see src/autograd/nn_functions.ts.
 */
import { record, recording } from "../autograd/graph.js";
import { recordBatchNorm, recordConv2d, recordLinear } from "../autograd/nn_functions.js";
import { resolvePads } from "../tensor/conv.js";
import type { Tensor } from "../tensor/index.js";
import { BatchNormBase } from "./batchnorm.js";
import { Conv2d } from "./conv.js";
import { Linear } from "./linear.js";
import { NotImplementedError } from "../errors.js";

type Fwd = (this: any, x: Tensor) => Tensor;

const convForward = Conv2d.prototype.forward as Fwd;
Conv2d.prototype.forward = function (this: any, input: Tensor): Tensor {
  const out = convForward.call(this, input);
  if (!recording(input, this.weight, this.bias)) return out;
  if (this.paddingMode !== "zeros") {
    // The forward pads first (reflect/replicate/circular); that padding's backward is not written yet.
    record("ConvolutionBackward0", [input, this.weight, this.bias ?? null], [out], () => {
      throw new NotImplementedError(`autograd: backward of Conv2d with padding_mode='${this.paddingMode}' is not implemented yet`);
    });
    return out;
  }
  const [kh, kw] = [this.weight.shape[2], this.weight.shape[3]];
  const pads = resolvePads(this.padding, [kh, kw], this.dilation);
  recordConv2d(input, this.weight, this.bias ?? null, { stride: this.stride, pads, dilation: this.dilation, groups: this.groups }, out);
  return out;
};

const linearForward = Linear.prototype.forward as Fwd;
Linear.prototype.forward = function (this: any, input: Tensor): Tensor {
  const out = linearForward.call(this, input);
  if (recording(input, this.weight, this.bias)) recordLinear(input, this.weight, this.bias ?? null, out);
  return out;
};

const bnForward = BatchNormBase.prototype.forward as Fwd;
BatchNormBase.prototype.forward = function (this: any, input: Tensor): Tensor {
  if (!recording(input, this.weight, this.bias)) return bnForward.call(this, input);
  const useBatchStats = this.training || (this.running_mean === null && this.running_var === null);
  const running = useBatchStats ? null : { mean: Float32Array.from(this.running_mean.data), var: Float32Array.from(this.running_var.data) };
  const out = bnForward.call(this, input);
  recordBatchNorm(input, this.weight ?? null, this.bias ?? null, running, this.eps, out);
  return out;
};
