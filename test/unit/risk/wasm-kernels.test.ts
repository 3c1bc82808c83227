import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '#lib/prng.js';
import { KERNEL_MEMORY_MIN_ELEMENTS, kernelMemoryOf, placeInKernelMemory } from '#lib/risk/kernel-memory.js';
import { matrixSeriesInto, symmetricTimes } from '#lib/risk/report-kernels.js';
import { REPORT_KERNELS_WASM_BASE64 } from '#lib/risk/wasm/report-kernels.wasm.js';
import { assembleReportKernels } from '#tools/build-wasm.js';

// The SIMD kernels against the JS loops of report-kernels.ts and against the plain definitions
// (Σw = Σⱼ Σᵢⱼ·wⱼ, series = Σᵢ wᵢ·rᵢ,·), on seeded random inputs of every shape the unrolled
// loops treat differently: n not a multiple of 4, odd t, zero and negative weights.

/** A random symmetric n×n matrix (symmetry is all the kernel relies on) and an n×t matrix. */
function inputsOf(seed: number, n: number, t: number) {
  const rand = mulberry32(seed);
  const cov = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = i; j < n; j++) {
      const c = (rand() - 0.5) * 1e-3;
      cov[i * n + j] = c;
      cov[j * n + i] = c;
    }
  const returns = Float64Array.from({ length: n * t }, () => (rand() - 0.5) * 0.1);
  const w = Float64Array.from({ length: n }, () => {
    const u = rand();
    return u < 0.2 ? 0 : (u - 0.3) * 2;
  });
  return { cov, returns, w };
}

function plainSigmaTimes(cov: Float64Array, w: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i]! += cov[i * n + j]! * w[j]!;
  return out;
}

function plainSeries(m: Float64Array, w: Float64Array, n: number, t: number): Float64Array {
  const out = new Float64Array(t);
  for (let i = 0; i < n; i++) for (let k = 0; k < t; k++) out[k]! += w[i]! * m[i * t + k]!;
  return out;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, length: number, what: string) {
  for (let i = 0; i < length; i++)
    expect(
      Math.abs(actual[i]! - expected[i]!),
      `${what}[${i}]: ${actual[i]} vs ${expected[i]}`,
    ).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(expected[i]!)));
}

describe('WebAssembly report kernels', () => {
  it('ship the bytes of their WAT source (npm run build:wasm after editing the .wat)', async () => {
    const bytes = await assembleReportKernels();
    expect(Buffer.from(bytes).toString('base64')).toBe(REPORT_KERNELS_WASM_BASE64);
  }, 30_000);

  it('agree with the JS loops and the plain definitions on random inputs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: 23 }),
        fc.integer({ min: 1, max: 67 }),
        (seed, n, t) => {
          const { cov, returns, w } = inputsOf(seed, n, t);
          const placed = placeInKernelMemory(n, t, cov, returns, 0);
          const memory = kernelMemoryOf(placed.covariance);
          // Node ≥ 20 has wasm SIMD on every platform Lambda offers; a fallback here would test nothing.
          expect(memory, 'the kernels are available').toBeDefined();
          expect(kernelMemoryOf(placed.returns)).toBe(memory);
          expect(Array.from(placed.covariance!)).toEqual(Array.from(cov));
          expect(Array.from(placed.returns!)).toEqual(Array.from(returns));

          const jsSw = new Float64Array(n);
          symmetricTimes(cov, w, n, jsSw);
          const plainSw = plainSigmaTimes(cov, w, n);
          const wasmSw = memory!.sigmaTimes(w);
          expectClose(wasmSw, plainSw, n, 'wasm Σw vs plain');
          expectClose(jsSw, plainSw, n, 'JS Σw vs plain');

          const jsSeries = new Float64Array(t);
          matrixSeriesInto(returns, w, n, t, jsSeries);
          const plain = plainSeries(returns, w, n, t);
          const wasmSeries = memory!.portfolioSeries(w);
          expectClose(wasmSeries, plain, t, 'wasm series vs plain');
          expectClose(jsSeries, plain, t, 'JS series vs plain');
        },
      ),
      { numRuns: 200 },
    );
  });

  it('leave small inputs in plain arrays, and place the covariance alone when there are no returns', () => {
    const small = inputsOf(1, 4, 10);
    const kept = placeInKernelMemory(4, 10, small.cov, small.returns);
    expect(16 + 40).toBeLessThan(KERNEL_MEMORY_MIN_ELEMENTS);
    expect(kept.covariance).toBe(small.cov);
    expect(kept.returns).toBe(small.returns);
    expect(kernelMemoryOf(kept.covariance)).toBeUndefined();

    const big = inputsOf(2, 70, 3);
    const placed = placeInKernelMemory(70, 0, big.cov, null);
    expect(placed.returns).toBeNull();
    const memory = kernelMemoryOf(placed.covariance);
    expect(memory).toBeDefined();
    expectClose(memory!.sigmaTimes(big.w), plainSigmaTimes(big.cov, big.w, 70), 70, 'Σw');
  });

  it('read the arrays as they are now: a change to a placed matrix is seen by the next product', () => {
    const { cov, returns, w } = inputsOf(3, 40, 120);
    const placed = placeInKernelMemory(40, 120, cov, returns, 0);
    const memory = kernelMemoryOf(placed.returns)!;
    placed.returns![5 * 120 + 7] = 1;
    returns[5 * 120 + 7] = 1;
    expectClose(memory.portfolioSeries(w), plainSeries(returns, w, 40, 120), 120, 'series after a write');
  });
});
