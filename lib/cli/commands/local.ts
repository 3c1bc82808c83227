import { once } from 'node:events';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  EXIT_ENGINE_SOURCE,
  EXIT_SIGNAL_DETAIL_TYPE,
  type ExitSignalEvent,
} from '../../contracts/exit-signal.js';
import { bridgeRecord, type PipeKafkaRecord } from '../../controlbus/pipe-definition.js';
import type { Outcome } from '../../engine/engine.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/dynamodb-server.js';
import { LOCAL_BUS_NAME, type LocalStack, startLocalStack } from '../../local/local-stack.js';
import { parseStream } from '../../local/stream-input.js';
import { type CliCommand, parseFlags, UsageError } from '../args.js';

/** The bundled example stream `npm start` replays. */
export const DEFAULT_EVENTS = 'examples/demo-world.jsonl';
/** Where `--keep-running` writes its endpoints, for the ops CLI and `aws --endpoint-url`. */
export const ENDPOINTS_FILE = '.local/endpoints.json';

const pct = (x: unknown) => (typeof x === 'number' ? `${(x * 100).toFixed(2)}%` : 'n/a');

/** One readable line per signal, as a gateway operator would want to see it. */
export function describeSignalEvent(event: ExitSignalEvent): string[] {
  const d = event.data;
  return d.signals.map((s) => {
    const m = (s.metrics ?? {}) as Record<string, unknown>;
    const action = s.action.toUpperCase().padEnd(6);
    const size = s.action === 'reduce' ? `by ${pct(s.reduction_ratio)}` : s.action === 'exit' ? 'fully' : '';
    const why =
      s.action === 'hold'
        ? `${String(m.rule_id)} episode over (${pct(m.measure)} <= clear ${pct(m.clear)})`
        : `${String(m.rule_id)}: ${pct(m.measure)} > limit ${pct(m.limit)}${m.measure_after !== undefined ? `, after ${pct(m.measure_after)}` : ''}`;
    return `  SIGNAL ${d.as_of.slice(0, 10)} ${d.world_id} ${action} ${s.strategy_id.padEnd(14)} ${size.padEnd(10)} ${String(s.reason).padEnd(24)} ${why}`;
  });
}

function describeOutcome(o: Outcome): string | undefined {
  switch (o.outcome) {
    case 'rejected':
      return `  REJECTED ${o.world_id}: ${o.reasons.slice(0, 3).join('; ')}`;
    case 'duplicate':
      return `  DUPLICATE ${o.world_id}: already evaluated; no second signal`;
    case 'out_of_order':
      return `  OUT-OF-ORDER ${o.world_id}: older than the latest snapshot (${o.latest_as_of}); recorded and ignored`;
    case 'expired':
      return `  EXPIRED ${o.world_id}: snapshot expired at ${o.expired_at}; recorded, not evaluated`;
    case 'superseded':
      return `  SUPERSEDED ${o.world_id}: a newer snapshot arrived during evaluation`;
    case 'no_ruleset':
      return `  NO RULE SET for ${o.world_id}`;
    case 'completed_on_retry':
      return `  COMPLETED ${o.world_id}: published ${o.event_id} left pending by an earlier attempt`;
    case 'stored_only':
      return `  STORED ${o.world_id}: ${o.stored} signal(s) held (shadow/approval/muted), not published`;
    default:
      return undefined;
  }
}

/** Replays a stream through the local bus, in order, printing signals as they are emitted. */
export async function replayStream(
  stack: LocalStack,
  text: string,
  print: (line: string) => void,
): Promise<Record<string, number>> {
  const client = new EventBridgeClient({
    endpoint: stack.busEndpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const counts: Record<string, number> = { events: 0, published_events: 0, signals: 0 };
  let seenOutcomes = stack.outcomes.length;
  let seenEmitted = stack.emitted.length;
  try {
    for (const item of parseStream(text)) {
      counts.events! += 1;
      if (item.kind === 'unparsable') {
        const outcome = await stack.engine.recordRejection({
          worldId: undefined,
          deliveryId: `line-${item.line}`,
          time: new Date().toISOString(),
          reasons: [item.reason],
          category: 'unparsable_detail',
          raw: item.raw,
          nowMs: Date.now(),
        });
        counts.rejected = (counts.rejected ?? 0) + 1;
        print(`line ${item.line}: ${describeOutcome(outcome)?.trim()}`);
        continue;
      }
      const out = await client.send(
        new PutEventsCommand({
          Entries: [
            {
              ...item.entry,
              ...(item.entry.Time !== undefined ? { Time: new Date(item.entry.Time) } : {}),
              EventBusName: LOCAL_BUS_NAME,
            },
          ],
        }),
      );
      const result = out.Entries?.[0];
      if ((out.FailedEntryCount ?? 0) > 0 && result?.ErrorCode) {
        // The bus refused it as EventBridge would (malformed or oversize detail): record it too.
        await stack.engine.recordRejection({
          worldId: undefined,
          deliveryId: `line-${item.line}`,
          time: new Date().toISOString(),
          reasons: [`PutEvents ${result.ErrorCode}: ${result.ErrorMessage ?? ''}`],
          category: 'refused_by_bus',
          raw: item.entry.Detail?.slice(0, 2000),
          nowMs: Date.now(),
        });
        counts.rejected = (counts.rejected ?? 0) + 1;
        print(`line ${item.line}: REFUSED by the bus: ${result.ErrorCode} ${result.ErrorMessage ?? ''}`);
        continue;
      }
      await stack.bus.drain();
      for (const o of stack.outcomes.slice(seenOutcomes)) {
        counts[o.outcome] = (counts[o.outcome] ?? 0) + 1;
        const text = describeOutcome(o);
        if (text) print(`line ${item.line}:${text}`);
      }
      seenOutcomes = stack.outcomes.length;
      for (const e of stack.emitted.slice(seenEmitted)) {
        counts.published_events! += 1;
        const lines = describeSignalEvent(e.detail as ExitSignalEvent);
        counts.signals! += lines.length;
        for (const l of lines) print(`line ${item.line}:${l}`);
      }
      seenEmitted = stack.emitted.length;
    }
  } finally {
    client.destroy();
  }
  const dead = stack.bus.deadLetters();
  if (dead.length > 0) {
    counts.dead_letters = dead.length;
    for (const d of dead)
      print(
        `  DEAD-LETTER ${d.ruleName}/${d.targetId} after ${d.attempts} attempts: ${String((d.error as Error)?.message ?? d.error)}`,
      );
  }
  return counts;
}

/** Checks a `--forward` URL: http(s) to a loopback host only, since it receives every emitted signal. */
export function loopbackUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--forward: '${raw}' is not a URL; e.g. http://127.0.0.1:8787/exit-signals`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
  if (!['http:', 'https:'].includes(url.protocol) || !loopback) {
    throw new UsageError(
      `--forward: ${url.protocol}//${url.host} is not a loopback http(s) address; local runs forward only to 127.0.0.1, ::1 or localhost (use the stack's gateway subscriptions for anything else)`,
    );
  }
  return url;
}

/**
 * Kafka records as EventBridge Pipes delivers them (one JSON object a line: topic, partition, offset,
 * key, base64 value) through the pipe's own filter and target parameters, into a stream of
 * EventBridge events with the same line numbers. Filtered records are said so; records the pipe
 * could not pass on stay in the stream as lines the replay records as rejected.
 */
export function controlbusToStream(text: string, print: (line: string) => void): string {
  return text
    .split('\n')
    .map((raw, i) => {
      const trimmed = raw.trim();
      if (trimmed === '' || trimmed.startsWith('#')) return '';
      let record: PipeKafkaRecord;
      try {
        record = JSON.parse(trimmed) as PipeKafkaRecord;
      } catch {
        return trimmed; // not JSON: the replay records it as unparsable
      }
      const out = bridgeRecord(record);
      if (out.kind === 'filtered') {
        print(`line ${i + 1}:  FILTERED by the pipe (${out.reason}): not a hub snapshot`);
        return '';
      }
      if (out.kind === 'invalid') {
        print(`line ${i + 1}:  INVALID ControlBus record: ${out.reason}`);
        return trimmed;
      }
      const { entry } = out;
      return JSON.stringify({
        source: entry.Source,
        'detail-type': entry.DetailType,
        ...(entry.Time ? { time: new Date(entry.Time).toISOString() } : {}),
        detail: JSON.parse(entry.Detail!),
      });
    })
    .join('\n');
}

/** Checks a URL flag: http(s) only. */
export function httpUrl(raw: string, flag: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`${flag}: '${raw}' is not a URL; e.g. http://127.0.0.1:8000`);
  }
  if (!['http:', 'https:'].includes(url.protocol))
    throw new UsageError(`${flag}: ${url.protocol} is not http: or https:`);
  return url;
}

/** A bus rule that POSTs every exit_signal_emitted EventBridge event, as JSON, to a local webhook. */
export function forwardEmitted(stack: LocalStack, url: URL): void {
  stack.bus.putRule({
    name: 'exit-signals-to-local-webhook',
    eventBusName: LOCAL_BUS_NAME,
    eventPattern: { source: [EXIT_ENGINE_SOURCE], 'detail-type': [EXIT_SIGNAL_DETAIL_TYPE] },
    retryPolicy: { maximumRetryAttempts: 2 },
    targets: [
      {
        id: 'local-webhook',
        invoke: async (event) => {
          const res = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(event),
            signal: AbortSignal.timeout(5_000),
          });
          // A refused delivery is retried by the bus, then dead-lettered (as an API destination would be).
          if (!res.ok) throw new Error(`webhook ${url.href} answered ${res.status} ${res.statusText}`);
        },
      },
    ],
  });
}

export const command: CliCommand = {
  name: 'local',
  summary:
    'Runs the whole pipeline locally (DynamoDB Local or dynalite, a local EventBridge, the Lambda handler) and replays a stream of events, printing every signal emitted.',
  usage:
    'exit-engine local [--events FILE.jsonl] [--emitted-out FILE.jsonl] [--rules DIR] [--keep-running] [--forward http://127.0.0.1:PORT/path] [--controlbus FILE.jsonl] [--hub-url URL] [--file-ref-root DIR] [--dynalite] [--wall-clock]',
  async run(argv) {
    const { values } = parseFlags(argv, {
      events: { type: 'string' },
      'emitted-out': { type: 'string' },
      rules: { type: 'string' },
      'keep-running': { type: 'boolean' },
      dynalite: { type: 'boolean' },
      'wall-clock': { type: 'boolean' },
      forward: { type: 'string' },
      'hub-url': { type: 'string' },
      'file-ref-root': { type: 'string' },
      controlbus: { type: 'string' },
    });
    if (values.controlbus !== undefined && values.events !== undefined)
      throw new UsageError('--controlbus and --events are two inputs; give one');
    const hubUrl = values['hub-url'] === undefined ? undefined : httpUrl(values['hub-url'], '--hub-url');
    const forward = values.forward === undefined ? undefined : loopbackUrl(values.forward);
    const eventsPath = values.controlbus ?? values.events ?? DEFAULT_EVENTS;
    const print = (line: string) => console.log(line);
    const raw = await readFile(eventsPath, 'utf8');
    const text = values.controlbus === undefined ? raw : controlbusToStream(raw, print);

    const stack = await startLocalStack({
      ...(values.dynalite ? { preferDynalite: true } : {}),
      ...(values.rules ? { rulesetsPath: values.rules } : {}),
      ...(hubUrl ? { hubUrl: hubUrl.href } : {}),
      ...(process.env.EXIT_ENGINE_HUB_TOKEN ? { hubToken: process.env.EXIT_ENGINE_HUB_TOKEN } : {}),
      ...(values['file-ref-root'] ? { fileRefRoot: resolve(values['file-ref-root']) } : {}),
      // History is evaluated as of each event's own time, so its snapshots are fresh when replayed.
      clock: values['wall-clock'] ? 'wall' : 'event-time',
    });
    try {
      if (stack.dynamoKind === 'dynalite') {
        print('NOTE: Java not found (or --dynalite): using dynalite instead of DynamoDB Local. It has no');
        print(
          '      transactions and no TTL: evaluations are committed write by write. Install Java 17+ for DynamoDB Local.',
        );
      }
      print(
        `exit-engine local: DynamoDB (${stack.dynamoKind}) at ${stack.dynamoEndpoint}, EventBridge at ${stack.busEndpoint}`,
      );
      if (forward) {
        forwardEmitted(stack, forward);
        print(`forwarding every exit_signal_emitted to ${forward.href}`);
      }
      print(`replaying ${eventsPath} (${stack.config.RULESETS_PATH}/ rule sets)`);
      // Ctrl-C mid-replay: stop what we started first (a signal would skip every cleanup).
      const interrupted = () => void stack.stop().finally(() => process.exit(130));
      process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
      const counts = await replayStream(stack, text, print).finally(() => {
        process.removeListener('SIGINT', interrupted).removeListener('SIGTERM', interrupted);
      });
      print(
        `done: ${counts.events} events, ${counts.published_events} exit_signal_emitted with ${counts.signals} signals; ` +
          Object.entries(counts)
            .filter(([k]) => !['events', 'published_events', 'signals'].includes(k))
            .map(([k, v]) => `${k} ${v}`)
            .join(', '),
      );
      if (values['emitted-out']) {
        const out = resolve(values['emitted-out']);
        await mkdir(dirname(out), { recursive: true });
        await writeFile(
          out,
          stack.emitted.map((e) => JSON.stringify(e)).join('\n') + (stack.emitted.length ? '\n' : ''),
        );
        print(`wrote ${stack.emitted.length} exit_signal_emitted events to ${values['emitted-out']}`);
      }
      if (values['keep-running']) {
        await mkdir(dirname(ENDPOINTS_FILE), { recursive: true });
        await writeFile(ENDPOINTS_FILE, `${JSON.stringify({ ...stack.env, pid: process.pid }, null, 2)}\n`);
        print('');
        print(`listening (Ctrl-C to stop); endpoints written to ${ENDPOINTS_FILE}:`);
        print(
          `  aws events put-events --endpoint-url ${stack.busEndpoint} --region ${LOCAL_REGION} --entries file://entries.json`,
        );
        print(
          `  aws dynamodb scan --endpoint-url ${stack.dynamoEndpoint} --region ${LOCAL_REGION} --table-name ${stack.tables.signals}`,
        );
        print('  (any access key works locally: AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local)');
        // What the every-minute approval-timeout Lambda does in AWS.
        const sweep = setInterval(() => {
          stack.ops
            .expireDue(Date.now())
            .catch((error: Error) => print(`  approval sweep failed: ${error.message}`));
        }, 30_000);
        await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
        clearInterval(sweep);
      }
      return stack.bus.deadLetters().length > 0 ? 1 : 0;
    } finally {
      await stack.stop();
    }
  },
};
