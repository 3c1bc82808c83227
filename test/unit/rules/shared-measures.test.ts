import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateRuleSet } from '#lib/engine/evaluate.js';
import { drawdown, historicalTail, moments } from '#lib/risk/index.js';
import { measureRule } from '#lib/rules/kinds/index.js';
import type { Rule } from '#lib/rules/rule-schema.js';
import { PlainMeasures, SharedMeasures } from '#lib/rules/shared-measures.js';
import { ruleSet } from '../engine/harness.js';
import { input, snapshot } from './fixtures.js';

// The evaluation-wide cache must give exactly what the plain functions give, and an evaluation that
// shares work must decide exactly as rules measured one by one.

const seriesArb = fc.array(fc.double({ min: -0.2, max: 0.2, noNaN: true }), { minLength: 1, maxLength: 80 });
const specArb = fc.integer({ min: 1, max: 5 }).chain((n) =>
  fc.record({
    weights: fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: n, maxLength: n }),
    returns: fc.array(seriesArb, { minLength: n, maxLength: n }),
  }),
);

function snapshotOf(spec: { weights: number[]; returns: number[][] }) {
  const t = Math.min(...spec.returns.map((r) => r.length));
  const ids = spec.weights.map((_, i) => `s${i}`);
  return snapshot({
    weights: Object.fromEntries(ids.map((id, i) => [id, spec.weights[i]!])),
    returns: Object.fromEntries(ids.map((id, i) => [id, spec.returns[i]!.slice(-t)])),
  });
}

describe('SharedMeasures', () => {
  it('gives the plain functions’ numbers, computed once per series', () => {
    fc.assert(
      fc.property(
        specArb,
        fc.double({ min: 0.9, max: 0.999, noNaN: true }),
        fc.option(fc.integer({ min: 1, max: 100 })),
        (spec, confidence, lookback) => {
          const snap = snapshotOf(spec);
          const shared = new SharedMeasures(snap);
          const series = snap.portfolioReturns!;
          expect(shared.moments(series)).toEqual(moments(series));
          expect(shared.moments(series)).toBe(shared.moments(series));
          expect(shared.historicalTail(series, confidence, 3)).toEqual(historicalTail(series, confidence, 3));
          expect(shared.historicalTail(series, confidence, 3)).toBe(
            shared.historicalTail(series, confidence, 3),
          );
          const window =
            lookback !== null && series.length > lookback
              ? series.subarray(series.length - lookback)
              : series;
          expect(shared.drawdown(series, lookback ?? undefined)).toEqual(drawdown(window));
          snap.ids.forEach((_, i) => {
            const plain = Float64Array.from(snap.returns![i]!, (r) => snap.weights[i]! * r);
            expect(Array.from(shared.position(i)!)).toEqual(Array.from(plain));
            expect(shared.position(i)).toBe(shared.position(i));
            // Moments of the position, built or not, are those of the built series to the last bit.
            expect(new SharedMeasures(snap).positionMoments(i)).toEqual(moments(plain));
            expect(shared.positionMoments(i)).toEqual(moments(plain));
            expect(new PlainMeasures(snap).positionMoments(i)).toEqual(moments(plain));
            // Asked last strategy first, the interleaved groups start elsewhere: the same numbers.
            const backwards = new SharedMeasures(snap);
            for (let j = snap.ids.length - 1; j >= i; j--) backwards.positionMoments(j);
            expect(backwards.positionMoments(i)).toEqual(moments(plain));
            for (let j = snap.ids.length - 1; j > i; j--)
              backwards.drawdown(snap.returns![j]!, lookback ?? undefined);
            expect(backwards.drawdown(snap.returns![i]!, lookback ?? undefined)).toEqual(
              new PlainMeasures(snap).drawdown(snap.returns![i]!, lookback ?? undefined),
            );
            expect(new SharedMeasures(snap).drawdown(snap.returns![i]!, lookback ?? undefined)).toEqual(
              new PlainMeasures(snap).drawdown(snap.returns![i]!, lookback ?? undefined),
            );
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('historical tails kept by insertion are the library’s quickselect tails to the last bit', () => {
    // Long series with few distinct values (ties across the tail's edge), signed zeros, deep and
    // shallow tails (k from 1 to past the 64 the insertion keeps), horizons and bad inputs.
    const snap = snapshotOf({ weights: [1], returns: [[0.01]] });
    const message = (f: () => unknown) => {
      try {
        return f();
      } catch (error) {
        return error instanceof RangeError ? error.message : `not a RangeError: ${String(error)}`;
      }
    };
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.double({ min: -0.2, max: 0.2, noNaN: true }),
            fc.constantFrom(0, -0, 0.01, -0.01, -0.05),
          ),
          { minLength: 1, maxLength: 3000 },
        ),
        fc.double({ min: 0.9, max: 0.9999, noNaN: true }),
        fc.constantFrom(1, 2.5, 10),
        (values, confidence, horizon) => {
          const series = Float64Array.from(values);
          expect(new SharedMeasures(snap).historicalTail(series, confidence, horizon)).toEqual(
            historicalTail(series, confidence, horizon),
          );
        },
      ),
      { numRuns: 300 },
    );
    const series = Float64Array.from({ length: 500 }, (_, i) => Math.sin(i) / 50);
    for (const [confidence, horizon] of [
      [0, 1],
      [1, 1],
      [0.99, 0],
      [0.99, Number.NaN],
    ] as const)
      expect(message(() => new SharedMeasures(snap).historicalTail(series, confidence, horizon))).toEqual(
        message(() => historicalTail(series, confidence, horizon)),
      );
    const broken = Float64Array.from(series);
    broken[300] = Number.NaN;
    expect(message(() => new SharedMeasures(snap).historicalTail(broken, 0.99, 1))).toEqual(
      message(() => historicalTail(broken, 0.99, 1)),
    );
  });

  it('drawdown with one division per peak is the per-period drawdown, wipe-outs included', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1.5, max: 3, noNaN: true }), { minLength: 0, maxLength: 60 }),
        fc.option(fc.integer({ min: 1, max: 70 })),
        (returns, lookback) => {
          const series = Float64Array.from(returns);
          const snap = snapshotOf({ weights: [1], returns: [[0.01]] });
          expect(new SharedMeasures(snap).drawdown(series, lookback ?? undefined)).toEqual(
            new PlainMeasures(snap).drawdown(series, lookback ?? undefined),
          );
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('an evaluation sharing its measures reports what each rule measured alone reports', () => {
    const rules = ruleSet([
      { id: 'var_t', kind: 'var_limit', method: 'student_t', confidence: 0.99, limit: 0.01 },
      { id: 'es_t', kind: 'es_limit', method: 'student_t', confidence: 0.99, limit: 0.01 },
      { id: 'var_h', kind: 'var_limit', method: 'historical', confidence: 0.95, limit: 0.01 },
      { id: 'es_h', kind: 'es_limit', method: 'historical', confidence: 0.95, horizon: 5, limit: 0.01 },
      {
        id: 'es_cf',
        kind: 'es_limit',
        method: 'cornish_fisher',
        confidence: 0.99,
        scope: 'strategy',
        limit: 0.001,
      },
      {
        id: 'var_cf',
        kind: 'var_limit',
        method: 'cornish_fisher',
        confidence: 0.99,
        scope: 'strategy',
        limit: 0.001,
      },
      { id: 'dd', kind: 'drawdown', limit: 0.01, lookback: 30, action: { type: 'exit' } },
      { id: 'dd_all', kind: 'drawdown', scope: 'strategy', limit: 0.01, action: { type: 'exit' } },
      {
        id: 'dd_60',
        kind: 'drawdown',
        scope: 'strategy',
        limit: 0.01,
        lookback: 60,
        action: { type: 'exit' },
      },
    ]);
    fc.assert(
      fc.property(specArb, (spec) => {
        const snap = snapshotOf(spec);
        const args = {
          ruleSet: rules,
          input: input(snap),
          episodes: new Map(),
          mutes: [],
          now: '2025-01-01T00:10:00Z',
        };
        const result = evaluateRuleSet(args);
        for (const rule of rules.rules) {
          // The rule set's levels are plain numbers here (no level relative to a snapshot budget).
          const alone = measureRule(rule as Rule, input(snap));
          const got = result.outcomes.filter((o) => o.rule_id === rule.id);
          expect(got.map((o) => [o.scope_key, o.measure, o.unavailable ?? null, o.evidence])).toEqual(
            alone.map((m) => [m.scopeKey, m.value, m.unavailable ?? null, m.evidence]),
          );
        }
      }),
      { numRuns: 100 },
    );
  });
});
