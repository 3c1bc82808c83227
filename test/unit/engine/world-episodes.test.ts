import { describe, expect, it } from 'vitest';
import { snapshot } from '../rules/fixtures.js';
import { outcome, Runner, ruleSet, STEP_MS, signalFor, summary, T0_MS } from './harness.js';

/**
 * Episodes that cover the world: a strategy that joins while a world-wide episode is open gets its
 * standing action at once and its hold at the end; when a stricter episode clears while a milder
 * one is still open, each strategy it had cut is told the standing action instead of nothing.
 */

const clock = (k: number) => T0_MS + k * STEP_MS;
/** A snapshot whose worst stress scenario loses `loss` (a measure no weight changes). */
const stressed = (weights: Record<string, number>, loss: number) =>
  snapshot({ weights, stress: { world: { crash: { max_drawdown: loss } } } });

describe('a strategy joining a world with an open world-scope episode', () => {
  it('gets the standing exit at once and is part of the hold when the episode ends', () => {
    const run = new Runner(
      ruleSet([{ id: 'stress_exit', kind: 'stress_drawdown', limit: 0.2, action: { type: 'exit' } }]),
    );
    const fired = run.step({ snap: stressed({ a: 0.5, b: 0.5 }, 0.3), nowMs: clock(0) });
    expect(summary(fired)).toEqual(['enforce:a:exit:1', 'enforce:b:exit:1']);

    // `c` appears while the episode is open: told to exit now, the others hear nothing new.
    const joined = run.step({ snap: stressed({ a: 0.5, b: 0.3, c: 0.2 }, 0.3), nowMs: clock(1) });
    expect(summary(joined)).toEqual(['enforce:c:exit:1']);
    expect(outcome(joined, 'stress_exit').verdict).toBe('joined');
    expect(signalFor(joined, 'c')!.signal.metrics.verdict).toBe('joined');
    expect(signalFor(joined, 'c')!.signal.tags).toContain('scope:world');

    // No repeat on the next evaluation.
    expect(run.step({ snap: stressed({ a: 0.5, b: 0.3, c: 0.2 }, 0.3), nowMs: clock(2) }).signals).toEqual(
      [],
    );

    const cleared = run.step({ snap: stressed({ a: 0.5, b: 0.3, c: 0.2 }, 0.1), nowMs: clock(3) });
    expect(summary(cleared)).toEqual(['enforce:a:hold:0', 'enforce:b:hold:0', 'enforce:c:hold:0']);
  });

  it('gets the episode’s standing uniform cut, not a fresh one', () => {
    // 0.25 against 0.2: every strategy cut by 1 − 0.2/0.25 = 0.2; the episode lasts down to 0.1.
    const run2 = new Runner(ruleSet([{ id: 'stress_cut', kind: 'stress_drawdown', limit: 0.2, clear: 0.1 }]));
    expect(summary(run2.step({ snap: stressed({ a: 0.5, b: 0.5 }, 0.25), nowMs: clock(0) }))).toEqual([
      'enforce:a:reduce:0.2',
      'enforce:b:reduce:0.2',
    ]);
    // `c` joins while the measure is between clear and limit: it gets the standing 0.2.
    const joined2 = run2.step({ snap: stressed({ a: 0.4, b: 0.4, c: 0.2 }, 0.15), nowMs: clock(1) });
    expect(summary(joined2)).toEqual(['enforce:c:reduce:0.2']);
    const cleared = run2.step({ snap: stressed({ a: 0.4, b: 0.4, c: 0.2 }, 0.05), nowMs: clock(2) });
    expect(summary(cleared)).toEqual(['enforce:a:hold:0', 'enforce:b:hold:0', 'enforce:c:hold:0']);
  });

  it('a strategy that was held all along but not cut (max weight trims only the heavy one) is not a joiner', () => {
    const run = new Runner(
      ruleSet([{ id: 'max_w', kind: 'concentration', measure: 'max_weight', limit: 0.6, clear: 0.5 }]),
    );
    expect(summary(run.step({ snap: snapshot({ weights: { a: 0.75, b: 0.25 } }), nowMs: clock(0) }))).toEqual(
      ['enforce:a:reduce:0.2'],
    );
    expect(run.step({ snap: snapshot({ weights: { a: 0.75, b: 0.25 } }), nowMs: clock(1) }).signals).toEqual(
      [],
    );
  });
});

describe('an episode clearing while another is still open', () => {
  const rules = ruleSet([
    { id: 'stress_exit', kind: 'stress_drawdown', limit: 0.3, action: { type: 'exit' } },
    // Σ|w| = 1 against 0.8: a uniform cut of 0.2 for as long as the weights stay.
    { id: 'gross', kind: 'concentration', measure: 'gross_leverage', limit: 0.8 },
  ]);
  const W = { a: 0.5, b: 0.5 };

  it('an exit clearing under an open reduce tells each strategy the standing reduce', () => {
    const run = new Runner(rules);
    const fired = run.step({ snap: stressed(W, 0.35), nowMs: clock(0) });
    expect(summary(fired)).toEqual(['enforce:a:exit:1', 'enforce:b:exit:1']);
    const cleared = run.step({ snap: stressed(W, 0.1), nowMs: clock(1) });
    expect(outcome(cleared, 'stress_exit').verdict).toBe('cleared');
    expect(outcome(cleared, 'gross').verdict).toBe('active');
    expect(summary(cleared)).toEqual(['enforce:a:reduce:0.2', 'enforce:b:reduce:0.2']);
    const a = signalFor(cleared, 'a')!.signal;
    expect(a.tags).toContain('rule:gross');
    expect(a.metrics).toMatchObject({ verdict: 'standing', cleared_rule_id: 'stress_exit' });
    // The reduce episode's own end then says hold.
    const over = run.step({ snap: stressed({ a: 0.4, b: 0.4 }, 0.1), nowMs: clock(2) });
    expect(summary(over)).toEqual(['enforce:a:hold:0', 'enforce:b:hold:0']);
  });

  it('a reduce clearing under an open exit sends nothing (the exit still stands)', () => {
    const run = new Runner(rules);
    run.step({ snap: stressed(W, 0.35), nowMs: clock(0) });
    const cleared = run.step({ snap: stressed({ a: 0.4, b: 0.4 }, 0.35), nowMs: clock(1) });
    expect(outcome(cleared, 'gross').verdict).toBe('cleared');
    expect(cleared.signals).toEqual([]);
  });

  it('a strategy the open episode never cut gets its hold', () => {
    // max weight trims only `a`; the stress exit covered both. When the exit clears, `b` is told
    // hold (nobody asks it to cut any more) and `a` the standing trim.
    const run = new Runner(
      ruleSet([
        { id: 'stress_exit', kind: 'stress_drawdown', limit: 0.3, action: { type: 'exit' } },
        { id: 'max_w', kind: 'concentration', measure: 'max_weight', limit: 0.6 },
      ]),
    );
    run.step({ snap: stressed({ a: 0.75, b: 0.25 }, 0.35), nowMs: clock(0) });
    const cleared = run.step({ snap: stressed({ a: 0.75, b: 0.25 }, 0.1), nowMs: clock(1) });
    expect(summary(cleared)).toEqual(['enforce:a:reduce:0.2', 'enforce:b:hold:0']);
  });
});
