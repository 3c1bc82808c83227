import { describe, expect, it } from 'vitest';
import { RuleSetSchema } from '#lib/rules/rule-schema.js';
import { snapshot } from '../rules/fixtures.js';
import { iso, outcome, Runner, ruleSet, summary, T0_MS } from './harness.js';

/**
 * `cooldown` and `lockout` run on the snapshots' as_of timeline: a cut stands at least `lockout`
 * after the snapshot it fired on, and the hold waits `cooldown` after the measure first cleared. The
 * evaluation clock is set far apart from as_of here, so a test would fail if either used it.
 */

const MIN = 60_000;
const snap = (loss: number, minute: number) =>
  snapshot({
    weights: { a: 0.6, b: 0.4 },
    stress: { world: { crash: { max_drawdown: loss } } },
    asOf: iso(T0_MS + minute * MIN),
  });
const exitRule = (extra: Record<string, unknown>) => ({
  id: 'stress_exit',
  kind: 'stress_drawdown',
  limit: 0.2,
  clear: 0.15,
  action: { type: 'exit' },
  ...extra,
});
/** Evaluations run a day after their snapshot's as_of, each a further hour apart: the clock says nothing. */
const at = (k: number) => T0_MS + 86_400_000 + k * 3_600_000;

describe('cooldown after an exit', () => {
  it('without a cooldown the hold goes out on the first clear snapshot (the failing case it changes)', () => {
    const run = new Runner(ruleSet([exitRule({})]));
    run.step({ snap: snap(0.3, 0), nowMs: at(0) });
    expect(summary(run.step({ snap: snap(0.1, 5), nowMs: at(1) }))).toEqual([
      'enforce:a:hold:0',
      'enforce:b:hold:0',
    ]);
  });

  it('holds back the hold until 30m of as_of time after the measure cleared, then sends it once', () => {
    const run = new Runner(ruleSet([exitRule({ cooldown: '30m' })]));
    expect(summary(run.step({ snap: snap(0.3, 0), nowMs: at(0) }))).toEqual([
      'enforce:a:exit:1',
      'enforce:b:exit:1',
    ]);
    const first = run.step({ snap: snap(0.1, 5), nowMs: at(1) });
    expect(outcome(first, 'stress_exit').verdict).toBe('cooling_down');
    expect(summary(first)).toEqual([]);
    expect(run.episode('stress_exit')?.clear_since).toBe(iso(T0_MS + 5 * MIN));
    // 34 minutes of as_of later: 29 after the clear, still cooling (hours of evaluation clock passed).
    expect(summary(run.step({ snap: snap(0.1, 34), nowMs: at(2) }))).toEqual([]);
    // First evaluation at or after 5 + 30 minutes: the hold goes out.
    const done = run.step({ snap: snap(0.12, 36), nowMs: at(3) });
    expect(outcome(done, 'stress_exit').verdict).toBe('cleared');
    expect(summary(done)).toEqual(['enforce:a:hold:0', 'enforce:b:hold:0']);
    expect(summary(run.step({ snap: snap(0.1, 40), nowMs: at(4) }))).toEqual([]);
  });

  it('a measure that rises above the clear level during the cooldown restarts it', () => {
    const run = new Runner(ruleSet([exitRule({ cooldown: '30m' })]));
    run.step({ snap: snap(0.3, 0), nowMs: at(0) });
    run.step({ snap: snap(0.1, 5), nowMs: at(1) });
    // Between clear (0.15) and limit (0.2): no new signal, but the clear run is broken.
    const between = run.step({ snap: snap(0.18, 20), nowMs: at(2) });
    expect(outcome(between, 'stress_exit').verdict).toBe('active');
    expect(summary(between)).toEqual([]);
    expect(run.episode('stress_exit')?.clear_since).toBeUndefined();
    run.step({ snap: snap(0.1, 25), nowMs: at(3) });
    // 36 minutes after the first clear, but only 11 after the second: still cooling.
    expect(summary(run.step({ snap: snap(0.1, 36), nowMs: at(4) }))).toEqual([]);
    expect(summary(run.step({ snap: snap(0.1, 55), nowMs: at(5) }))).toEqual([
      'enforce:a:hold:0',
      'enforce:b:hold:0',
    ]);
  });
});

describe('lock-out', () => {
  it('keeps the cut for 1h after the snapshot it fired on, even though the measure cleared at once', () => {
    const run = new Runner(ruleSet([exitRule({ lockout: '1h' })]));
    run.step({ snap: snap(0.3, 0), nowMs: at(0) });
    expect(run.episode('stress_exit')?.opened_as_of).toBe(iso(T0_MS));
    const early = run.step({ snap: snap(0.05, 10), nowMs: at(1) });
    expect(outcome(early, 'stress_exit').verdict).toBe('locked_out');
    expect(summary(early)).toEqual([]);
    expect(summary(run.step({ snap: snap(0.05, 59), nowMs: at(2) }))).toEqual([]);
    expect(summary(run.step({ snap: snap(0.05, 60), nowMs: at(3) }))).toEqual([
      'enforce:a:hold:0',
      'enforce:b:hold:0',
    ]);
  });

  it('with a cooldown too, the hold waits for whichever ends later', () => {
    const run = new Runner(ruleSet([exitRule({ lockout: '1h', cooldown: '30m' })]));
    run.step({ snap: snap(0.3, 0), nowMs: at(0) });
    run.step({ snap: snap(0.1, 50), nowMs: at(1) });
    // Lock-out over at 60, cooldown (from 50) at 80.
    const mid = run.step({ snap: snap(0.1, 65), nowMs: at(2) });
    expect(outcome(mid, 'stress_exit').verdict).toBe('cooling_down');
    expect(summary(mid)).toEqual([]);
    expect(summary(run.step({ snap: snap(0.1, 80), nowMs: at(3) }))).toEqual([
      'enforce:a:hold:0',
      'enforce:b:hold:0',
    ]);
  });

  it('a market re-evaluation of the same snapshot never advances the lock-out', () => {
    const run = new Runner(ruleSet([exitRule({ lockout: '1h' })]));
    run.step({ snap: snap(0.3, 0), nowMs: at(0) });
    const calm = snap(0.05, 10);
    for (let k = 1; k <= 5; k++) expect(summary(run.step({ snap: calm, nowMs: at(k) }))).toEqual([]);
  });

  it('validates both as durations, naming the field', () => {
    const bad = RuleSetSchema.safeParse({ world: 'w1', rules: [exitRule({ cooldown: '30', lockout: 5 })] });
    expect(bad.success).toBe(false);
    const messages = bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(messages).toContain('rules.0.cooldown: must be a duration such as 90s, 15m, 2h or 1d');
    expect(messages).toContain('rules.0.lockout: must be a duration such as 90s, 15m, 2h or 1d');
  });
});
