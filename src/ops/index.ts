/**
 * `ops`: torchvision's building blocks (PyTorch: `torchvision.ops`), shared by the model families.
 */
export {
  Conv2dNormActivation,
  SqueezeExcitation,
  MLP,
  Permute,
  makeLayer,
  type LayerFactory,
  type PositionalOrOptions,
  type Conv2dNormActivationArgs,
  type Conv2dNormActivationOptions,
  type SqueezeExcitationOptions,
  type MLPOptions,
} from "./misc.js";
export { StochasticDepth, stochasticDepth, type StochasticDepthMode } from "./stochastic_depth.js";
