import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SnapshotDataSchema } from '#lib/contracts/risk-snapshot.js';
import { evaluateRuleSet } from '#lib/engine/evaluate.js';
import { mulberry32 } from '#lib/prng.js';
import { loadAllRuleKinds } from '#lib/rules/kinds/index.js';
import { prepareSnapshot } from '#lib/rules/prepare.js';
import { loadRuleSetFile } from '#lib/rules/ruleset-loader.js';
import type { MarketScopeView, RuleInput } from '#lib/rules/types.js';
import { referenceEvaluateRuleSet } from '../test/support/reference-engine/evaluate.js';
import type { BenchFigure } from './types.js';

// Issue 4 "Speed": the engine's full evaluation of the example rule set (every rule kind) for one
// world of 20 strategies × 1,000 returns, from an already-parsed and prepared snapshot. Inputs come
// from a seeded PRNG so every run measures the same work.

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const N = 20;
const T = 1000;
/** Market series length: covers the longest liquidity window (60) with room to spare. */
const MARKET_T = 250;
const BUDGET_MS = 0.5;
const NOW_MS = Date.parse('2025-03-03T12:00:00Z');

/** One-factor daily returns (rᵢ,ₜ = βᵢ·fₜ + εᵢ,ₜ, vol around 1%), so correlations look like a real book. */
function factorReturns(rand: () => number, n: number, t: number): number[][] {
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const factor = Array.from({ length: t }, () => 0.008 * normal());
  return Array.from({ length: n }, () => {
    const beta = 0.3 + rand();
    const idio = 0.004 + 0.01 * rand();
    return factor.map((f) => beta * f + idio * normal());
  });
}

/** A hub snapshot as upstream sends it: weights, covariance map, returns, world and per-strategy stress. */
function snapshotData(rand: () => number) {
  const ids = Array.from({ length: N }, (_, i) => `strat_${String(i).padStart(2, '0')}`);
  const returns = factorReturns(rand, N, T);
  const raw = ids.map(() => 0.5 + rand());
  const sum = raw.reduce((a, b) => a + b, 0);
  const weights = Object.fromEntries(ids.map((id, i) => [id, raw[i]! / sum]));
  const means = returns.map((r) => r.reduce((a, b) => a + b, 0) / T);
  const covariance: Record<string, number> = {};
  for (let i = 0; i < N; i++)
    for (let j = i; j < N; j++) {
      let s = 0;
      for (let k = 0; k < T; k++) s += (returns[i]![k]! - means[i]!) * (returns[j]![k]! - means[j]!);
      covariance[`${ids[i]},${ids[j]}`] = s / (T - 1);
    }
  const asOf = new Date(NOW_MS - 60_000).toISOString();
  return SnapshotDataSchema.parse({
    world_id: 'example-world',
    as_of: asOf,
    created_at: asOf,
    version: 'bench-v1',
    ttl_sec: 900,
    weights,
    covariance,
    realized_returns: Object.fromEntries(ids.map((id, i) => [id, returns[i]!])),
    stress: {
      crash: { max_drawdown: 0.18, var_99: 0.06, es_99: 0.08 },
      rates_shock: { dd_max: 0.09, var_99: 0.03, es_99: 0.04 },
      // Per-strategy scenarios, as some producers nest them (the per-strategy stress rule reads these).
      ...Object.fromEntries(
        ids.map((id) => [
          id,
          { crash: { max_drawdown: 0.2 * rand(), var_99: 0.1 * rand(), es_99: 0.2 * rand() } },
        ]),
      ),
    },
    constraints: { max_leverage: 1.5 },
  });
}

/** The `global` market scope: VIX and VIX3M, and per-strategy spread, volume, returns and ADV use. */
function globalMarket(rand: () => number, ids: readonly string[]): MarketScopeView {
  const series: MarketScopeView['series'] = {};
  for (const id of ids) {
    series[id] = {
      spread: Array.from({ length: MARKET_T }, () => 0.0005 + 0.0005 * rand()),
      dollar_volume: Array.from({ length: MARKET_T }, () => 1e7 * (0.5 + rand())),
      returns: Array.from({ length: MARKET_T }, () => 0.02 * (rand() - 0.5)),
      adv_util: Array.from({ length: MARKET_T }, () => 0.15 * rand()),
    };
  }
  const asOf = new Date(NOW_MS - 30_000).toISOString();
  return {
    scope: 'global',
    as_of: asOf,
    asOfMs: Date.parse(asOf),
    indicators: { vix: 18.5, vix3m: 20.1 },
    series,
  };
}

/** Median and p99 (nearest rank) of per-call times in ms, after a warm-up. */
function time(fn: () => unknown, samples: number, warmup: number): { median: number; p99: number } {
  for (let i = 0; i < warmup; i++) fn();
  const times = new Float64Array(samples);
  for (let s = 0; s < samples; s++) {
    const start = performance.now();
    fn();
    times[s] = performance.now() - start;
  }
  times.sort();
  const at = (q: number) => times[Math.min(samples - 1, Math.ceil(q * samples) - 1)]!;
  return { median: at(0.5), p99: at(0.99) };
}

const round = (x: number) => Number(x.toPrecision(4));

/** The benchmark's rule set, snapshot data and evaluation arguments (seeded, so every run is the same work). */
export function setup() {
  let rulesPath = join(ROOT, 'rulesets', 'example-all-kinds.yaml');
  if (!existsSync(rulesPath)) {
    console.log(
      'note: rulesets/example-all-kinds.yaml not found; benchmarking rulesets/default.yaml instead',
    );
    rulesPath = join(ROOT, 'rulesets', 'default.yaml');
  }
  const ruleSet = loadRuleSetFile(rulesPath);
  const rand = mulberry32(20_250_303);
  const data = snapshotData(rand);
  const snapshot = prepareSnapshot(data);
  const input: RuleInput = {
    snapshot,
    market: new Map([['global', globalMarket(rand, snapshot.ids)]]),
    nowMs: NOW_MS,
    marketMaxAgeMs: 3_600_000,
  };
  // Idle episodes and no mutes: each call does the same full work (the first evaluation of a world).
  const args = { ruleSet, input, episodes: new Map(), mutes: [], now: new Date(NOW_MS).toISOString() };
  return { ruleSet, data, args };
}

/** Runs the engine benchmark and returns its figures. */
export async function run(opts: { quick?: boolean } = {}): Promise<BenchFigure[]> {
  const quick = opts.quick === true;
  const { ruleSet, data, args } = setup();
  await loadAllRuleKinds();
  const check = evaluateRuleSet(args);
  const kinds = new Set(ruleSet.rules.map((r) => r.kind));
  const unavailable = check.outcomes.filter((o) => o.unavailable !== undefined);
  console.log(
    `\nengine: ${ruleSet.source}, ${ruleSet.rules.length} rules of ${kinds.size} kinds, ` +
      `${check.outcomes.length} outcomes (${unavailable.length} unavailable), ${check.signals.length} signals`,
  );
  for (const o of unavailable.slice(0, 5))
    console.log(`  unavailable: ${o.rule_id}#${o.scope_key}: ${o.unavailable}`);

  const evaluation = time(() => evaluateRuleSet(args), quick ? 50 : 1000, quick ? 10 : 200);
  const prepare = time(() => prepareSnapshot(data), quick ? 10 : 100, quick ? 2 : 20);
  const ab = alternating(args, quick ? 5 : 21, quick ? 20 : 100);
  return [
    {
      name: `engine full evaluation (${ruleSet.source}) N=${N} T=${T}`,
      unit: 'ms',
      median: round(evaluation.median),
      p99: round(evaluation.p99),
      budget: `< ${BUDGET_MS} ms`,
      ok: evaluation.median < BUDGET_MS,
    },
    {
      name: `  snapshot → arrays (prepareSnapshot) N=${N} T=${T}, not budgeted`,
      unit: 'ms',
      median: round(prepare.median),
      p99: round(prepare.p99),
      budget: 'none',
      ok: true,
    },
    {
      name: `engine vs first-written evaluation (test/support/reference-engine), alternating in one process: reference time / engine time (reference ${round(ab.reference)} ms, engine ${round(ab.engine)} ms CPU)`,
      unit: 'ratio',
      median: round(ab.reference / ab.engine),
      budget: 'report',
      ok: true,
    },
  ];
}

/**
 * The engine against the straightforward evaluation it replaced (same outcomes, checked by
 * test/unit/engine/evaluate-reference.test.ts), in `rounds` alternating batches of `batch` calls,
 * each timed in CPU time so a loaded machine slows both alike; medians of the per-call times.
 */
function alternating(
  args: ReturnType<typeof setup>['args'],
  rounds: number,
  batch: number,
): { reference: number; engine: number } {
  const cpuMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const reference = new Float64Array(rounds);
  const engine = new Float64Array(rounds);
  for (let i = 0; i < batch; i++) {
    referenceEvaluateRuleSet(args);
    evaluateRuleSet(args);
  }
  for (let r = 0; r < rounds; r++) {
    let start = cpuMs();
    for (let i = 0; i < batch; i++) referenceEvaluateRuleSet(args);
    reference[r] = (cpuMs() - start) / batch;
    start = cpuMs();
    for (let i = 0; i < batch; i++) evaluateRuleSet(args);
    engine[r] = (cpuMs() - start) / batch;
  }
  const median = (x: Float64Array) => x.sort()[rounds >> 1]!;
  return { reference: median(reference), engine: median(engine) };
}
