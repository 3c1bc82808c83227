import { describe, expect, it } from 'vitest';
import { snapshot } from '../rules/fixtures.js';
import { iso, outcome, Runner, ruleSet, STEP_MS, summary, T0_MS } from './harness.js';

/**
 * Approval mode: a cleared episode proposes a hold only to strategies whose cut ops approved (or the
 * timeout sweep emitted). A rejected or timed-out-and-dropped proposal never reached the gateway, so
 * there is nothing to undo and no hold is proposed for it.
 */

const snap = (loss: number) =>
  snapshot({ weights: { a: 0.6, b: 0.4 }, stress: { world: { crash: { max_drawdown: loss } } } });
const BREACH = snap(0.3);
const CALM = snap(0.1);
const needsOk = {
  id: 'needs_ok',
  kind: 'stress_drawdown',
  limit: 0.2,
  mode: 'approval',
  approval: {},
  action: { type: 'reduce_fixed', ratio: 0.4 },
};

describe('approval holds', () => {
  it('no cut approved: the cleared episode proposes no hold at all', () => {
    const run = new Runner(ruleSet([needsOk]));
    expect(summary(run.step({ snap: BREACH, nowMs: T0_MS }))).toEqual([
      'approval:a:reduce:0.4',
      'approval:b:reduce:0.4',
    ]);
    const cleared = run.step({ snap: CALM, nowMs: T0_MS + STEP_MS });
    expect(outcome(cleared, 'needs_ok').verdict).toBe('cleared');
    expect(summary(cleared)).toEqual([]);
  });

  it('only the strategy whose cut was approved gets the hold proposal', () => {
    const run = new Runner(ruleSet([needsOk]));
    run.step({ snap: BREACH, nowMs: T0_MS });
    // Ops approved a's proposal; b's was rejected (it is simply absent from the approved cuts).
    run.approvedCuts.push({ strategy_id: 'a', rule_ids: ['needs_ok'], emitted_at: iso(T0_MS) });
    const cleared = run.step({ snap: CALM, nowMs: T0_MS + STEP_MS });
    expect(summary(cleared)).toEqual(['approval:a:hold:0']);
  });

  it('an approval from an earlier episode of the same rule does not earn a hold in a later one', () => {
    const run = new Runner(ruleSet([needsOk]));
    run.step({ snap: BREACH, nowMs: T0_MS });
    run.approvedCuts.push({ strategy_id: 'a', rule_ids: ['needs_ok'], emitted_at: iso(T0_MS) });
    expect(summary(run.step({ snap: CALM, nowMs: T0_MS + STEP_MS }))).toEqual(['approval:a:hold:0']);
    // A second episode whose proposals nobody approves.
    run.step({ snap: BREACH, nowMs: T0_MS + 2 * STEP_MS });
    expect(summary(run.step({ snap: CALM, nowMs: T0_MS + 3 * STEP_MS }))).toEqual([]);
  });

  it('an approved cut of another rule does not earn this rule a hold', () => {
    const run = new Runner(ruleSet([needsOk]));
    run.step({ snap: BREACH, nowMs: T0_MS });
    run.approvedCuts.push({ strategy_id: 'a', rule_ids: ['other_rule'], emitted_at: iso(T0_MS) });
    expect(summary(run.step({ snap: CALM, nowMs: T0_MS + STEP_MS }))).toEqual([]);
  });

  it('enforce-mode holds are unaffected', () => {
    const run = new Runner(ruleSet([{ ...needsOk, mode: 'enforce' }]));
    run.step({ snap: BREACH, nowMs: T0_MS });
    expect(summary(run.step({ snap: CALM, nowMs: T0_MS + STEP_MS }))).toEqual([
      'enforce:a:hold:0',
      'enforce:b:hold:0',
    ]);
  });
});
