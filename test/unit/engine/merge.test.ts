import { describe, expect, it } from 'vitest';
import { mergeAsks } from '#lib/engine/evaluate.js';
import { type Rule, RuleSchema } from '#lib/rules/rule-schema.js';
import { snapshot } from '../rules/fixtures.js';
import { expectNear, Runner, ruleSet, signalFor, T0_MS } from './harness.js';

/**
 * Conflict policy per strategy and channel: exit > reduce > hold, then the largest ratio, then the
 * lower priority number, then the rule id; every asking rule stays listed on the merged signal.
 * Every rule here is a stress_drawdown rule on the same snapshot (worst loss 0.3 > limit 0.2), so all fire.
 */

const SNAP = snapshot({ weights: { a: 0.6, b: 0.4 }, stress: { world: { crash: { max_drawdown: 0.3 } } } });
const stress = (id: string, extra: Record<string, unknown>) => ({
  id,
  kind: 'stress_drawdown',
  limit: 0.2,
  ...extra,
});
const fixed = (ratio: number) => ({ type: 'reduce_fixed', ratio });

function merged(rules: Record<string, unknown>[]) {
  return new Runner(ruleSet(rules)).step({ snap: SNAP, nowMs: T0_MS });
}

interface Case {
  name: string;
  rules: Record<string, unknown>[];
  winner: string;
  action: 'exit' | 'reduce';
  ratio: number;
  priority: number;
  severity: string;
}

const cases: Case[] = [
  {
    name: 'exit beats a reduce of higher priority',
    rules: [
      stress('cut_hard', { action: fixed(0.9), priority: 1 }),
      stress('get_out', { action: { type: 'exit' }, priority: 500, severity: 'warning' }),
    ],
    winner: 'get_out',
    action: 'exit',
    ratio: 1,
    priority: 500,
    severity: 'warning',
  },
  {
    name: 'the largest ratio wins among reduces, whatever the priority',
    rules: [
      stress('small_cut', { action: fixed(0.3), priority: 1 }),
      stress('big_cut', { action: fixed(0.5), priority: 900, severity: 'info' }),
    ],
    winner: 'big_cut',
    action: 'reduce',
    ratio: 0.5,
    priority: 900,
    severity: 'info',
  },
  {
    // Uniform: 1 − 0.2/0.3 = 1/3 beats a fixed 0.3.
    name: 'a sized cut competes on its ratio with a fixed one',
    rules: [
      stress('sized', { action: { type: 'reduce' }, priority: 50, severity: 'warning' }),
      stress('fixed_cut', { action: fixed(0.3), priority: 10 }),
    ],
    winner: 'sized',
    action: 'reduce',
    ratio: 1 / 3,
    priority: 50,
    severity: 'warning',
  },
  {
    name: 'equal ratios: the lower priority number wins',
    rules: [
      stress('aa_late', { action: fixed(0.4), priority: 20 }),
      stress('zz_early', { action: fixed(0.4), priority: 10, severity: 'info' }),
    ],
    winner: 'zz_early',
    action: 'reduce',
    ratio: 0.4,
    priority: 10,
    severity: 'info',
  },
  {
    name: 'equal ratio and priority: the rule id decides',
    rules: [
      stress('beta', { action: fixed(0.4), priority: 10 }),
      stress('alpha', { action: fixed(0.4), priority: 10, severity: 'warning' }),
    ],
    winner: 'alpha',
    action: 'reduce',
    ratio: 0.4,
    priority: 10,
    severity: 'warning',
  },
];

describe('merge policy', () => {
  describe.each(cases)('$name', (c) => {
    // Both input orders must give the same merged signal.
    it.each([
      { order: 'as listed', rules: c.rules },
      { order: 'reversed', rules: [...c.rules].reverse() },
    ])('$order', ({ rules }) => {
      const res = merged(rules);
      expect(res.signals).toHaveLength(2); // one per strategy, one channel
      for (const id of ['a', 'b']) {
        const s = signalFor(res, id)!;
        expect(s.signal.action).toBe(c.action);
        expectNear(s.signal.reduction_ratio, c.ratio);
        expect(s.signal.metrics.rule_id).toBe(c.winner);
        expect(s.severity).toBe(c.severity);
        expect(s.signal.tags).toContain(`priority:${c.priority}`);
        expect(s.signal.tags).toContain(`severity:${c.severity}`);
        // Every contributing rule is listed, in tags and in metrics.
        const ids = c.rules.map((r) => r.id as string).sort();
        expect(s.rule_ids.slice().sort()).toEqual(ids);
        expect(s.signal.tags.filter((t) => t.startsWith('rule:')).sort()).toEqual(
          ids.map((i) => `rule:${i}`),
        );
        const contributing = s.signal.metrics.contributing_rules as { rule_id: string; priority: number }[];
        expect(contributing.map((x) => x.rule_id).sort()).toEqual(ids);
        expect(contributing[0]?.rule_id).toBe(c.winner);
        for (const r of c.rules) {
          expect(contributing.find((x) => x.rule_id === r.id)?.priority).toBe(
            typeof r.priority === 'number' ? r.priority : 100,
          );
        }
      }
    });
  });

  it('lists each contributing rule with its own action, ratio, measure and limit', () => {
    const res = merged([
      stress('get_out', { action: { type: 'exit' } }),
      stress('trim', { action: fixed(0.25), limit: 0.25 }),
      stress('sized', { action: { type: 'reduce' } }),
    ]);
    const contributing = signalFor(res, 'a')!.signal.metrics.contributing_rules as Record<string, unknown>[];
    const byId = Object.fromEntries(contributing.map((x) => [x.rule_id as string, x]));
    expect(byId.get_out).toMatchObject({ action: 'exit', reduction_ratio: 1, measure: 0.3, limit: 0.2 });
    expect(byId.trim).toMatchObject({ action: 'reduce', reduction_ratio: 0.25, measure: 0.3, limit: 0.25 });
    expect(byId.sized).toMatchObject({ action: 'reduce', measure: 0.3, limit: 0.2 });
    expectNear(byId.sized?.reduction_ratio as number, 1 - 0.2 / 0.3);
  });

  it('merges per strategy: each strategy takes its own strictest ask', () => {
    // max_weight cuts only a (0.6 → 0.5: r = 1/6); a fixed 0.1 applies to both.
    const res = merged([
      { id: 'conc', kind: 'concentration', measure: 'max_weight', limit: 0.5 },
      stress('trim', { action: fixed(0.1) }),
    ]);
    expectNear(signalFor(res, 'a')?.signal.reduction_ratio, 1 / 6);
    expect(signalFor(res, 'a')?.signal.metrics.rule_id).toBe('conc');
    expect(signalFor(res, 'a')?.rule_ids.slice().sort()).toEqual(['conc', 'trim']);
    expectNear(signalFor(res, 'b')?.signal.reduction_ratio, 0.1);
    expect(signalFor(res, 'b')?.rule_ids).toEqual(['trim']);
  });

  it('never merges across channels: an enforce and a shadow ask give two signals', () => {
    const res = merged([
      stress('real', { action: fixed(0.2) }),
      stress('trial', { action: fixed(0.7), mode: 'shadow' }),
    ]);
    expect(res.signals).toHaveLength(4);
    expect(signalFor(res, 'a', 'enforce')?.signal).toMatchObject({
      reduction_ratio: 0.2,
      tags: expect.arrayContaining(['rule:real']),
    });
    expect(signalFor(res, 'a', 'enforce')?.rule_ids).toEqual(['real']);
    expect(signalFor(res, 'a', 'shadow')?.signal.reduction_ratio).toBe(0.7);
    expect(signalFor(res, 'a', 'shadow')?.rule_ids).toEqual(['trial']);
  });

  it('orders the decided signals by channel, then strategy', () => {
    const res = merged([
      stress('real', { action: fixed(0.2) }),
      stress('trial', { action: fixed(0.7), mode: 'shadow' }),
    ]);
    expect(res.signals.map((s) => `${s.channel}/${s.signal.strategy_id}`)).toEqual([
      'enforce/a',
      'enforce/b',
      'shadow/a',
      'shadow/b',
    ]);
  });

  it('mergeAsks: reduce beats hold, and exit beats both, in the same channel', () => {
    const rule = (id: string, priority: number) =>
      RuleSchema.parse({ id, kind: 'stress_drawdown', limit: 0.2, priority }) as Rule;
    const ask = (id: string, priority: number, action: 'exit' | 'reduce' | 'hold', ratio: number) => ({
      rule: rule(id, priority),
      mode: 'enforce' as const,
      channel: 'enforce' as const,
      strategy_id: 's1',
      action,
      ratio,
      reason: action === 'hold' ? 'risk_episode_cleared' : 'stress_drawdown_breach',
      metrics: { measure: 0.3, limit: 0.2 },
      scope: 'world' as const,
    });
    const holdVsReduce = mergeAsks([ask('clearing', 1, 'hold', 0), ask('cutting', 999, 'reduce', 0.1)]);
    expect(holdVsReduce).toHaveLength(1);
    expect(holdVsReduce[0]?.signal).toMatchObject({ action: 'reduce', reduction_ratio: 0.1 });
    expect(holdVsReduce[0]?.signal.tags).toEqual(expect.arrayContaining(['rule:clearing', 'rule:cutting']));
    const all = mergeAsks([ask('h', 1, 'hold', 0), ask('r', 2, 'reduce', 0.9), ask('x', 999, 'exit', 1)]);
    expect(all[0]?.signal).toMatchObject({ action: 'exit', reduction_ratio: 1 });
    expect(all[0]?.rule_ids).toEqual(['x', 'r', 'h']);
  });
});
