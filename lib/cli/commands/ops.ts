import type { AuditRecord, SignalStatus } from '#lib/engine/ports.js';
import { type CliCommand, didYouMean, oneOf, parseFlags, UsageError } from '../args.js';
import { commonFlags, countFlag, sinceFlag } from '../ops/flags.js';
import { auditSummary, evidence, formatSpan, pct, signalRow, table } from '../ops/format.js';
import { assertKnownWorld, out, positionalId, withTarget } from '../ops/run.js';

/**
 * The ops CLI's reads: signals, the approval queue, mutes and the audit trail. Decisions (approve,
 * reject, mute, unmute) are in ops-decide.ts; targets, the signed client and formatting in ../ops/.
 * Filters always apply before limits, and an unknown world, status or kind is refused by name.
 */

export { formatSpan, table } from '../ops/format.js';

const STATUSES: readonly SignalStatus[] = [
  'pending_publish',
  'published',
  'proposed',
  'approved',
  'rejected',
  'expired',
  'shadow',
  'muted',
];

/** Every kind of audit record the engine and the ops service write. */
export const AUDIT_KINDS: readonly AuditRecord['kind'][] = [
  'evaluation',
  'rejection',
  'out_of_order',
  'expired',
  'superseded',
  'ops_action',
];

export const signalsCommand: CliCommand = {
  name: 'signals',
  summary: 'Lists stored signals (newest first) or shows one with its full evidence.',
  usage:
    'exit-engine signals list [--world W] [--status S] [--since T] [--limit N] [--json] | exit-engine signals show ID [--json]  (target: local runtime, or --stack NAME [--region R])',
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub !== 'list' && sub !== 'show')
      throw new UsageError(
        `expected 'signals list' or 'signals show ID' (got '${sub ?? ''}')${sub ? didYouMean(sub, ['list', 'show']) : ''}`,
      );
    if (sub === 'show') {
      const { values, positionals } = parseFlags(rest, commonFlags, true);
      const id = positionalId(positionals, 'signal');
      return withTarget('signals show', values, async (t, print) => {
        const signal = await t.ops.getSignal(id);
        const records = (await t.ops.listAudit(signal.world_id, signal.emitted_at)).filter(
          (r) =>
            (r.kind === 'evaluation' && String(r.record_id).startsWith(`${signal.emitted_at}#evaluation#`)) ||
            (r.kind === 'ops_action' && (r.target as { id?: string } | undefined)?.id === signal.signal_id),
        );
        const { approved_event, ...row } = signal;
        out(values, print, { signal: row, approved_event, audit: records }, () => {
          const lines = [
            `signal     ${signal.signal_id}`,
            `world      ${signal.world_id}    strategy ${signal.strategy_id}`,
            `action     ${signal.action} ${pct(signal.reduction_ratio)}    reason ${signal.reason}`,
            `status     ${signal.status}    mode ${signal.mode}    severity ${signal.severity}`,
            `rules      ${signal.rule_ids.join(', ')}    rule set ${signal.ruleset_version}`,
            `snapshot   ${signal.snapshot_version} as of ${signal.as_of}    emitted ${signal.emitted_at}`,
            ...(signal.approval
              ? [
                  `approval   deadline ${signal.approval.deadline}, default ${signal.approval.default}${signal.approval.four_eyes ? ', four eyes' : ''}`,
                ]
              : []),
            ...(signal.approvals ?? []).map((a) => `approved   by ${a.actor} at ${a.at}: ${a.reason}`),
            ...(signal.decided_by
              ? [
                  `decided    ${signal.status} by ${signal.decided_by} at ${signal.decided_at}: ${signal.decision_reason}`,
                ]
              : []),
            ...(signal.event_id
              ? [
                  `event      ${signal.event_id}${signal.published_at ? ` published ${signal.published_at}` : ''}`,
                ]
              : []),
            ...(signal.mute_id ? [`muted by   ${signal.mute_id}`] : []),
            `tags       ${signal.tags.join(' ')}`,
            'metrics',
            ...JSON.stringify(signal.metrics, null, 2)
              .split('\n')
              .map((l) => `  ${l}`),
            'audit',
            ...records.map(
              (r) => `  ${String(r.record_id).slice(0, 24)}  ${r.kind.padEnd(10)}  ${auditSummary(r)}`,
            ),
          ];
          return lines.join('\n');
        });
        return 0;
      });
    }
    const { values, positionals } = parseFlags(
      rest,
      {
        ...commonFlags,
        world: { type: 'string' },
        status: { type: 'string' },
        since: { type: 'string' },
        limit: { type: 'string' },
      },
      true,
    );
    if (positionals.length > 0) throw new UsageError(`unexpected argument(s): ${positionals.join(' ')}`);
    const status = values.status === undefined ? undefined : oneOf('status', values.status, STATUSES);
    const since =
      values.since === undefined
        ? undefined
        : new Date(sinceFlag('since', values.since, Date.now())).toISOString();
    const limit = countFlag('limit', values.limit, 50);
    return withTarget('signals list', values, async (t, print) => {
      const signals = await t.ops.listSignals({
        ...(values.world ? { world_id: values.world } : {}),
        ...(status ? { status } : {}),
        ...(since ? { since } : {}),
        limit,
      });
      if (signals.length === 0 && values.world) await assertKnownWorld(t, values.world);
      out(values, print, signals, () =>
        signals.length === 0
          ? 'no signals match'
          : table(
              ['SIGNAL', 'WORLD', 'STRATEGY', 'ACTION', 'RATIO', 'REASON', 'STATUS', 'MODE', 'EMITTED'],
              signals.map(signalRow),
            ),
      );
      return 0;
    });
  },
};

export const pendingCommand: CliCommand = {
  name: 'pending',
  summary:
    'The approval queue: proposed signals, soonest deadline first, with the evidence (measure against limit), the time left and the evaluation they belong to (approve a whole cut with approve --evaluation KEY).',
  usage: 'exit-engine pending [--world W] [--json] [--stack NAME [--region R]]',
  async run(argv) {
    const { values } = parseFlags(argv, { ...commonFlags, world: { type: 'string' } });
    return withTarget('pending', values, async (t, print) => {
      const now = Date.now();
      const items = (await t.ops.pending()).filter((s) => !values.world || s.world_id === values.world);
      if (items.length === 0 && values.world) await assertKnownWorld(t, values.world);
      const rows = items.map((s) => ({
        ...s,
        time_left_sec: Math.round((Date.parse(s.approval?.deadline ?? s.emitted_at) - now) / 1000),
        evidence: evidence(s),
      }));
      out(values, print, rows, () =>
        rows.length === 0
          ? 'no signals waiting for approval'
          : table(
              [
                'SIGNAL',
                'WORLD',
                'STRATEGY',
                'ACTION',
                'RATIO',
                'RULES',
                'EVIDENCE',
                'TIME LEFT',
                'DEFAULT',
                'APPROVALS',
                'EVALUATION',
              ],
              rows.map((s) => [
                s.signal_id,
                s.world_id,
                s.strategy_id,
                s.action,
                pct(s.reduction_ratio),
                s.rule_ids.join(','),
                s.evidence,
                formatSpan(s.time_left_sec * 1000),
                s.approval?.default ?? 'drop',
                `${(s.approvals ?? []).length}/${s.approval?.four_eyes ? 2 : 1}`,
                `${s.evaluation_key.slice(0, 16)}${s.tags.includes('scope:world') ? ' (world-wide)' : ''}`,
              ]),
            ),
      );
      return 0;
    });
  },
};

export const mutesCommand: CliCommand = {
  name: 'mutes',
  summary: 'Lists active mutes (with --all, also ended and expired ones).',
  usage: 'exit-engine mutes [--world W] [--all] [--json] [--stack NAME [--region R]]',
  async run(argv) {
    const { values } = parseFlags(argv, {
      ...commonFlags,
      world: { type: 'string' },
      all: { type: 'boolean' },
    });
    return withTarget('mutes', values, async (t, print) => {
      const result = await t.decide({
        command: 'mutes',
        ...(values.world ? { world: values.world } : {}),
        all: values.all ?? false,
      });
      const mutes = (result.mutes ?? []) as (Record<string, string> & { state: string })[];
      if (mutes.length === 0 && values.world) await assertKnownWorld(t, values.world);
      const now = Date.now();
      out(values, print, mutes, () =>
        mutes.length === 0
          ? `no ${values.all ? '' : 'active '}mutes${values.world ? ` in world ${values.world}` : ''}`
          : table(
              ['MUTE', 'WORLD', 'STRATEGY', 'RULE', 'UNTIL', 'LEFT', 'STATE', 'BY', 'REASON'],
              mutes.map((m) => [
                m.mute_id ?? '',
                m.world_id ?? '',
                m.strategy_id ?? '*',
                m.rule_id ?? '*',
                m.until ?? '',
                m.state === 'active' ? formatSpan(Date.parse(m.until ?? '') - now) : '-',
                m.state,
                m.actor ?? '',
                m.reason ?? '',
              ]),
            ),
      );
      return 0;
    });
  },
};

export const auditCommand: CliCommand = {
  name: 'audit',
  summary:
    "A world's audit trail (evaluations, rejections, ops actions), oldest first. Filters (--since, --kind) apply before --limit; --newest lists newest first, --tail N shows the last N.",
  usage:
    'exit-engine audit --world W [--since T] [--kind K] [--limit N | --tail N] [--newest] [--json] [--stack NAME [--region R]]',
  async run(argv) {
    const { values } = parseFlags(argv, {
      ...commonFlags,
      world: { type: 'string' },
      since: { type: 'string' },
      kind: { type: 'string' },
      limit: { type: 'string' },
      tail: { type: 'string' },
      newest: { type: 'boolean' },
    });
    if (!values.world?.trim()) throw new UsageError('--world is required');
    if (values.limit !== undefined && values.tail !== undefined)
      throw new UsageError('give --limit N (the first N) or --tail N (the last N), not both');
    const kind = values.kind === undefined ? undefined : oneOf('kind', values.kind, AUDIT_KINDS);
    const since =
      values.since === undefined
        ? undefined
        : new Date(sinceFlag('since', values.since, Date.now())).toISOString();
    const limit = countFlag('limit', values.limit, 500);
    const tail = values.tail === undefined ? undefined : countFlag('tail', values.tail, 1);
    return withTarget('audit', values, async (t, print) => {
      // The store lists oldest first; filter the whole window, then pick, so a limit never hides matches.
      const matching = (await t.ops.listAudit(values.world!, since)).filter((r) => !kind || r.kind === kind);
      if (matching.length === 0) await assertKnownWorld(t, values.world!);
      let records =
        tail !== undefined
          ? matching.slice(-tail)
          : values.newest
            ? matching.slice(-limit)
            : matching.slice(0, limit);
      if (values.newest) records = records.reverse();
      out(values, print, records, () =>
        records.length === 0
          ? `no audit records match in world ${values.world}${kind ? ` of kind ${kind}` : ''}${since ? ` since ${since}` : ''}`
          : [
              table(
                ['RECORDED', 'KIND', 'SUMMARY'],
                records.map((r) => [r.recorded_at, r.kind, auditSummary(r)]),
              ),
              ...(records.length < matching.length
                ? [
                    `(${records.length} of ${matching.length} matching records; --tail N, --newest or --limit N pick others)`,
                  ]
                : []),
            ].join('\n'),
      );
      return 0;
    });
  },
};
