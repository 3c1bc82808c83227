/**
 * Scratch buffers for the engine's market-structure kernels, reused across calls (grown, never
 * shrunk): a fresh zero-filled typed array per window and block was a sixth of the kernels' time and
 * much of the evaluation's garbage. Every kernel writes each entry it reads before reading it, so
 * what a previous call left is never seen; JS runs one kernel at a time, so no two calls share a
 * buffer at once.
 */
export function scratchBuffers(): (slot: number, length: number) => Float64Array {
  const scratch: Float64Array[] = [];
  /** The scratch buffer in `slot`, at least `length` long (only its first `length` entries are meaningful). */
  return (slot, length) => {
    let b = scratch[slot];
    if (b === undefined || b.length < length) {
      b = new Float64Array(length);
      scratch[slot] = b;
    }
    return b;
  };
}
