import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InMemoryMarketReevaluationQueue } from '#lib/adapters/memory/memory-market-queue.js';
import { InMemoryPublisher } from '#lib/adapters/memory/memory-publisher.js';
import { InMemoryEngineStore } from '#lib/adapters/memory/memory-store.js';
import { RiskSnapshotCloudEventSchema } from '#lib/contracts/risk-snapshot.js';
import { ExitEngine } from '#lib/engine/engine.js';
import { digest } from '#lib/engine/ids.js';
import {
  covers,
  keptProjection,
  laterEvaluationCanDiffer,
  projectionFor,
  rerunRuleIds,
} from '#lib/engine/snapshot-reuse.js';
import type { RuleSet } from '#lib/rules/rule-schema.js';
import { parseRuleSet } from '#lib/rules/ruleset-loader.js';
import { cloudEvent, marketCloudEvent, WEIGHTS } from '#test/integration/support/snapshots.js';
import { testEngineDeps } from '#test/support/engine-deps.js';

/**
 * A world whose rule set no later evaluation can change keeps only its snapshot's weights and skips
 * market re-evaluation; a rule set change that adds such a rule takes effect for market events from
 * the world's next hub snapshot on, and says so (a metric and a warning) meanwhile.
 */

const T0 = Date.parse('2025-03-10T21:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const W = 'w-reuse';

const VAR_RULE = `
  - id: var_99_limit
    kind: var_limit
    limit: 0.025
    clear: 0.022
    action: { type: reduce, sizing: uniform }`;
const set = (rules: string, name = 'x') => parseRuleSet(`world: default\nrules:${rules}\n`, `${name}.yaml`);
const VAR_ONLY = set(VAR_RULE, 'var');
const VIX_RULES = `
  - id: vix_panic
    kind: volatility_regime
    measure: vix_level
    limit: 40
    clear: 30
    action: { type: exit }`;
const WITH_VIX = set(`${VAR_RULE}${VIX_RULES}`, 'vix');

describe('laterEvaluationCanDiffer', () => {
  it('is false for rules that read the snapshot alone, count data and repeat only on escalation', () => {
    expect(
      laterEvaluationCanDiffer(parseRuleSet(readFileSync('rulesets/default.yaml', 'utf8'), 'd.yaml')),
    ).toBe(false);
    expect(laterEvaluationCanDiffer(VAR_ONLY)).toBe(false);
  });

  it('is true for a market rule, a staleness rule, time-based persistence, or a timed repeat', () => {
    expect(laterEvaluationCanDiffer(WITH_VIX)).toBe(true);
    expect(
      laterEvaluationCanDiffer(
        parseRuleSet(readFileSync('rulesets/example-all-kinds.yaml', 'utf8'), 'all.yaml'),
      ),
    ).toBe(true);
    expect(
      laterEvaluationCanDiffer(
        set(`
  - id: stale
    kind: staleness
    source: snapshot
    limit: 3600
    clear: 1800
    action: { type: exit }`),
      ),
    ).toBe(true);
    expect(laterEvaluationCanDiffer(set(`${VAR_RULE}\n    persistence: { for: 15m }`))).toBe(true);
    expect(laterEvaluationCanDiffer(set(`${VAR_RULE}\n    reemit: { repeat_after_sec: 3600 }`))).toBe(true);
  });
});

const STALE_RULE = `
  - id: stale
    kind: staleness
    source: snapshot
    limit: 3600
    clear: 1800
    action: { type: exit }`;
const LIQUIDITY_RULE = `
  - id: spreads
    kind: liquidity
    measure: spread_widening
    short_window: 2
    long_window: 5
    limit: 2
    clear: 1.5
    action: { type: exit }`;
/** VaR repeated on the clock: a later evaluation re-runs it, and it reads the covariance. */
const TIMED_VAR = set(`${VAR_RULE}\n    reemit: { repeat_after_sec: 3600 }${VIX_RULES}`, 'timed');

describe('projectionFor: what of a snapshot its later evaluations read', () => {
  it('keeps the weights alone when no rule is re-run', () => {
    expect(projectionFor(parseRuleSet(readFileSync('rulesets/default.yaml', 'utf8'), 'd.yaml'))).toBe(
      'weights',
    );
    expect(projectionFor(VAR_ONLY)).toBe('weights');
    expect(rerunRuleIds(VAR_ONLY).size).toBe(0);
  });

  it('keeps the positions when only market, liquidity and staleness rules are re-run', () => {
    expect(projectionFor(WITH_VIX)).toBe('positions');
    expect([...rerunRuleIds(WITH_VIX)]).toEqual(['vix_panic']);
    expect(projectionFor(set(`${VAR_RULE}${STALE_RULE}${LIQUIDITY_RULE}`))).toBe('positions');
    expect([...rerunRuleIds(set(`${VAR_RULE}${STALE_RULE}${LIQUIDITY_RULE}`))]).toEqual(['stale', 'spreads']);
  });

  it('keeps the whole body when a re-run rule reads the snapshot (time persistence, timed repeat, every kind)', () => {
    expect(projectionFor(TIMED_VAR)).toBe('whole');
    expect([...rerunRuleIds(TIMED_VAR)].sort()).toEqual(['var_99_limit', 'vix_panic']);
    expect(projectionFor(set(`${VAR_RULE}\n    persistence: { for: 15m }${STALE_RULE}`))).toBe('whole');
    expect(
      projectionFor(parseRuleSet(readFileSync('rulesets/example-all-kinds.yaml', 'utf8'), 'all.yaml')),
    ).toBe('whole');
  });

  it('orders the projections: each kept body covers what the ones before it need; absent is the whole body', () => {
    expect(keptProjection(undefined)).toBe('whole');
    expect(keptProjection('positions')).toBe('positions');
    expect(covers('whole', 'positions')).toBe(true);
    expect(covers('positions', 'positions')).toBe(true);
    expect(covers('positions', 'whole')).toBe(false);
    expect(covers('weights', 'positions')).toBe(false);
  });
});

function setup(initial: RuleSet) {
  const store = new InMemoryEngineStore();
  const publisher = new InMemoryPublisher();
  const counted: string[] = [];
  const warnings: string[] = [];
  const rules = { current: initial };
  const engine = new ExitEngine(
    testEngineDeps({
      store,
      publisher,
      ruleSets: { forWorld: () => rules.current },
      metrics: { count: (name: string) => void counted.push(name), measure() {} },
      logger: { info() {}, warn: (message: string) => void warnings.push(message), error() {} },
      wallClock: () => T0,
    }),
  );
  const queue = new InMemoryMarketReevaluationQueue();
  const snapshot = (version: string, asOfMs: number) =>
    engine.handleSnapshot({
      cloudEvent: RiskSnapshotCloudEventSchema.parse(cloudEvent({ world: W, version, asOf: iso(asOfMs) })),
      deliveryId: `s-${version}`,
      invocationId: 'i',
      nowMs: asOfMs + 20_000,
    });
  /**
   * A market event with VIX at `vix` (global, or for the `worlds` named), fanned out and re-evaluated
   * for the world; undefined when the fan-out did not ask for it.
   */
  const marketEvent = async (id: string, asOfMs: number, vix: number, worlds?: string[]) => {
    const ce = marketCloudEvent(id, asOfMs, vix, worlds);
    await engine.handleMarket(
      { cloudEvent: ce, deliveryId: `eb-${id}`, invocationId: 'im', nowMs: asOfMs },
      queue,
    );
    const [request] = queue.take();
    if (!request) return undefined;
    return engine.reevaluateOnMarketRequest({
      worldId: request!.worldId,
      marketEventId: request!.marketEventId,
      deliveryId: `d-${id}`,
      invocationId: `inv-${id}`,
      nowMs: request!.requestedAtMs,
    });
  };
  return { store, publisher, rules, counted, warnings, snapshot, marketEvent };
}

describe('a world whose rule set no later evaluation can change', () => {
  it('keeps only the weights, and its market re-evaluation claims and records nothing', async () => {
    const t = setup(VAR_ONLY);
    expect((await t.snapshot('v1', T0)).outcome).toBe('no_signal');
    const latest = (await t.store.getLatestSnapshot(W))!;
    expect(latest.body_kept).toBe('weights');
    expect(await t.store.getSnapshotData(latest)).toBeUndefined();
    expect(await t.store.getSnapshotWeights(latest)).toEqual(WEIGHTS);

    // A global market event does not even ask for it (market-trigger.ts, marketFanOut).
    expect(await t.marketEvent('m0', T0 + 30_000, 45)).toBeUndefined();
    expect(t.counted).toContain('MarketReevaluationsSkipped');
    // Named by the market event, it is asked, and its re-evaluation stops before claiming anything.
    expect(await t.marketEvent('m1', T0 + 60_000, 45, [W])).toEqual({ outcome: 'no_signal', world_id: W });
    expect(t.counted).toContain('MarketReevaluationsNotNeeded');
    expect(await t.store.getEvaluation(W, digest('market', W, 'm1', VAR_ONLY.version))).toBeUndefined();
    expect(t.publisher.exitSignals()).toEqual([]);
  });

  it('gains a market rule: market events act from its next hub snapshot on, and say why not before', async () => {
    const t = setup(VAR_ONLY);
    await t.snapshot('v1', T0);
    t.rules.current = WITH_VIX;
    // The snapshot was stored without its body: the new market rule cannot be evaluated on it. A
    // global market event does not ask for the world; one naming it does, and is refused by name.
    expect(await t.marketEvent('m0', T0 + 30_000, 45)).toBeUndefined();
    expect(await t.marketEvent('m1', T0 + 60_000, 45, [W])).toEqual({ outcome: 'no_signal', world_id: W });
    expect(t.counted).toContain('SnapshotBodyMissing');
    expect(t.warnings.some((w) => w.includes('stored without the part of its body'))).toBe(true);
    expect(t.publisher.exitSignals()).toEqual([]);

    // The next hub snapshot keeps what the VIX rule reads; its own evaluation reads the stored VIX and exits.
    expect((await t.snapshot('v2', T0 + 120_000)).outcome).toBe('published');
    expect(t.publisher.exitSignals().map((e) => e.data.signals.map((s) => s.action))).toEqual([
      ['exit', 'exit', 'exit'],
    ]);
    const latest = (await t.store.getLatestSnapshot(W))!;
    expect(latest.body_kept).toBe('positions');
    const kept = await t.store.getSnapshotData(latest);
    expect(kept?.weights).toEqual(WEIGHTS);
    expect(kept?.covariance).toBeUndefined();
    // And market events evaluate the world again (claimed and recorded).
    expect((await t.marketEvent('m2', T0 + 180_000, 50))?.outcome).toBe('no_signal');
    expect(await t.store.getEvaluation(W, digest('market', W, 'm2', WITH_VIX.version))).toMatchObject({
      status: 'completed',
    });
  });

  it('keeps the positions, then needs the whole body: refused by name until the next hub snapshot', async () => {
    const t = setup(WITH_VIX);
    await t.snapshot('v1', T0);
    t.rules.current = TIMED_VAR;
    expect(await t.marketEvent('m1', T0 + 60_000, 45)).toEqual({ outcome: 'no_signal', world_id: W });
    expect(t.counted).toContain('SnapshotBodyMissing');
    expect(await t.store.getEvaluation(W, digest('market', W, 'm1', TIMED_VAR.version))).toBeUndefined();
    // The next hub snapshot keeps the whole body (its own evaluation reads the stored VIX and exits),
    // and market events evaluate the world on it again.
    expect((await t.snapshot('v2', T0 + 120_000)).outcome).toBe('published');
    const latest = (await t.store.getLatestSnapshot(W))!;
    expect(latest.body_kept).toBeUndefined();
    expect((await t.store.getSnapshotData(latest))?.covariance).toBeDefined();
    // VIX back under its clear level: the exit is lifted.
    expect((await t.marketEvent('m2', T0 + 180_000, 20))?.outcome).toBe('published');
    expect(
      t.publisher
        .exitSignals()
        .at(-1)
        ?.data.signals.map((s) => s.action),
    ).toEqual(['hold', 'hold', 'hold']);
    expect(await t.store.getEvaluation(W, digest('market', W, 'm2', TIMED_VAR.version))).toMatchObject({
      status: 'completed',
    });
  });

  it('loses its market rule: the kept weights stay readable, and market events stop before claiming', async () => {
    const t = setup(WITH_VIX);
    await t.snapshot('v1', T0);
    const latest = (await t.store.getLatestSnapshot(W))!;
    expect(latest.body_kept).toBe('positions');
    t.rules.current = VAR_ONLY;
    expect(await t.marketEvent('m1', T0 + 60_000, 45)).toEqual({ outcome: 'no_signal', world_id: W });
    expect(await t.store.getEvaluation(W, digest('market', W, 'm1', VAR_ONLY.version))).toBeUndefined();
    expect(await t.store.getSnapshotWeights(latest)).toEqual(WEIGHTS);
  });
});
