/**
 * Registers every fused kernel of lib/webgpu/ on the webgpu backend (called once by `initWebgpu`, after tfjs's
 * backend exists). Each kernel's file says what it replaces and how its gradient is computed; names.ts says how
 * the model picks them up.
 */
import { registerSwiglu } from "./swiglu";
import { registerAttention } from "./attention";
import { registerMatmul } from "./matmul";
import { registerAdamW } from "./adamw";
import { registerRmsNorm } from "./rms-norm";
import { registerCrossEntropy } from "./cross-entropy";

let registered = false;

export function registerLstKernels(): void {
  if (registered) return;
  registered = true;
  registerSwiglu();
  registerAttention();
  registerMatmul();
  registerAdamW();
  registerRmsNorm();
  registerCrossEntropy();
}
