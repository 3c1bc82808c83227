import { describe, expect, it } from 'vitest';
import type { Mute } from '#lib/engine/evaluate.js';
import { snapshot } from '../rules/fixtures.js';
import { iso, outcome, Runner, ruleSet, STEP_MS, signalFor, summary, T0_MS } from './harness.js';

/**
 * Modes and mutes decide the channel of a signal: enforce (published), approval (held back as
 * proposed), shadow (stored only), muted (silenced, with the mute's id). Rules here are stress_drawdown
 * rules whose worst loss is dialled directly: 0.3 breaches the 0.2 limit, 0.1 clears it.
 */

const snap = (loss: number) =>
  snapshot({ weights: { a: 0.6, b: 0.4 }, stress: { world: { crash: { max_drawdown: loss } } } });
const BREACH = snap(0.3);
const CALM = snap(0.1);
const fixed = (id: string, ratio: number, extra: Record<string, unknown> = {}) => ({
  id,
  kind: 'stress_drawdown',
  limit: 0.2,
  action: { type: 'reduce_fixed', ratio },
  ...extra,
});

describe('rule and rule-set modes', () => {
  it('a shadow rule produces shadow signals only, including its hold', () => {
    const run = new Runner(ruleSet([fixed('trial', 0.3, { mode: 'shadow' })]));
    const fired = run.step({ snap: BREACH, nowMs: T0_MS });
    expect(summary(fired)).toEqual(['shadow:a:reduce:0.3', 'shadow:b:reduce:0.3']);
    expect(fired.signals[0]?.signal.tags).toContain('mode:shadow');
    expect(outcome(fired, 'trial').mode).toBe('shadow');
    const cleared = run.step({ snap: CALM, nowMs: T0_MS + STEP_MS });
    expect(summary(cleared)).toEqual(['shadow:a:hold:0', 'shadow:b:hold:0']);
  });

  it('a rule set in shadow mode forces every rule to shadow, whatever the rule says', () => {
    const run = new Runner(
      ruleSet(
        [
          fixed('enforced', 0.3, { mode: 'enforce' }),
          fixed('approved', 0.5, { mode: 'approval', approval: { timeout_sec: 600 } }),
          fixed('plain', 0.1),
        ],
        'shadow',
      ),
    );
    const res = run.step({ snap: BREACH, nowMs: T0_MS });
    expect(res.signals.every((s) => s.channel === 'shadow')).toBe(true);
    expect(summary(res)).toEqual(['shadow:a:reduce:0.5', 'shadow:b:reduce:0.5']);
    expect(res.signals[0]?.rule_ids.slice().sort()).toEqual(['approved', 'enforced', 'plain']);
    for (const id of ['enforced', 'approved', 'plain']) expect(outcome(res, id).mode).toBe('shadow');
  });

  it('an approval rule produces approval signals carrying the rule’s approval settings', () => {
    const approval = { timeout_sec: 1800, default: 'emit', four_eyes: true };
    const res = new Runner(ruleSet([fixed('needs_ok', 0.4, { mode: 'approval', approval })])).step({
      snap: BREACH,
      nowMs: T0_MS,
    });
    expect(summary(res)).toEqual(['approval:a:reduce:0.4', 'approval:b:reduce:0.4']);
    for (const s of res.signals) {
      expect(s.approval).toEqual(approval);
      expect(s.signal.tags).toContain('mode:approval');
    }
  });

  it('approval settings left out take the schema defaults (900 s, drop, one approver)', () => {
    const res = new Runner(ruleSet([fixed('needs_ok', 0.4, { mode: 'approval', approval: {} })])).step({
      snap: BREACH,
      nowMs: T0_MS,
    });
    expect(signalFor(res, 'a', 'approval')?.approval).toEqual({
      timeout_sec: 900,
      default: 'drop',
      four_eyes: false,
    });
  });

  it('a rule set in approval mode sends rules without a mode of their own to approval', () => {
    const res = new Runner(
      ruleSet([fixed('inherits', 0.4, { approval: {} }), fixed('own', 0.2, { mode: 'enforce' })], 'approval'),
    ).step({ snap: BREACH, nowMs: T0_MS });
    expect(summary(res)).toEqual([
      'approval:a:reduce:0.4',
      'approval:b:reduce:0.4',
      'enforce:a:reduce:0.2',
      'enforce:b:reduce:0.2',
    ]);
  });
});

describe('mutes', () => {
  const base: Omit<Mute, 'mute_id' | 'until'> = {
    world_id: 'w1',
    reason: 'known issue',
    actor: 'ops@example.com',
  };
  const future = iso(T0_MS + 3_600_000);
  const rules = ruleSet([fixed('r1', 0.3), fixed('r2', 0.2, { priority: 5 })]);

  interface MuteCase {
    name: string;
    mutes: Mute[];
    /** Expected channel:strategy:action:ratio plus muted_by per muted signal. */
    expected: string[];
  }
  const cases: MuteCase[] = [
    {
      name: 'a world-wide mute silences every rule and strategy',
      mutes: [{ ...base, mute_id: 'm_world', until: future }],
      expected: ['muted:a:reduce:0.3|m_world', 'muted:b:reduce:0.3|m_world'],
    },
    {
      name: 'a per-strategy mute silences that strategy only',
      mutes: [{ ...base, mute_id: 'm_b', strategy_id: 'b', until: future }],
      expected: ['enforce:a:reduce:0.3|', 'muted:b:reduce:0.3|m_b'],
    },
    {
      name: 'a per-rule mute silences that rule only (the other still enforces)',
      mutes: [{ ...base, mute_id: 'm_r1', rule_id: 'r1', until: future }],
      expected: [
        'enforce:a:reduce:0.2|',
        'enforce:b:reduce:0.2|',
        'muted:a:reduce:0.3|m_r1',
        'muted:b:reduce:0.3|m_r1',
      ],
    },
    {
      name: 'a rule-and-strategy mute silences just that pair',
      mutes: [{ ...base, mute_id: 'm_r1_a', rule_id: 'r1', strategy_id: 'a', until: future }],
      expected: ['enforce:a:reduce:0.2|', 'enforce:b:reduce:0.3|', 'muted:a:reduce:0.3|m_r1_a'],
    },
    {
      name: 'an expired mute is ignored',
      mutes: [{ ...base, mute_id: 'm_old', until: iso(T0_MS - 1000) }],
      expected: ['enforce:a:reduce:0.3|', 'enforce:b:reduce:0.3|'],
    },
    {
      name: 'a mute ending exactly now is ignored',
      mutes: [{ ...base, mute_id: 'm_now', until: iso(T0_MS) }],
      expected: ['enforce:a:reduce:0.3|', 'enforce:b:reduce:0.3|'],
    },
    {
      name: 'another world’s mute is ignored',
      mutes: [{ ...base, world_id: 'w2', mute_id: 'm_w2', until: future }],
      expected: ['enforce:a:reduce:0.3|', 'enforce:b:reduce:0.3|'],
    },
    {
      name: 'a mute on an unknown rule id is ignored',
      mutes: [{ ...base, mute_id: 'm_r9', rule_id: 'r9', until: future }],
      expected: ['enforce:a:reduce:0.3|', 'enforce:b:reduce:0.3|'],
    },
  ];

  it.each(cases)('$name', ({ mutes, expected }) => {
    const res = new Runner(rules, mutes).step({ snap: BREACH, nowMs: T0_MS });
    const got = res.signals.map(
      (s) =>
        `${s.channel}:${s.signal.strategy_id}:${s.signal.action}:${s.signal.reduction_ratio}|${s.mute?.mute_id ?? ''}`,
    );
    expect(got).toEqual(expected);
    for (const s of res.signals) {
      const tag = s.signal.tags.find((t) => t.startsWith('muted_by:'));
      expect(tag).toBe(s.mute ? `muted_by:${s.mute.mute_id}` : undefined);
    }
  });

  it('a mute silences the signal but not the episode: no re-fire once it expires, and the hold is muted too', () => {
    const until = iso(T0_MS + 2 * STEP_MS);
    const run = new Runner(ruleSet([fixed('r1', 0.3)]), [{ ...base, mute_id: 'm1', until }]);
    const fired = run.step({ snap: BREACH, nowMs: T0_MS });
    expect(outcome(fired, 'r1').verdict).toBe('fired');
    expect(fired.signals.every((s) => s.channel === 'muted')).toBe(true);
    const clearedWhileMuted = run.step({ snap: CALM, nowMs: T0_MS + STEP_MS });
    expect(summary(clearedWhileMuted)).toEqual(['muted:a:hold:0', 'muted:b:hold:0']);
    // After expiry a new breach is a new episode, published.
    const refired = run.step({ snap: BREACH, nowMs: T0_MS + 3 * STEP_MS });
    expect(summary(refired)).toEqual(['enforce:a:reduce:0.3', 'enforce:b:reduce:0.3']);
  });

  it('a breach still on when its mute expires is told to the gateway once, then the episode is quiet', () => {
    const run = new Runner(ruleSet([fixed('r1', 0.3)]), [
      { ...base, mute_id: 'm1', until: iso(T0_MS + STEP_MS) },
    ]);
    run.step({ snap: BREACH, nowMs: T0_MS });
    expect(run.episode('r1')?.muted_strategies).toEqual(['a', 'b']);
    const later = run.step({ snap: BREACH, nowMs: T0_MS + 2 * STEP_MS });
    expect(outcome(later, 'r1').verdict).toBe('unmuted');
    expect(summary(later)).toEqual(['enforce:a:reduce:0.3', 'enforce:b:reduce:0.3']);
    expect(run.episode('r1')?.muted_strategies).toBeUndefined();
    const after = run.step({ snap: BREACH, nowMs: T0_MS + 3 * STEP_MS });
    expect(outcome(after, 'r1').verdict).toBe('active');
    expect(after.signals).toEqual([]);
  });

  it('only the strategies whose mute ended are told', () => {
    const run = new Runner(ruleSet([fixed('r1', 0.3)]), [
      { ...base, mute_id: 'm_a', strategy_id: 'a', until: iso(T0_MS + STEP_MS) },
      { ...base, mute_id: 'm_b', strategy_id: 'b', until: iso(T0_MS + 10 * STEP_MS) },
    ]);
    run.step({ snap: BREACH, nowMs: T0_MS });
    const later = run.step({ snap: BREACH, nowMs: T0_MS + 2 * STEP_MS });
    expect(summary(later)).toEqual(['enforce:a:reduce:0.3']);
    expect(run.episode('r1')?.muted_strategies).toEqual(['b']);
  });
});
