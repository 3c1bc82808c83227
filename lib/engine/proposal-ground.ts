import { WORLD } from '#lib/rules/kinds/shared.js';
import { type EpisodeState, episodeKey } from './episodes.js';
import type { OpsSignalItem } from './ports.js';

/**
 * Whether a proposed cut still stands on an open risk episode. A proposal waits for a person; if the
 * breach behind it clears meanwhile (its episode closes, or closes and a new one opens with its own
 * proposal), approving it would cut a strategy that nothing is breaching any more, and no `hold`
 * would follow, because the clear was never told to the gateway. Such a proposal is over: approving
 * it is refused, and the approval-timeout sweep expires it (never its `emit` default).
 *
 * Only what the stored episodes prove counts: a proposal whose rules have no episode row at all (a
 * row written before episodes were kept, or a test's hand-written signal) is not judged here and
 * keeps the approval path it had. `hold` proposals (an episode's clear, in approval mode) are never
 * judged: they exist because the episode closed.
 */
export function proposalOverReason(
  item: Pick<OpsSignalItem, 'action' | 'rule_ids' | 'strategy_id' | 'emitted_at'>,
  episodes: ReadonlyMap<string, EpisodeState>,
): string | undefined {
  if (item.action === 'hold' || item.rule_ids.length === 0) return undefined;
  const emittedMs = Date.parse(item.emitted_at);
  const closed: string[] = [];
  for (const ruleId of item.rule_ids) {
    const states = [episodeKey(ruleId, item.strategy_id), episodeKey(ruleId, WORLD)]
      .map((k) => episodes.get(k))
      .filter((s): s is EpisodeState => s !== undefined);
    if (states.length === 0) return undefined; // nothing proves this rule's episode over
    const standing = states.find(
      (s) =>
        s.status === 'active' &&
        // The episode the proposal came from: opened at or before the proposal. One opened later is
        // a new breach, with its own proposal.
        (s.opened_at === undefined || !(Date.parse(s.opened_at) > emittedMs)),
    );
    if (standing) return undefined;
    const reopened = states.find((s) => s.status === 'active');
    closed.push(
      reopened
        ? `${ruleId} cleared and a new episode opened at ${reopened.opened_at}, with its own proposal`
        : `${ruleId} cleared${states[0]!.last_as_of ? ` (last evaluated on data as of ${states[0]!.last_as_of})` : ''}`,
    );
  }
  return `the risk episode behind it is over: ${closed.join('; ')}`;
}
