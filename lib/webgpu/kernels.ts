/**
 * Registers every fused kernel of lib/webgpu/ on the webgpu backend (called once by `initWebgpu`, after tfjs's
 * backend exists). Each kernel's file says what it replaces and how its gradient is computed; names.ts says how
 * the model picks them up.
 */
import { registerSwiglu } from "./swiglu";

let registered = false;

export function registerLstKernels(): void {
  if (registered) return;
  registered = true;
  registerSwiglu();
}
