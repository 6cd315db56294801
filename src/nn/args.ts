/**
 * Python-style argument binding for layer constructors and `nn.functional` (PyTorch's optional
 * positionals positionally or in one trailing options object). Lives in src/tensor/args.ts so
 * that tensor ops use it too; re-exported here for src/nn and above.
 */
export { bindArgs, REQUIRED, type ArgSpec } from "../tensor/args.js";
