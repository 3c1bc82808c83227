import { describe, expect, it } from 'vitest';
import {
  describeDecisions,
  describeOpsAction,
  describeOutcome,
  describeUnrouted,
} from '#lib/cli/local/lines.js';
import type { ExitSignalEvent } from '#lib/contracts/exit-signal.js';
import type { EventBridgeEvent } from '#lib/local/local-event-bus.js';

const signal = (strategy: string, ratio: number, tags: string[]) => ({
  strategy_id: strategy,
  action: 'reduce' as const,
  reduction_ratio: ratio,
  reason: 'var_limit_breach',
  metrics: { rule_id: 'var_99_limit', measure: 0.034, limit: 0.025 },
  tags,
});

const event = (signals: ReturnType<typeof signal>[]) =>
  ({ data: { world_id: 'w', as_of: '2025-03-10T21:00:00Z', signals } }) as unknown as ExitSignalEvent;

describe('runtime lines', () => {
  it('says an expired snapshot was recorded, and a market re-evaluation that skipped one was not', () => {
    const at = '2025-04-12T21:00:30.000Z';
    expect(describeOutcome({ outcome: 'expired', world_id: 'w', expired_at: at })).toBe(
      `  EXPIRED w: snapshot expired at ${at}; recorded, not evaluated`,
    );
    const market = describeOutcome({ outcome: 'expired', world_id: 'w', expired_at: at, trigger: 'market' });
    expect(market).toMatch(
      /not re-evaluated on market data, its latest snapshot expired at 2025-04-12T21:00:30.000Z/,
    );
    expect(market).not.toMatch(/recorded/);
  });

  it('says a world-wide decision in one line with its strategy count and ratio range', () => {
    const e = event([
      signal('a', 0.3, ['scope:world']),
      signal('b', 0.4, ['scope:world']),
      signal('c', 0.5, ['scope:world']),
    ]);
    const lines = describeDecisions(e);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/REDUCE 3 strategies +by 30.00%-50.00% +var_limit_breach .*\(world-wide\)$/);
    expect(describeDecisions(e, true)).toHaveLength(3);
  });

  it('says each measure in its rule units: a VIX level as a level, a VaR as a percent', () => {
    const vix = {
      strategy_id: 'a',
      action: 'exit' as const,
      reduction_ratio: 1,
      reason: 'volatility_regime_breach',
      metrics: {
        rule_id: 'vix_panic',
        kind: 'volatility_regime',
        measure_name: 'vix_level',
        measure: 45,
        limit: 40,
      },
      tags: ['scope:world'],
    };
    expect(describeDecisions(event([vix] as never))[0]).toMatch(
      /vix_panic: 45.00 > limit 40.00 \(world-wide\)$/,
    );
    const clear = {
      ...vix,
      action: 'hold' as const,
      reason: 'risk_episode_cleared',
      metrics: { ...vix.metrics, measure: 25, clear: 30 },
    };
    expect(describeDecisions(event([clear] as never))[0]).toMatch(
      /vix_panic episode over \(25.00 <= clear 30.00\)/,
    );
    const loss = signal('b', 0.4, []);
    loss.metrics = { ...loss.metrics, kind: 'var_limit' } as typeof loss.metrics;
    expect(describeDecisions(event([loss]))[0]).toMatch(/var_99_limit: 3.40% > limit 2.50%$/);
  });

  it('keeps a line per strategy-level signal', () => {
    const lines = describeDecisions(event([signal('a', 0.3, ['scope:strategy']), signal('b', 0.2, [])]));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/REDUCE a +by 30.00%/);
  });

  it('warns about an event on a bus with no rules, naming the bus to use', () => {
    const e = { 'detail-type': 'risk_snapshot_updated', source: 'hub' } as EventBridgeEvent;
    expect(
      describeUnrouted({ event: e, busName: 'default', rulesOnBus: 0 }, 'exit-engine-local', 'engine'),
    ).toMatch(
      /put on bus 'default', which has no rules: nothing evaluates it. Put it on 'exit-engine-local'/,
    );
    expect(
      describeUnrouted({ event: e, busName: 'exit-engine-local', rulesOnBus: 3 }, 'x', 'engine'),
    ).toMatch(/matched no rule/);
    const ours = { ...e, source: 'engine' };
    expect(describeUnrouted({ event: ours, busName: 'x', rulesOnBus: 3 }, 'x', 'engine')).toBeUndefined();
  });

  it('says what an ops action changed in the words of `exit-engine audit`, a rule-set publish included', () => {
    const publish = {
      action: 'ruleset_publish',
      world_id: 'w1',
      target: { id: 'w1' },
      actor: 'local:alice',
      reason: 'tighter VaR',
      before: null,
      after: { version: 'sha256:fc31e1baadd2c6fd', revision: 1, source: 'w1.yaml' },
    };
    expect(describeOpsAction(publish)).toBe(
      '  OPS ruleset_publish w1 w1 none -> r1 sha256:fc31e1baadd2c6fd by local:alice: tighter VaR',
    );
    const approve = {
      ...publish,
      action: 'approve',
      target: { id: 'sig-1' },
      before: { status: 'proposed' },
      after: { status: 'approved' },
    };
    expect(describeOpsAction(approve)).toMatch(/ proposed -> approved by /);
  });
});
