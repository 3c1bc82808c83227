import { parseDuration } from '#lib/engine/ops.js';
import type { OpsSignalItem } from '#lib/engine/ports.js';
import { type CliCommand, didYouMean, parseFlags, UsageError } from '../args.js';
import { asUsage, commonFlags, untilFlag } from '../ops/flags.js';
import { formatSpan } from '../ops/format.js';
import { assertKnownWorld, out, withTarget } from '../ops/run.js';
import { OpsCliError } from '../ops/signed-client.js';
import type { OpsTarget } from '../ops/targets.js';

/**
 * The ops CLI's decisions: approve, reject (one signal, several, or a whole evaluation), mute,
 * unmute. Each goes through the ops service (locally) or the signed ops URL (AWS), which enforces
 * the rules (four eyes, mute validation); the CLI prints the service's errors as they come.
 */

/** The signals a decision covers: the ids given, or every proposed signal of one evaluation. */
async function selectSignals(
  t: OpsTarget,
  ids: string[],
  evaluation: string | undefined,
): Promise<{ ids: string[]; queue: OpsSignalItem[] }> {
  const queue = await t.ops.pending();
  if (evaluation === undefined) return { ids, queue };
  const key = evaluation.trim();
  const matches = queue.filter((s) => s.evaluation_key.startsWith(key));
  if (matches.length === 0) {
    const keys = [...new Set(queue.map((s) => s.evaluation_key.slice(0, 16)))];
    throw new OpsCliError(
      `no proposed signals in evaluation '${key}'${didYouMean(key, keys) || (keys.length > 0 ? `; pending evaluations: ${keys.slice(0, 10).join(', ')}` : '; nothing is waiting for approval')}`,
    );
  }
  const evaluations = new Set(matches.map((s) => `${s.world_id} ${s.evaluation_key}`));
  if (evaluations.size > 1)
    throw new OpsCliError(
      `'${key}' matches ${evaluations.size} evaluations; give more of the key (see 'pending')`,
    );
  return { ids: matches.map((s) => s.signal_id), queue };
}

/**
 * A world-wide cut is one decision sized for all strategies together; approving part of it leaves
 * the portfolio over its limit. Names what stays proposed, and the command that covers it all.
 */
function partialCutWarnings(ids: string[], queue: OpsSignalItem[]): string[] {
  const chosen = new Set(ids);
  const warnings: string[] = [];
  const seen = new Set<string>();
  for (const s of queue) {
    if (!chosen.has(s.signal_id) || !s.tags.includes('scope:world')) continue;
    const k = `${s.world_id}\u0000${s.evaluation_key}`;
    if (seen.has(k)) continue;
    seen.add(k);
    const cut = queue.filter(
      (o) =>
        o.world_id === s.world_id && o.evaluation_key === s.evaluation_key && o.tags.includes('scope:world'),
    );
    const left = cut.filter((o) => !chosen.has(o.signal_id));
    if (left.length === 0) continue;
    warnings.push(
      `warning: ${cut.length - left.length} of the ${cut.length} signals of a world-wide cut in ${s.world_id} (evaluation ${s.evaluation_key.slice(0, 16)}, rules ${s.rule_ids.join(', ')}); still proposed: ${left.map((o) => `${o.signal_id} (${o.strategy_id})`).join(', ')}. The cut was sized for all of them together; decide the rest with --evaluation ${s.evaluation_key.slice(0, 16)}`,
    );
  }
  return warnings;
}

function decisionCommand(name: 'approve' | 'reject'): CliCommand {
  return {
    name,
    summary:
      name === 'approve'
        ? 'Approves proposed signals: one or several ids, or every signal of one evaluation (--evaluation KEY, from pending). Publishes each, or records the first of two approvals (four eyes). Warns when only part of a world-wide cut is approved.'
        : 'Rejects proposed signals: one or several ids, or every signal of one evaluation (--evaluation KEY). Nothing is published.',
    usage: `exit-engine ${name} (SIGNAL_ID... | --evaluation KEY) --reason TEXT [--json] [--stack NAME [--region R]]`,
    async run(argv) {
      const { values, positionals } = parseFlags(
        argv,
        { ...commonFlags, reason: { type: 'string' }, evaluation: { type: 'string' } },
        true,
      );
      if (values.evaluation !== undefined && positionals.length > 0)
        throw new UsageError('give signal ids or --evaluation KEY, not both');
      if (values.evaluation === undefined && positionals.length === 0)
        throw new UsageError(`give the signal id(s) to ${name}, or --evaluation KEY (see 'pending')`);
      if (values.evaluation !== undefined && values.evaluation.trim().length < 6)
        throw new UsageError('--evaluation: give at least 6 characters of the key (see pending)');
      if (!values.reason?.trim())
        throw new UsageError('--reason is required (why you decide this, for the audit trail)');
      return withTarget(name, values, async (t, print) => {
        const { ids, queue } = await selectSignals(t, positionals, values.evaluation);
        const warnings = name === 'approve' ? partialCutWarnings(ids, queue) : [];
        const results: Record<string, unknown>[] = [];
        let failed = 0;
        for (const id of ids) {
          try {
            const result = await t.decide({ command: name, signal_id: id, reason: values.reason! });
            results.push({ signal_id: id, ...result });
            if (!values.json) print(describeDecision(name, id, t.actor, result));
          } catch (error) {
            // One refusal (already decided, same approver twice) must not stop the rest of the batch.
            if (ids.length === 1 || !(error instanceof Error) || !/^Ops/.test(error.name)) throw error;
            failed += 1;
            results.push({ signal_id: id, outcome: 'refused', error: error.message });
            console.error(`exit-engine ${name}: ${id}: ${error.message}`);
          }
        }
        for (const w of warnings) console.error(w);
        if (values.json)
          out(
            values,
            print,
            ids.length === 1 && positionals.length === 1 ? results[0] : { results, warnings },
            () => '',
          );
        return failed > 0 ? 1 : 0;
      });
    },
  };
}

function describeDecision(name: string, id: string, actor: string, result: Record<string, unknown>): string {
  switch (result.outcome) {
    case 'awaiting_second_approval':
      return `recorded your approval of ${id} as ${actor}; four eyes: a second, different approver must approve it`;
    case 'published':
      return `approved ${id} as ${actor}; published exit_signal_emitted ${String(result.event_id)}`;
    case 'approved_publish_pending':
      return `approved ${id} as ${actor}; its publish is pending and will be completed by the approval-timeout sweep (event ${String(result.event_id)})`;
    default:
      return name === 'reject'
        ? `rejected ${id} as ${actor}; nothing is published`
        : `${name} ${id}: ${String(result.outcome)}`;
  }
}

export const approveCommand = decisionCommand('approve');
export const rejectCommand = decisionCommand('reject');

export const muteCommand: CliCommand = {
  name: 'mute',
  summary: 'Silences a rule (or all rules) for a world or a strategy until a time, with a reason.',
  usage:
    'exit-engine mute --world W [--strategy S] [--rule R] (--for 2h | --until +2h | --until ISO) --reason TEXT [--allow-unknown-world] [--json] [--stack NAME]',
  async run(argv) {
    const { values } = parseFlags(argv, {
      ...commonFlags,
      world: { type: 'string' },
      strategy: { type: 'string' },
      rule: { type: 'string' },
      for: { type: 'string' },
      until: { type: 'string' },
      reason: { type: 'string' },
      'allow-unknown-world': { type: 'boolean' },
    });
    if (!values.world?.trim()) throw new UsageError('--world is required');
    if (!values.reason?.trim())
      throw new UsageError('--reason is required (why you mute, for the audit trail)');
    if ((values.for === undefined) === (values.until === undefined))
      throw new UsageError('give exactly one of --for (e.g. 2h) or --until (+2h, or an ISO time)');
    const now = Date.now();
    const untilMs =
      values.for !== undefined
        ? now + asUsage(() => parseDuration(values.for!, 'for'))
        : untilFlag('until', values.until!, now);
    if (untilMs <= now)
      throw new UsageError(`--until: ${new Date(untilMs).toISOString()} is not in the future`);
    return withTarget('mute', values, async (t, print) => {
      if (!values['allow-unknown-world']) await assertKnownWorld(t, values.world!);
      const result = await t.decide({
        command: 'mute',
        world: values.world!,
        ...(values.strategy ? { strategy: values.strategy } : {}),
        ...(values.rule ? { rule: values.rule } : {}),
        until: new Date(untilMs).toISOString(),
        reason: values.reason!,
      });
      const m = result.mute as { mute_id: string; until: string };
      out(
        values,
        print,
        result,
        () =>
          `${result.outcome === 'muted' ? 'muted' : result.outcome === 'awaiting_second_approval' ? `awaiting a second approver (${String(result.why)}; another person runs 'mute-approve --world ${values.world} --id ${m.mute_id}')` : 'already muted (same request)'}: ${m.mute_id} — world ${values.world}, ${values.strategy ? `strategy ${values.strategy}` : 'all strategies'}, ${values.rule ? `rule ${values.rule}` : 'all rules'}, until ${m.until} (${formatSpan(Date.parse(m.until) - Date.now())})`,
      );
      return 0;
    });
  },
};

export const muteApproveCommand: CliCommand = {
  name: 'mute-approve',
  summary: 'Second approval of a mute that needs one (long or world-wide); must come from another person.',
  usage: 'exit-engine mute-approve --world W --id MUTE_ID --reason TEXT [--json] [--stack NAME]',
  async run(argv) {
    const { values } = parseFlags(argv, {
      ...commonFlags,
      world: { type: 'string' },
      id: { type: 'string' },
      reason: { type: 'string' },
    });
    if (!values.world?.trim()) throw new UsageError('--world is required');
    if (!values.id?.trim()) throw new UsageError('--id is required (the mute id the request printed)');
    if (!values.reason?.trim())
      throw new UsageError('--reason is required (why you agree, for the audit trail)');
    return withTarget('mute-approve', values, async (t, print) => {
      const result = await t.decide({
        command: 'approve_mute',
        world: values.world!,
        mute_id: values.id!,
        reason: values.reason!,
      });
      const m = result.mute as { mute_id: string; until: string };
      out(values, print, result, () => `muted: ${m.mute_id} — world ${values.world}, until ${m.until}`);
      return 0;
    });
  },
};

export const unmuteCommand: CliCommand = {
  name: 'unmute',
  summary: 'Ends a mute before its time: by id, or every active mute with exactly these selectors.',
  usage:
    'exit-engine unmute --world W (--id MUTE_ID | [--strategy S] [--rule R]) --reason TEXT [--json] [--stack NAME]',
  async run(argv) {
    const { values } = parseFlags(argv, {
      ...commonFlags,
      world: { type: 'string' },
      id: { type: 'string' },
      strategy: { type: 'string' },
      rule: { type: 'string' },
      reason: { type: 'string' },
    });
    if (!values.world?.trim()) throw new UsageError('--world is required');
    if (values.id && (values.strategy || values.rule))
      throw new UsageError('give --id or the selectors (--strategy/--rule), not both');
    return withTarget('unmute', values, async (t, print) => {
      const result = await t.decide({
        command: 'unmute',
        world: values.world!,
        ...(values.id ? { mute_id: values.id } : {}),
        ...(values.strategy ? { strategy: values.strategy } : {}),
        ...(values.rule ? { rule: values.rule } : {}),
        ...(values.reason ? { reason: values.reason } : {}),
      });
      const ended = (result.mutes ?? []) as { mute_id: string }[];
      out(
        values,
        print,
        result,
        () => `unmuted ${ended.map((m) => m.mute_id).join(', ')} in world ${values.world}`,
      );
      return 0;
    });
  },
};
