import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { load as parse } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { loadAllRuleKinds, measureRule } from '#lib/rules/kinds/index.js';
import { MISSING_DATA_AGE_SEC } from '#lib/rules/kinds/staleness.js';
import { resolveLevels } from '#lib/rules/relative-levels.js';
import {
  type Rule,
  type RuleKind,
  RuleSchema,
  RuleSetSchema,
  type RuleSpec,
} from '#lib/rules/rule-schema.js';
import type { RuleInput } from '#lib/rules/types.js';
import { input, marketView, rule, snapshot } from './fixtures.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const ruleKinds = await loadAllRuleKinds();
const ALL_KINDS = RuleSchema._zod.def.options.map((o) => o.shape.kind._zod.def.values[0]) as RuleKind[];

/** Four strategies, 300 periods of deterministic returns, covariance, stress and market data. */
/** The rule with levels relative to the snapshot's budget read from this input's constraints. */
function resolved(r: RuleSpec, inp: RuleInput): Rule {
  const out = resolveLevels(r, inp.snapshot.constraints);
  if ('unavailable' in out) throw new Error(`${r.id}: ${out.unavailable}`);
  return out.rule;
}

function richInput() {
  const ids = ['s1', 's2', 's3', 's4'];
  const returns = Object.fromEntries(
    ids.map((id, k) => [
      id,
      Array.from(
        { length: 300 },
        (_, t) => 0.01 * Math.sin(t * (1.1 + 0.37 * k) + k) + 0.002 * Math.cos(t * 0.05),
      ),
    ]),
  );
  const covariance: Record<string, number> = {};
  for (const [i, a] of ids.entries()) {
    for (const [j, b] of ids.entries())
      if (j >= i) covariance[`${a},${b}`] = i === j ? 0.0001 * (i + 1) : 0.00002;
  }
  const snap = snapshot({
    weights: { s1: 0.4, s2: 0.3, s3: 0.2, s4: 0.1 },
    covariance,
    returns,
    stress: {
      world: { crash: { max_drawdown: 0.3, es_99: 0.2 } },
      by_strategy: { s1: { crash: { es_99: 0.25 } } },
    },
    constraints: { max_leverage: 2, adv_util_p95: 0.12 },
    asOf: '2025-01-01T00:05:00Z',
  });
  const series = Object.fromEntries(
    ids.map((id, k) => [
      id,
      {
        spread: Array.from({ length: 60 }, (_, t) => 0.001 * (1 + (t >= 55 ? k : 0))),
        returns: returns[id]!.slice(-60),
        dollar_volume: Array.from({ length: 60 }, (_, t) => 1e6 * (1 + 0.1 * Math.sin(t))),
        adv_util: [0.05, 0.08],
      },
    ]),
  );
  return input(snap, {
    market: [marketView('global', '2025-01-01T00:08:00Z', { vix: 36, vix3m: 30 }, series)],
  });
}

describe('rule kinds registry', () => {
  it('has an evaluator for every kind in the schema, under its own name', () => {
    expect(Object.keys(ruleKinds).sort()).toEqual([...ALL_KINDS].sort());
    for (const [kind, evaluator] of Object.entries(ruleKinds)) expect(evaluator.kind).toBe(kind);
  });

  it('declares homogeneity honestly: only VaR/ES and stress scale with a uniform cut', () => {
    const homogeneous = Object.values(ruleKinds)
      .filter((e) => e.homogeneous)
      .map((e) => e.kind)
      .sort();
    expect(homogeneous).toEqual(['es_limit', 'stress_drawdown', 'var_limit']);
  });

  it('measureRule dispatches by kind', () => {
    const m = measureRule(rule({ kind: 'concentration', measure: 'max_weight', limit: 0.5 }), richInput());
    expect(m[0]!.value).toBeCloseTo(0.4, 12);
  });

  it('turns an exception from the math into an unavailable measurement, not a crash', () => {
    const bad = richInput();
    // A non-finite return the validators would have refused: the historical kernel throws on it.
    bad.snapshot.portfolioReturns = Float64Array.from({ length: 200 }, (_, t) =>
      t === 7 ? Number.NaN : 0.001,
    );
    const [m, ...rest] = measureRule(rule({ kind: 'var_limit', method: 'historical', limit: 0.05 }), bad);
    expect(rest).toEqual([]);
    expect(m).toMatchObject({ scopeKey: 'world', value: null, strategies: ['s1', 's2', 's3', 's4'] });
    expect(m!.unavailable).toMatch(/^var_limit measurement failed: return 7 is not finite/);
  });
});

describe('rulesets/example-all-kinds.yaml', () => {
  const text = readFileSync(path.join(repoRoot, 'rulesets/example-all-kinds.yaml'), 'utf8');
  const set = RuleSetSchema.parse(parse(text));

  it('is a valid rule set for example-world that exercises every rule kind', () => {
    expect(set.world).toBe('example-world');
    expect(new Set(set.rules.map((r) => r.kind))).toEqual(new Set(ALL_KINDS));
  });

  it('documents every rule with a comment', () => {
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      if (/^ {2}- id: /.test(line)) expect(lines[i - 1], `comment above ${line.trim()}`).toMatch(/^\s*#/);
    });
  });

  it('measures every rule on a full input: a number, or null with the reason', () => {
    const inp = richInput();
    for (const r of set.rules) {
      const measurements = measureRule(resolved(r, inp), inp);
      expect(measurements.length, r.id).toBeGreaterThan(0);
      for (const m of measurements) {
        if (m.value === null) expect(m.unavailable, r.id).toBeTruthy();
        else expect(Number.isFinite(m.value), r.id).toBe(true);
        expect(m.strategies.length, r.id).toBeGreaterThan(0);
        // Evidence travels in signals and audit records: it must survive JSON unchanged.
        expect(JSON.parse(JSON.stringify(m)), r.id).toEqual(m);
      }
    }
    const byId = Object.fromEntries(set.rules.map((r) => [r.id, measureRule(resolved(r, inp), inp)]));
    expect(byId.stress_worst_drawdown![0]!.value).toBe(0.3);
    expect(byId.vix_spike![0]!.value).toBe(36);
    expect(byId.adv_utilization![0]!.value).toBe(0.12);
    expect(byId.snapshot_stale![0]!.value).toBe(300);
    expect(byId.market_data_stale![0]!.value).toBe(120);
    expect(byId.var_99_normal![0]!.value).toBeGreaterThan(0);
  });

  it('fails closed on the market rules when the market data is missing', () => {
    const inp = { ...richInput(), market: new Map() };
    const byId = Object.fromEntries(set.rules.map((r) => [r.id, measureRule(resolved(r, inp), inp)]));
    expect(byId.vix_spike![0]!.value).toBeNull();
    expect(byId.spread_widening![0]!.value).toBeNull();
    expect(byId.market_data_stale![0]!.value).toBe(MISSING_DATA_AGE_SEC);
  });
});
