import { describe, expect, it } from 'vitest';
import type { EpisodeState } from '#lib/engine/episodes.js';
import { proposalOverReason } from '#lib/engine/proposal-ground.js';

/** When a proposed cut no longer stands on an open risk episode (engine/proposal-ground.ts). */

const EMITTED = '2025-03-10T21:00:00.000Z';
const proposal = (over: Partial<Parameters<typeof proposalOverReason>[0]> = {}) => ({
  action: 'reduce' as const,
  rule_ids: ['var_limit'],
  strategy_id: 'alpha',
  emitted_at: EMITTED,
  ...over,
});
const episode = (rule: string, scope: string, over: Partial<EpisodeState> = {}): [string, EpisodeState] => [
  `${rule}#${scope}`,
  {
    rule_id: rule,
    scope_key: scope,
    status: 'active',
    breach_count: 1,
    version: 1,
    opened_at: EMITTED,
    ...over,
  },
];

describe('proposalOverReason', () => {
  it('stands while its world-scope or strategy-scope episode is open since the proposal', () => {
    expect(proposalOverReason(proposal(), new Map([episode('var_limit', 'world')]))).toBeUndefined();
    expect(proposalOverReason(proposal(), new Map([episode('var_limit', 'alpha')]))).toBeUndefined();
    const earlier = episode('var_limit', 'world', { opened_at: '2025-03-10T20:00:00.000Z' });
    expect(proposalOverReason(proposal(), new Map([earlier]))).toBeUndefined();
  });

  it('is over when the episode cleared, naming the rule', () => {
    const cleared = episode('var_limit', 'world', {
      status: 'idle',
      opened_at: undefined,
      last_as_of: '2025-03-10T21:05:00Z',
    });
    expect(proposalOverReason(proposal(), new Map([cleared]))).toBe(
      'the risk episode behind it is over: var_limit cleared (last evaluated on data as of 2025-03-10T21:05:00Z)',
    );
    // A breach building up again (pending) is not the episode the proposal came from either.
    expect(
      proposalOverReason(proposal(), new Map([episode('var_limit', 'world', { status: 'pending' })])),
    ).toMatch(/var_limit cleared/);
  });

  it('is over when the episode cleared and a new one opened after the proposal', () => {
    const reopened = episode('var_limit', 'world', { opened_at: '2025-03-10T21:30:00.000Z' });
    expect(proposalOverReason(proposal(), new Map([reopened]))).toMatch(
      /var_limit cleared and a new episode opened at 2025-03-10T21:30:00.000Z, with its own proposal/,
    );
  });

  it('a merged proposal stands while any of its rules still breaches', () => {
    const eps = new Map([
      episode('var_limit', 'world', { status: 'idle' }),
      episode('concentration', 'alpha'),
    ]);
    expect(proposalOverReason(proposal({ rule_ids: ['var_limit', 'concentration'] }), eps)).toBeUndefined();
    eps.set('concentration#alpha', { ...eps.get('concentration#alpha')!, status: 'idle' });
    expect(proposalOverReason(proposal({ rule_ids: ['var_limit', 'concentration'] }), eps)).toMatch(
      /var_limit cleared; concentration cleared/,
    );
  });

  it('judges nothing without evidence: no episode rows, or a hold (an episode clear) proposal', () => {
    expect(proposalOverReason(proposal(), new Map())).toBeUndefined();
    expect(
      proposalOverReason(proposal(), new Map([episode('other_rule', 'world', { status: 'idle' })])),
    ).toBeUndefined();
    const cleared = new Map([episode('var_limit', 'world', { status: 'idle' })]);
    expect(proposalOverReason(proposal({ action: 'hold' }), cleared)).toBeUndefined();
  });
});
