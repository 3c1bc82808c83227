import { describe, expect, it } from 'vitest';
import type { SnapshotData } from '#lib/contracts/risk-snapshot.js';
import { type EpisodeState, episodeKey } from '#lib/engine/episodes.js';
import { type DecidedSignal, type EvaluationResult, evaluateRuleSet } from '#lib/engine/evaluate.js';
import { joinSnapshot, keptBody, splitSnapshot } from '#lib/engine/records.js';
import { projectionFor, rerunRuleIds } from '#lib/engine/snapshot-reuse.js';
import { mulberry32 } from '#lib/prng.js';
import { prepareSnapshot } from '#lib/rules/prepare.js';
import type { MarketScopeView } from '#lib/rules/types.js';
import { input, marketView } from '../rules/fixtures.js';
import { ruleSet, Z99 } from './harness.js';

/**
 * A market re-evaluation re-runs only the rules a later evaluation can change, on the `positions`
 * projection of the snapshot (what the store keeps for such a rule set), and carries every other
 * rule's episode. Property: over seeded histories of hub snapshots and market events, it decides
 * exactly what a full re-evaluation of the whole snapshot decides (same signals, same episode
 * writes, same audit rows for the re-run rules). The one documented difference: a carried open
 * episode's standing ask, which answers a re-run rule's clear, carries the measure last stored on
 * its episode (`standing_from: episode_state`) instead of a fresh measurement and its evidence.
 */

const IDS = ['alpha', 'beta', 'carry', 'delta'];
const T0 = Date.parse('2025-03-03T09:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

const RULES = ruleSet([
  // Snapshot-only rules (carried by a re-evaluation): the covariance, the returns, the weights.
  {
    id: 'var_99',
    kind: 'var_limit',
    method: 'normal',
    limit: 0.025,
    clear: 0.022,
    target: 0.02,
    action: { type: 'reduce', sizing: 'uniform' },
    priority: 20,
  },
  {
    id: 'strategy_drawdown',
    kind: 'drawdown',
    scope: 'strategy',
    limit: 0.08,
    clear: 0.06,
    action: { type: 'reduce_fixed', ratio: 0.4 },
    priority: 25,
  },
  {
    id: 'live_weight',
    kind: 'concentration',
    measure: 'max_weight',
    scope: 'strategy',
    limit: 0.35,
    action: { type: 'reduce', sizing: 'uniform' },
    when: { stage: ['live'] },
  },
  // Re-run rules: market data, constraints and the clock.
  {
    id: 'vix_exit',
    kind: 'volatility_regime',
    measure: 'vix_level',
    limit: 40,
    clear: 30,
    action: { type: 'exit' },
    priority: 5,
  },
  {
    id: 'vix_trim',
    kind: 'volatility_regime',
    measure: 'vix_level',
    scope: 'strategy',
    limit: 25,
    clear: 22,
    action: { type: 'reduce_fixed', ratio: 0.3 },
    priority: 30,
  },
  {
    id: 'adv',
    kind: 'liquidity',
    measure: 'adv_utilization',
    scope: 'strategy',
    limit: 0.8,
    clear: 0.6,
    action: { type: 'reduce_fixed', ratio: 0.5 },
  },
  {
    id: 'market_stale',
    kind: 'staleness',
    source: 'market',
    limit: 600,
    clear: 300,
    action: { type: 'reduce_fixed', ratio: 0.2 },
  },
]);
const RERUN = rerunRuleIds(RULES);

/** A hub snapshot: random weights, a VaR around its limit, random returns and ADV utilization. */
function hubSnapshot(rand: () => number, n: number, asOfMs: number): SnapshotData {
  const raw = IDS.map(() => 0.2 + rand());
  const sum = raw.reduce((a, b) => a + b, 0);
  const weights = Object.fromEntries(IDS.map((id, i) => [id, raw[i]! / sum]));
  const sumSq = IDS.reduce((a, id) => a + weights[id]! ** 2, 0);
  const sigmaP = ((0.6 + 0.8 * rand()) * 0.025) / Z99;
  const v = (sigmaP * sigmaP) / sumSq;
  const covariance: Record<string, number> = {};
  for (let i = 0; i < IDS.length; i++)
    for (let j = i; j < IDS.length; j++) covariance[`${IDS[i]},${IDS[j]}`] = i === j ? v : 0;
  const drift = (rand() - 0.6) * 0.01;
  const realized_returns = Object.fromEntries(
    IDS.map((id) => [id, Array.from({ length: 30 }, () => drift + (rand() - 0.5) * 0.03)]),
  );
  return {
    world_id: 'w1',
    as_of: iso(asOfMs),
    created_at: iso(asOfMs),
    version: `v${n}`,
    hash: `sha256:h${n}`,
    ttl_sec: 86_400,
    weights,
    covariance,
    realized_returns,
    constraints: { adv_util_p95: Object.fromEntries(IDS.map((id) => [id, 0.3 + 0.7 * rand()])) },
    provenance: { stage: rand() < 0.7 ? 'live' : 'paper' },
  };
}

/** What a re-evaluation sees of a snapshot stored with the rule set's projection. */
function stored(data: SnapshotData): SnapshotData {
  const { head } = splitSnapshot(data);
  return joinSnapshot(head, keptBody(data, 'positions'));
}

function evaluate(
  data: SnapshotData,
  state: ReadonlyMap<string, EpisodeState>,
  market: MarketScopeView[],
  nowMs: number,
  rerun?: ReadonlySet<string>,
): EvaluationResult {
  return evaluateRuleSet({
    ruleSet: RULES,
    input: input(prepareSnapshot(data), { market, nowMs }),
    episodes: state,
    mutes: [],
    now: iso(nowMs),
    ...(rerun ? { rerun } : {}),
  });
}

/** A signal with what a carried episode cannot re-measure (its measure, evidence, sizing) left out. */
function decided(s: DecidedSignal): unknown {
  const metrics = s.signal.metrics as Record<string, unknown> & {
    contributing_rules: Record<string, unknown>[];
  };
  const contributing = metrics.contributing_rules.map((c) =>
    RERUN.has(String(c.rule_id)) ? c : { ...c, measure: '(carried)' },
  );
  const primaryCarried = !RERUN.has(s.rule_ids[0]!);
  const kept = primaryCarried
    ? Object.fromEntries(
        ['rule_id', 'kind', 'limit', 'clear', 'target', 'verdict', 'episode_id', 'cleared_rule_id'].map(
          (k) => [k, metrics[k]],
        ),
      )
    : metrics;
  return { ...s, signal: { ...s.signal, metrics: { ...kept, contributing_rules: contributing } } };
}

describe('partial re-evaluation', () => {
  it('keeps the positions projection for this rule set: no covariance, returns or stress', () => {
    expect(projectionFor(RULES)).toBe('positions');
    expect([...RERUN].sort()).toEqual(['adv', 'market_stale', 'vix_exit', 'vix_trim']);
    const kept = stored(hubSnapshot(mulberry32(1), 0, T0));
    expect(Object.keys(kept).sort()).toEqual(
      [
        'as_of',
        'constraints',
        'created_at',
        'hash',
        'provenance',
        'ttl_sec',
        'version',
        'weights',
        'world_id',
      ].sort(),
    );
  });

  it('decides what a full re-evaluation of the whole snapshot decides, over seeded histories', () => {
    let compared = 0;
    let emitted = 0;
    let standingFromCarried = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const rand = mulberry32(seed);
      const state = new Map<string, EpisodeState>();
      const apply = (r: EvaluationResult) => {
        for (const e of r.episodes) state.set(episodeKey(e.rule_id, e.scope_key), e);
      };
      let t = T0;
      let market: MarketScopeView[] = [marketView('global', iso(t), { vix: 20 })];
      let data = hubSnapshot(rand, 0, t);
      apply(evaluate(data, state, market, t));
      for (let step = 1; step <= 14; step++) {
        t += 60_000;
        if (rand() < 0.35) {
          data = hubSnapshot(rand, step, t);
          apply(evaluate(data, state, market, t));
          continue;
        }
        const vix = [18, 24, 28, 35, 45, 60][Math.floor(rand() * 6)]!;
        // Sometimes the market data is old: the staleness rule fires (and clears on fresh data).
        const age = rand() < 0.2 ? 700_000 : 0;
        market = [marketView('global', iso(t - age), { vix })];
        const full = evaluate(data, state, market, t);
        const partial = evaluate(stored(data), state, market, t, RERUN);
        expect(partial.episodes).toEqual(full.episodes);
        expect(partial.outcomes).toEqual(full.outcomes.filter((o) => RERUN.has(o.rule_id)));
        expect(partial.signals.map(decided)).toEqual(full.signals.map(decided));
        compared++;
        emitted += partial.signals.length;
        standingFromCarried += partial.signals.filter(
          (s) => s.signal.metrics.standing_from === 'episode_state',
        ).length;
        apply(full);
      }
    }
    // The histories reach the cases that matter: re-evaluations that emit, and clears that a carried
    // open episode answers with its standing cut.
    expect(compared).toBeGreaterThan(300);
    expect(emitted).toBeGreaterThan(50);
    expect(standingFromCarried).toBeGreaterThan(20);
  });
});
