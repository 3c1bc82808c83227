import { readFileSync } from 'node:fs';
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import type { ExitSignalEvent } from '#lib/contracts/exit-signal.js';
import {
  MARKET_REEVALUATION_DETAIL_TYPE,
  type MarketReevaluationData,
} from '#lib/contracts/market-reevaluation.js';
import type { Outcome } from '#lib/engine/engine.js';
import { LOCAL_BUS_NAME } from '#lib/local/local-stack.js';
import { loadRuleSetFile, parseRuleSet, RuleSetRegistry } from '#lib/rules/ruleset-loader.js';
import { usePipeline } from './support/pipeline.js';
import { marketPutEntry, putEntry } from './support/snapshots.js';

/**
 * A global market event through the real path (DynamoDB Local, the local bus, the market handler, the
 * per-world handler) over a world under the shipped default rule set (VaR and stress: no rule a market
 * event can change, its snapshots keep only their weights) and a world with a VIX rule: only the VIX
 * world is asked to re-evaluate, and it still exits on VIX 45.
 */
const VIX_WORLD = 'w-skip-vix';
const DEFAULT_WORLD = 'w-skip-default';

function ruleSets(): RuleSetRegistry {
  const vix = readFileSync('test/fixtures/rulesets/market/default.yaml', 'utf8').replace(
    'world: default',
    `world: ${VIX_WORLD}`,
  );
  return new RuleSetRegistry([
    loadRuleSetFile('rulesets/default.yaml'),
    parseRuleSet(vix, `${VIX_WORLD}.yaml`),
  ]);
}

describe('market fan-out on DynamoDB Local: worlds that keep only their weights are not asked', () => {
  const p = usePipeline(() => ({ name: 'skip', ruleSets: ruleSets(), clock: 'event-time' }));
  const put = (entry: PutEventsRequestEntry) => p.put(entry);

  it('asks only the VIX world, which exits on VIX 45; the default world is listed as keeping its weights', async () => {
    for (const world of [DEFAULT_WORLD, VIX_WORLD])
      await put(putEntry({ world, version: 'v1', asOf: '2025-03-12T21:00:00Z' }, LOCAL_BUS_NAME));
    // The registry the fan-out lists says what each world's record keeps.
    const state = await p.read.state();
    const entry = (world: string) => state.find((i) => i.pk === 'WORLDS' && i.sk === world);
    expect(entry(DEFAULT_WORLD)).toMatchObject({ body_kept: 'weights' });
    expect(entry(VIX_WORLD)).toMatchObject({ body_kept: 'positions' });

    const asked: string[] = [];
    const outcomes: Outcome[] = [];
    const stopAsked = p.stack.bus.onEvent((e) => {
      if (e['detail-type'] === MARKET_REEVALUATION_DETAIL_TYPE)
        asked.push((e.detail as { data: MarketReevaluationData }).data.world_id);
    });
    const stopOutcomes = p.stack.onOutcome((o) => outcomes.push(o));
    try {
      await put(marketPutEntry('m-skip-1', '2025-03-12T21:02:00Z', 45, LOCAL_BUS_NAME));
    } finally {
      stopAsked();
      stopOutcomes();
    }

    expect(asked).toEqual([VIX_WORLD]);
    expect(outcomes.filter((o) => o.world_id === DEFAULT_WORLD)).toEqual([]);
    const exits = p.stack.emitted
      .map((e) => e.detail as ExitSignalEvent)
      .filter((e) => e.data.provenance?.source_event_id === 'm-skip-1');
    expect(exits.map((e) => e.data.world_id)).toEqual([VIX_WORLD]);
    expect(exits[0]?.data.signals.map((s) => [s.strategy_id, s.action, s.reason])).toEqual([
      ['alpha', 'exit', 'volatility_regime_breach'],
      ['beta', 'exit', 'volatility_regime_breach'],
      ['gamma', 'exit', 'volatility_regime_breach'],
    ]);
  });
});
