import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '#lib/prng.js';
import { absorptionShift, correlationZScore, turbulence, type WindowShift } from '#lib/risk/index.js';
import {
  blockKernels,
  fastAbsorptionShift,
  fastCorrelationZScore,
} from '#lib/rules/market-structure-fast.js';
import { choleskyTurbulence, fastTurbulence } from '#lib/rules/turbulence-fast.js';

// The engine's market-structure kernels against lib/risk's straightforward ones: the same readings
// to 1e-12 relative (the percentile exactly), the library's own answer wherever the fast path does not
// apply (collinear or flat windows, windows the data cannot fill), and the same errors.

const normal = (rand: () => number) => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());

/** One-factor returns of n assets over t days (beta 0.2..1.4, idiosyncratic vol 0.3%..1.5%). */
function factorReturns(seed: number, n: number, t: number): Float64Array[] {
  const rand = mulberry32(seed);
  const factor = Array.from({ length: t }, () => 0.008 * normal(rand));
  return Array.from({ length: n }, () => {
    const beta = 0.2 + 1.2 * rand();
    const idio = 0.003 + 0.012 * rand();
    return Float64Array.from(factor, (f) => beta * f + idio * normal(rand));
  });
}

function close(actual: number, expected: number): boolean {
  if (Object.is(actual, expected)) return true;
  return Math.abs(actual - expected) <= 1e-12 * Math.max(Math.abs(actual), Math.abs(expected), 1e-2);
}

function expectShiftClose(actual: WindowShift, expected: WindowShift): void {
  expect(actual.blocks.length).toBe(expected.blocks.length);
  for (let b = 0; b < expected.blocks.length; b++)
    expect(close(actual.blocks[b]!, expected.blocks[b]!), `block ${b}`).toBe(true);
  expect(close(actual.short, expected.short), 'short').toBe(true);
  expect(close(actual.longMean, expected.longMean), 'longMean').toBe(true);
  // A z-score is ill-conditioned where the blocks barely vary: block values within ε·|block| of the
  // library's move it by up to ~ε·max|block|/sd, however small z itself is.
  const { blocks } = expected;
  const mean = blocks.reduce((a, b) => a + b, 0) / blocks.length;
  const sd = Math.sqrt(blocks.reduce((a, b) => a + (b - mean) ** 2, 0) / (blocks.length - 1));
  const scale = Math.max(...Array.from(blocks, Math.abs));
  const zTolerance = 1e-12 * (Math.abs(expected.zScore) + (4 * scale) / sd);
  expect(
    Object.is(actual.zScore, expected.zScore) || Math.abs(actual.zScore - expected.zScore) <= zTolerance,
    `zScore ${actual.zScore} vs ${expected.zScore} (tolerance ${zTolerance})`,
  ).toBe(true);
}

describe('fast market-structure kernels', () => {
  it('turbulence by Cholesky: the eigen pseudo-inverse reading, percentile exact', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e9 }),
        fc.integer({ min: 2, max: 25 }),
        fc.integer({ min: 30, max: 260 }),
        (seed, n, window) => {
          const returns = factorReturns(seed, n, window + 1 + (seed % 7));
          const fast = choleskyTurbulence(returns, window);
          // Well conditioned one-factor books always take the Cholesky path.
          expect(fast).toBeDefined();
          const plain = turbulence(returns, window);
          expect(close(fast!.value, plain.value), `${fast!.value} vs ${plain.value}`).toBe(true);
          expect(fast!.percentile).toBe(plain.percentile);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('turbulence of a collinear or flat window is left to the pseudo-inverse', () => {
    const returns = factorReturns(7, 4, 80);
    const collinear = [...returns, Float64Array.from(returns[0]!, (r, k) => 2 * r - returns[1]![k]!)];
    expect(choleskyTurbulence(collinear, 60)).toBeUndefined();
    expect(fastTurbulence(collinear, 60)).toEqual(turbulence(collinear, 60));
    const flat = [...returns, new Float64Array(80).fill(0.001)];
    expect(choleskyTurbulence(flat, 60)).toBeUndefined();
    expect(fastTurbulence(flat, 60)).toEqual(turbulence(flat, 60));
  });

  it('absorption shift and correlation z-score: the covariance readings, blocks shorter or longer than the book', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e9 }),
        fc.integer({ min: 2, max: 25 }),
        fc.integer({ min: 5, max: 30 }),
        fc.integer({ min: 3, max: 9 }),
        (seed, n, short, blocks) => {
          const long = short * blocks + (seed % short);
          const returns = factorReturns(seed, n, short * blocks + 3);
          const absorption = blockKernels.absorptionShift(returns, short, long);
          const correlation = blockKernels.correlationZScore(returns, short, long);
          // Top ⌈n/5⌉ eigenvectors spanning a block's whole rank: every ratio is 1 but for rounding
          // noise, which the library reads as no shift (fastAbsorptionShift gives it that case).
          if (Math.ceil(n / 5) >= Math.min(n, short - 1)) expect(absorption).toBeUndefined();
          else expectShiftClose(absorption!, absorptionShift(returns, short, long));
          expect(fastAbsorptionShift(returns, short, long)).toEqual(
            absorption ?? absorptionShift(returns, short, long),
          );
          expect(correlation).toBeDefined();
          expectShiftClose(correlation!, correlationZScore(returns, short, long));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a strategy without variance is left out of the average correlation, as the library leaves it out', () => {
    const returns = [...factorReturns(11, 5, 60), new Float64Array(60).fill(0.002)];
    expectShiftClose(blockKernels.correlationZScore(returns, 10, 60)!, correlationZScore(returns, 10, 60));
    // A book that never moves has no reading; the library's NaN stands.
    const still = [new Float64Array(60), new Float64Array(60)];
    expect(fastAbsorptionShift(still, 10, 60)).toEqual(absorptionShift(still, 10, 60));
    expect(fastCorrelationZScore(still, 10, 60)).toEqual(correlationZScore(still, 10, 60));
  });

  it('windows the data cannot fill raise the library errors', () => {
    const returns = factorReturns(3, 3, 40);
    const message = (f: () => unknown) => {
      try {
        f();
      } catch (error) {
        return error instanceof RangeError ? error.message : `not a RangeError: ${String(error)}`;
      }
      return 'no error';
    };
    for (const [s, l] of [
      [10, 20],
      [10, 60],
      [1, 30],
      [2.5, 30],
    ] as const) {
      expect(message(() => fastAbsorptionShift(returns, s, l))).toBe(
        message(() => absorptionShift(returns, s, l)),
      );
      expect(message(() => fastCorrelationZScore(returns, s, l))).toBe(
        message(() => correlationZScore(returns, s, l)),
      );
    }
    for (const w of [1, 39, 40, 2.5])
      expect(message(() => fastTurbulence(returns, w))).toBe(message(() => turbulence(returns, w)));
  });

  it('scratch buffers: a kernel after a bigger or smaller call reads exactly what it reads fresh', () => {
    // The kernels reuse module buffers; whatever an earlier call left in them must never show.
    const small = factorReturns(7, 6, 140);
    const big = factorReturns(8, 30, 300);
    const fresh = {
      turbulence: fastTurbulence(small, 120),
      absorption: fastAbsorptionShift(small, 15, 120),
      correlation: fastCorrelationZScore(small, 20, 120),
    };
    fastTurbulence(big, 250);
    fastAbsorptionShift(big, 15, 120);
    fastAbsorptionShift(big, 40, 160);
    fastCorrelationZScore(big, 20, 120);
    expect(fastTurbulence(small, 120)).toEqual(fresh.turbulence);
    expect(fastAbsorptionShift(small, 15, 120)).toEqual(fresh.absorption);
    expect(fastCorrelationZScore(small, 20, 120)).toEqual(fresh.correlation);
  });
});
