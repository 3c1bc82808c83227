import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { Sha256 } from '@aws-crypto/sha256-js';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { SignatureV4 } from '@smithy/signature-v4';
import { DynamoDbOpsStore } from '../../adapters/dynamodb/ops-store.js';
import { EventBridgeSignalPublisher } from '../../adapters/eventbridge/signal-publisher.js';
import { OpsError, OpsService, parseDuration, parseTime } from '../../engine/ops.js';
import type { AuditRecord, OpsSignalItem, SignalStatus } from '../../engine/ports.js';
import { type OpsCommand, runOpsCommand } from '../../handlers/ops-handler.js';
import { ENGINE_VERSION } from '../../runtime/wire.js';
import { type CliCommand, parseFlags, UsageError } from '../args.js';

/**
 * The ops CLI: read signals, mutes and the audit trail; approve, reject, mute, unmute. Against the
 * local runtime (`.local/endpoints.json` from `npm start -- --keep-running`) by default, or a
 * deployed stack with `--stack NAME` (reads from the tables, decisions through the signed ops URL).
 */

/** Where `npm start -- --keep-running` writes its endpoints (kept in step with commands/local.ts). */
export const DEFAULT_ENDPOINTS_FILE = '.local/endpoints.json';
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

/** A problem reaching or reading the target: printed as one message, exit code 1. */
export class OpsCliError extends Error {
  override readonly name = 'OpsCliError';
}

/** What a command talks to: reads through the ops service, decisions as the target's actor. */
export interface OpsTarget {
  readonly description: string;
  /** Who the decisions are recorded as (locally `local:<user>`; in AWS the signed caller). */
  readonly actor: string;
  readonly ops: OpsService;
  decide(cmd: OpsCommand): Promise<Record<string, unknown>>;
  close(): void;
}

const common = {
  json: { type: 'boolean' },
  stack: { type: 'string' },
  region: { type: 'string' },
  endpoints: { type: 'string' },
} as const;

type CommonValues = { json?: boolean; stack?: string; region?: string; endpoints?: string };

/** Opens the target the flags name: a deployed stack, or the local runtime. */
export async function openTarget(values: CommonValues): Promise<OpsTarget> {
  return values.stack
    ? openAwsTarget(values.stack, values.region)
    : openLocalTarget(values.endpoints ?? process.env.EXIT_ENGINE_ENDPOINTS ?? DEFAULT_ENDPOINTS_FILE);
}

async function openLocalTarget(file: string): Promise<OpsTarget> {
  let env: Record<string, string | number>;
  try {
    env = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new OpsCliError(
      missing
        ? `no local runtime: ${file} not found. Start one with 'npm start -- --keep-running' (or target AWS with --stack NAME)`
        : `${file} is not valid JSON (${(error as Error).message}); restart 'npm start -- --keep-running' to rewrite it`,
    );
  }
  const need = [
    'DYNAMODB_ENDPOINT',
    'EVENTBRIDGE_ENDPOINT',
    'SIGNALS_TABLE_NAME',
    'STATE_TABLE_NAME',
    'AUDIT_TABLE_NAME',
    'EVENT_BUS_NAME',
  ];
  const absent = need.filter((k) => typeof env[k] !== 'string');
  if (absent.length > 0)
    throw new OpsCliError(`${file} lacks ${absent.join(', ')}; restart 'npm start -- --keep-running'`);
  const get = (k: string) => String(env[k]);
  const notRunning = `the local runtime in ${file} is not answering; start it again with 'npm start -- --keep-running'`;
  if (typeof env.pid === 'number') {
    try {
      process.kill(env.pid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH')
        throw new OpsCliError(`${notRunning} (process ${env.pid} has ended)`);
    }
  }
  const region = typeof env.AWS_REGION === 'string' ? env.AWS_REGION : 'us-east-1';
  const credentials = {
    accessKeyId: typeof env.AWS_ACCESS_KEY_ID === 'string' ? env.AWS_ACCESS_KEY_ID : 'local',
    secretAccessKey: typeof env.AWS_SECRET_ACCESS_KEY === 'string' ? env.AWS_SECRET_ACCESS_KEY : 'local',
  };
  const dynamo = new DynamoDBClient({
    endpoint: get('DYNAMODB_ENDPOINT'),
    region,
    credentials,
    maxAttempts: 1,
  });
  try {
    await dynamo.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(3_000) });
  } catch (error) {
    dynamo.destroy();
    throw new OpsCliError(
      `${notRunning} (DynamoDB at ${get('DYNAMODB_ENDPOINT')}: ${(error as Error).message || (error as Error).name})`,
    );
  }
  const events = new EventBridgeClient({ endpoint: get('EVENTBRIDGE_ENDPOINT'), region, credentials });
  const ops = new OpsService({
    store: new DynamoDbOpsStore(
      dynamo,
      { signals: get('SIGNALS_TABLE_NAME'), state: get('STATE_TABLE_NAME'), audit: get('AUDIT_TABLE_NAME') },
      env.EXIT_ENGINE_DYNAMODB_TRANSACTIONS !== 'false',
    ),
    // Locally the CLI stands in for the ops function: the engine's publisher, the runtime's bus.
    publisher: new EventBridgeSignalPublisher(events, get('EVENT_BUS_NAME'), { baseDelayMs: 5 }),
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    metrics: { count: () => undefined, measure: () => undefined },
    engineVersion: ENGINE_VERSION,
    leaseMs: 2_000,
    auditRetentionDays: 2555,
  });
  const actor = `local:${userInfo().username}`;
  return {
    description: `local runtime (${get('DYNAMODB_ENDPOINT')})`,
    actor,
    ops,
    decide: (cmd) => runOpsCommand(ops, cmd, actor, Date.now()),
    close() {
      dynamo.destroy();
      events.destroy();
    },
  };
}

/** The CloudFormation outputs the CLI needs, from the stack or (for a prefix) its two stacks. */
async function stackOutputs(cf: CloudFormationClient, name: string): Promise<Record<string, string>> {
  const outputs: Record<string, string> = {};
  const found: string[] = [];
  for (const stackName of [name, `${name}Stateful`, `${name}Stateless`]) {
    try {
      const out = await cf.send(new DescribeStacksCommand({ StackName: stackName }));
      for (const o of out.Stacks?.[0]?.Outputs ?? [])
        if (o.OutputKey && o.OutputValue) outputs[o.OutputKey] ??= o.OutputValue;
      found.push(stackName);
    } catch (error) {
      if (!/does not exist/.test((error as Error).message)) throw error;
    }
    if (outputs.SignalsTableName && outputs.OpsCommandUrl) break;
  }
  if (found.length === 0) {
    throw new OpsCliError(
      `no stack named ${name} (nor ${name}Stateful / ${name}Stateless) in ${await cf.config.region()}; check --stack and --region`,
    );
  }
  const missing = ['SignalsTableName', 'AuditTableName', 'OpsCommandUrl'].filter((k) => !outputs[k]);
  if (missing.length > 0)
    throw new OpsCliError(
      `stack(s) ${found.join(', ')} have no output ${missing.join(', ')}; is it the exit engine?`,
    );
  return outputs;
}

async function openAwsTarget(stack: string, region: string | undefined): Promise<OpsTarget> {
  const credentials = fromNodeProviderChain();
  const cfg = { ...(region ? { region } : {}), credentials };
  const cf = new CloudFormationClient(cfg);
  const sts = new STSClient(cfg);
  let outputs: Record<string, string>;
  let actor: string;
  try {
    actor = (await sts.send(new GetCallerIdentityCommand({}))).Arn ?? 'unknown';
    outputs = await stackOutputs(cf, stack);
  } catch (error) {
    if (error instanceof OpsCliError) throw error;
    throw new OpsCliError(
      `cannot read stack ${stack}: ${(error as Error).name}: ${(error as Error).message}`,
    );
  } finally {
    cf.destroy();
    sts.destroy();
  }
  const url = new URL(outputs.OpsCommandUrl!);
  const urlRegion = /\.lambda-url\.([a-z0-9-]+)\.on\.aws$/.exec(url.hostname)?.[1];
  const dynamo = new DynamoDBClient(cfg);
  const ops = new OpsService({
    // ops-read reads the signals and audit tables; mutes live in the state table, so they are listed via the URL.
    store: new DynamoDbOpsStore(dynamo, {
      signals: outputs.SignalsTableName!,
      state: outputs.StateTableName ?? '',
      audit: outputs.AuditTableName!,
    }),
    publisher: {
      publish: async () => {
        throw new OpsCliError('the CLI never publishes in AWS; decisions go through the ops function');
      },
    },
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    metrics: { count: () => undefined, measure: () => undefined },
    engineVersion: ENGINE_VERSION,
    leaseMs: 60_000,
    auditRetentionDays: 2555,
  });
  const signer = new SignatureV4({
    service: 'lambda',
    region: urlRegion ?? region ?? (await dynamo.config.region()),
    credentials,
    sha256: Sha256,
  });
  return {
    description: `stack ${stack} (${url.hostname})`,
    actor,
    ops,
    async decide(cmd) {
      const body = JSON.stringify(cmd);
      const signed = await signer.sign({
        method: 'POST',
        protocol: url.protocol,
        hostname: url.hostname,
        path: url.pathname,
        query: {},
        headers: { host: url.hostname, 'content-type': 'application/json' },
        body,
      });
      const res = await fetch(url, { method: 'POST', headers: signed.headers, body });
      const text = await res.text();
      let payload: Record<string, unknown>;
      try {
        payload = JSON.parse(text);
      } catch {
        payload = { ok: false, error: text.slice(0, 300) || res.statusText };
      }
      if (res.status === 403 && !payload.error)
        payload.error = 'forbidden: your identity lacks the ops-approve policy';
      if (!res.ok || payload.ok !== true)
        throw new OpsCliError(`${res.status}: ${String(payload.error ?? payload.message ?? res.statusText)}`);
      return payload;
    },
    close() {
      dynamo.destroy();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Formatting

/** Pads columns to a readable table. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** `1h 05m`, `42s`, or `overdue 3m` for a span in milliseconds. */
export function formatSpan(ms: number): string {
  const neg = ms < 0;
  let s = Math.round(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86_400);
  s -= d * 86_400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const text =
    d > 0
      ? `${d}d ${h}h`
      : h > 0
        ? `${h}h ${String(m).padStart(2, '0')}m`
        : m > 0
          ? `${m}m ${String(s).padStart(2, '0')}s`
          : `${s}s`;
  return neg ? `overdue ${text}` : text;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

function signalRow(s: OpsSignalItem): string[] {
  return [
    s.signal_id,
    s.world_id,
    s.strategy_id,
    s.action,
    pct(s.reduction_ratio),
    s.reason,
    s.status,
    s.mode,
    s.emitted_at,
  ];
}

function auditSummary(r: AuditRecord): string {
  const rec = r as Record<string, unknown>;
  if (r.kind === 'ops_action') {
    const before = (rec.before ?? {}) as Record<string, unknown> | null;
    const after = (rec.after ?? {}) as Record<string, unknown> | null;
    const target = rec.target as { id?: string } | undefined;
    const change =
      before?.status !== undefined || after?.status !== undefined
        ? `${String(before?.status ?? '-')} -> ${String(after?.status ?? '-')}`
        : `${String(before?.state ?? 'none')} -> ${String(after?.state ?? '-')}`;
    return `${String(rec.action)} ${target?.id ?? ''} by ${String(rec.actor)}: ${change} (${String(rec.reason)})`;
  }
  if (r.kind === 'evaluation') {
    const decisions = (rec.decisions ?? []) as { status?: string }[];
    const rules = (rec.rules ?? []) as { verdict?: string }[];
    const byStatus = new Map<string, number>();
    for (const d of decisions) byStatus.set(String(d.status), (byStatus.get(String(d.status)) ?? 0) + 1);
    return `snapshot ${String((rec.inputs as Record<string, unknown> | undefined)?.snapshot_version)}: ${rules.length} rule outcome(s), ${decisions.length} signal(s)${byStatus.size ? ` [${[...byStatus].map(([k, v]) => `${k} ${v}`).join(', ')}]` : ''}, published ${String(rec.published_event_id ?? 'nothing')}`;
  }
  const reasons = rec.reasons as string[] | undefined;
  return reasons ? reasons.slice(0, 2).join('; ') : String(rec.snapshot_version ?? '');
}

// ---------------------------------------------------------------------------------------------
// Commands

/** Runs a command body against its target and maps every failure to a message and an exit code. */
async function withTarget(
  name: string,
  values: CommonValues,
  body: (target: OpsTarget, print: (text: string) => void) => Promise<number>,
): Promise<number> {
  let target: OpsTarget | undefined;
  try {
    target = await openTarget(values);
    return await body(target, (text) => console.log(text));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    if (error instanceof OpsError || error instanceof OpsCliError) {
      console.error(`exit-engine ${name}: ${error.message}`);
      return 1;
    }
    const e = error as Error & { code?: string; cause?: { code?: string } };
    const code = e.code ?? e.cause?.code;
    if (code === 'ECONNREFUSED' || e.name === 'TimeoutError' || e.name === 'AbortError') {
      console.error(
        `exit-engine ${name}: ${target?.description ?? 'the target'} is not answering (${code ?? e.name}); is it running?`,
      );
      return 1;
    }
    console.error(`exit-engine ${name}: ${e.name}: ${e.message}`);
    return 1;
  } finally {
    target?.close();
  }
}

function out(values: CommonValues, print: (t: string) => void, json: unknown, text: () => string): void {
  print(values.json ? JSON.stringify(json, null, 2) : text());
}

/** A world nobody has heard of is most likely a typo: say so rather than print an empty table. */
async function assertKnownWorld(target: OpsTarget, world: string): Promise<void> {
  const [signals, audit] = await Promise.all([
    target.ops.listSignals({ world_id: world, limit: 1 }),
    target.ops.listAudit(world, undefined, 1),
  ]);
  if (signals.length === 0 && audit.length === 0) {
    throw new OpsCliError(
      `unknown world '${world}': it has no signals and no audit records (check the spelling)`,
    );
  }
}

function positionalId(positionals: string[], what: string): string {
  const [id, ...extra] = positionals;
  if (!id) throw new UsageError(`${what} id is required`);
  if (extra.length > 0) throw new UsageError(`unexpected argument(s): ${extra.join(' ')}`);
  return id;
}

function asUsage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof OpsError) throw new UsageError(error.message.replace(/^(\w+):/, '--$1:'));
    throw error;
  }
}

export const signalsCommand: CliCommand = {
  name: 'signals',
  summary: 'Lists stored signals (newest first) or shows one with its full evidence.',
  usage:
    'exit-engine signals list [--world W] [--status S] [--since T] [--limit N] [--json] | exit-engine signals show ID [--json]  (target: local runtime, or --stack NAME [--region R])',
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub !== 'list' && sub !== 'show')
      throw new UsageError(`expected 'signals list' or 'signals show ID' (got '${sub ?? ''}')`);
    if (sub === 'show') {
      const { values, positionals } = parseFlags(rest, common, true);
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
        ...common,
        world: { type: 'string' },
        status: { type: 'string' },
        since: { type: 'string' },
        limit: { type: 'string' },
      },
      true,
    );
    if (positionals.length > 0) throw new UsageError(`unexpected argument(s): ${positionals.join(' ')}`);
    const status = values.status;
    if (status !== undefined && !STATUSES.includes(status as SignalStatus)) {
      throw new UsageError(`--status: '${status}' is not a status; use one of ${STATUSES.join(', ')}`);
    }
    const since =
      values.since === undefined
        ? undefined
        : asUsage(() => new Date(parseTime(values.since!, Date.now(), 'since')).toISOString());
    const limit = values.limit === undefined ? 50 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1)
      throw new UsageError(`--limit: must be a whole number >= 1 (got '${values.limit}')`);
    return withTarget('signals list', values, async (t, print) => {
      const signals = await t.ops.listSignals({
        ...(values.world ? { world_id: values.world } : {}),
        ...(status ? { status: status as SignalStatus } : {}),
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

function decisionCommand(name: 'approve' | 'reject'): CliCommand {
  return {
    name,
    summary:
      name === 'approve'
        ? 'Approves a proposed signal (publishes it, or records the first of two approvals).'
        : 'Rejects a proposed signal (nothing is published).',
    usage: `exit-engine ${name} SIGNAL_ID --reason TEXT [--json] [--stack NAME [--region R]]`,
    async run(argv) {
      const { values, positionals } = parseFlags(argv, { ...common, reason: { type: 'string' } }, true);
      const id = positionalId(positionals, 'signal');
      if (!values.reason?.trim())
        throw new UsageError('--reason is required (why you decide this, for the audit trail)');
      return withTarget(name, values, async (t, print) => {
        const result = await t.decide({ command: name, signal_id: id, reason: values.reason! });
        out(values, print, result, () => {
          switch (result.outcome) {
            case 'awaiting_second_approval':
              return `recorded your approval of ${id} as ${t.actor}; four eyes: a second, different approver must approve it`;
            case 'published':
              return `approved ${id} as ${t.actor}; published exit_signal_emitted ${String(result.event_id)}`;
            case 'approved_publish_pending':
              return `approved ${id} as ${t.actor}; its publish is pending and will be completed by the approval-timeout sweep (event ${String(result.event_id)})`;
            default:
              return `rejected ${id} as ${t.actor}; nothing is published`;
          }
        });
        return 0;
      });
    },
  };
}

export const approveCommand = decisionCommand('approve');
export const rejectCommand = decisionCommand('reject');

export const pendingCommand: CliCommand = {
  name: 'pending',
  summary: 'The approval queue: proposed signals, soonest deadline first, with the time left.',
  usage: 'exit-engine pending [--world W] [--json] [--stack NAME [--region R]]',
  async run(argv) {
    const { values } = parseFlags(argv, { ...common, world: { type: 'string' } });
    return withTarget('pending', values, async (t, print) => {
      const now = Date.now();
      const items = (await t.ops.pending()).filter((s) => !values.world || s.world_id === values.world);
      const rows = items.map((s) => ({
        ...s,
        time_left_sec: Math.round((Date.parse(s.approval?.deadline ?? s.emitted_at) - now) / 1000),
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
                'DEADLINE',
                'TIME LEFT',
                'DEFAULT',
                'APPROVALS',
              ],
              rows.map((s) => [
                s.signal_id,
                s.world_id,
                s.strategy_id,
                s.action,
                pct(s.reduction_ratio),
                s.rule_ids.join(','),
                s.approval?.deadline ?? '-',
                formatSpan(s.time_left_sec * 1000),
                s.approval?.default ?? 'drop',
                `${(s.approvals ?? []).length}/${s.approval?.four_eyes ? 2 : 1}`,
              ]),
            ),
      );
      return 0;
    });
  },
};

export const muteCommand: CliCommand = {
  name: 'mute',
  summary: 'Silences a rule (or all rules) for a world or a strategy until a time, with a reason.',
  usage:
    'exit-engine mute --world W [--strategy S] [--rule R] (--for 2h | --until T) --reason TEXT [--allow-unknown-world] [--json] [--stack NAME]',
  async run(argv) {
    const { values } = parseFlags(argv, {
      ...common,
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
      throw new UsageError('give exactly one of --for (e.g. 2h) or --until (an ISO time)');
    const now = Date.now();
    const untilMs = asUsage(() =>
      values.for !== undefined
        ? now + parseDuration(values.for, 'for')
        : parseTime(values.until!, now, 'until'),
    );
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
          `${result.outcome === 'muted' ? 'muted' : 'already muted (same request)'}: ${m.mute_id} — world ${values.world}, ${values.strategy ? `strategy ${values.strategy}` : 'all strategies'}, ${values.rule ? `rule ${values.rule}` : 'all rules'}, until ${m.until} (${formatSpan(Date.parse(m.until) - Date.now())})`,
      );
      return 0;
    });
  },
};

export const unmuteCommand: CliCommand = {
  name: 'unmute',
  summary: 'Ends a mute before its time: by id, or every active mute with exactly these selectors.',
  usage:
    'exit-engine unmute --world W (--id MUTE_ID | [--strategy S] [--rule R]) [--reason TEXT] [--json] [--stack NAME]',
  async run(argv) {
    const { values } = parseFlags(argv, {
      ...common,
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

export const mutesCommand: CliCommand = {
  name: 'mutes',
  summary: 'Lists active mutes (with --all, also ended and expired ones).',
  usage: 'exit-engine mutes [--world W] [--all] [--json] [--stack NAME [--region R]]',
  async run(argv) {
    const { values } = parseFlags(argv, { ...common, world: { type: 'string' }, all: { type: 'boolean' } });
    return withTarget('mutes', values, async (t, print) => {
      const result = await t.decide({
        command: 'mutes',
        ...(values.world ? { world: values.world } : {}),
        all: values.all ?? false,
      });
      const mutes = (result.mutes ?? []) as (Record<string, string> & { state: string })[];
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
  summary: "A world's audit trail (evaluations, rejections, ops actions), oldest first.",
  usage:
    'exit-engine audit --world W [--since T] [--kind K] [--limit N] [--json] [--stack NAME [--region R]]',
  async run(argv) {
    const { values } = parseFlags(argv, {
      ...common,
      world: { type: 'string' },
      since: { type: 'string' },
      kind: { type: 'string' },
      limit: { type: 'string' },
    });
    if (!values.world?.trim()) throw new UsageError('--world is required');
    const since =
      values.since === undefined
        ? undefined
        : asUsage(() => new Date(parseTime(values.since!, Date.now(), 'since')).toISOString());
    const limit = values.limit === undefined ? 500 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1)
      throw new UsageError(`--limit: must be a whole number >= 1 (got '${values.limit}')`);
    return withTarget('audit', values, async (t, print) => {
      const records = (await t.ops.listAudit(values.world!, since, limit)).filter(
        (r) => !values.kind || r.kind === values.kind,
      );
      if (records.length === 0 && !since && !values.kind) await assertKnownWorld(t, values.world!);
      out(values, print, records, () =>
        records.length === 0
          ? 'no audit records match'
          : table(
              ['RECORDED', 'KIND', 'SUMMARY'],
              records.map((r) => [r.recorded_at, r.kind, auditSummary(r)]),
            ),
      );
      return 0;
    });
  },
};
