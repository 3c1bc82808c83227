import { once } from 'node:events';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { EXIT_ENGINE_SOURCE, type ExitSignalEvent } from '#lib/contracts/exit-signal.js';
import { bridgeRecord, type PipeKafkaRecord } from '#lib/controlbus/pipe-definition.js';
import { DataDirLockedError } from '#lib/local/data-dir-lock.js';
import { appendDeadLetter, DEAD_LETTERS_FILE } from '#lib/local/dead-letter-log.js';
import { LOCAL_REGION, localDocumentClient } from '#lib/local/dynamodb-server.js';
import type { EventBridgeEvent } from '#lib/local/local-event-bus.js';
import { LOCAL_BUS_NAME, type LocalStack, startLocalStack } from '#lib/local/local-stack.js';
import { opsActionsSince } from '#lib/local/ops-action-tail.js';
import type { ReloadResult } from '#lib/rulesets/reloading-directory.js';
import { type CliCommand, numberFlag, parseFlags, UsageError } from '../args.js';
import {
  DEFAULT_FORWARD_MAX_RETRIES,
  DEFAULT_FORWARD_RETRY_SECONDS,
  forwardEmitted,
  loopbackUrl,
} from '../local/forward.js';
import {
  describeDeadLetter,
  describeDecisions,
  describeLiveOutcome,
  describeOpsAction,
  describeUnrouted,
} from '../local/lines.js';
import { replayStream } from '../local/replay-stream.js';
import { loadRuleSets } from './rules.js';

/** The line the runtime prints when its rule-set folder changed. */
export function describeReload(dir: string, r: ReloadResult): string {
  return r.ok
    ? `RULES reloaded ${dir}/: ${r.versions.map((v) => `${v.source} (${v.world}, ${v.version})`).join('; ')}`
    : `RULES ${dir}/ changed but does not validate; the previous rule sets stay in force:\n    ${r.errors.join('\n    ')}`;
}

export { forwardEmitted, loopbackUrl } from '../local/forward.js';
export { describeSignalEvent } from '../local/lines.js';
export { replayStream } from '../local/replay-stream.js';

/** The bundled example stream `npm start` replays. */
export const DEFAULT_EVENTS = 'examples/demo-world.jsonl';
/** Where `--keep-running` writes its endpoints, for the ops CLI and `aws --endpoint-url`. */
export const ENDPOINTS_FILE = '.local/endpoints.json';
/** Where dead letters go without `--data-dir` (emptied at start: that runtime's data is in memory). */
export const DEFAULT_DEAD_LETTERS = join('.local', DEAD_LETTERS_FILE);
/** How often the running runtime looks for ops actions to print. */
const OPS_TAIL_MS = 3_000;

/** Prints a line for every live outcome, decision, dead letter, ops action and stray event. */
function narrate(stack: LocalStack, print: (line: string) => void, verbose: boolean): () => void {
  const stops = [
    stack.onOutcome((o) => print(describeLiveOutcome(o))),
    stack.onEmitted((e) => {
      for (const l of describeDecisions(e.detail as ExitSignalEvent, verbose)) print(l);
    }),
  ];
  return () => {
    for (const stop of stops) stop();
  };
}

/** Prints each new ops action from the audit trail, every few seconds, until stopped. */
function tailOpsActions(stack: LocalStack, print: (line: string) => void): () => void {
  const doc = localDocumentClient(stack.dynamoEndpoint);
  // The scan includes `since` itself (records of that millisecond may still arrive); seen ones are skipped.
  let since = new Date().toISOString();
  let seenAtSince = new Set<string>();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    opsActionsSince(doc, stack.tables.audit, since)
      .then((records) => {
        for (const r of records) {
          const id = String(r.record_id);
          if (r.recorded_at === since && seenAtSince.has(id)) continue;
          print(describeOpsAction(r));
          if (r.recorded_at !== since) {
            since = String(r.recorded_at);
            seenAtSince = new Set();
          }
          seenAtSince.add(id);
        }
      })
      .catch((error: Error) => print(`  could not read ops actions: ${error.message}`))
      .finally(() => {
        busy = false;
      });
  }, OPS_TAIL_MS);
  return () => {
    clearInterval(timer);
  };
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

export const command: CliCommand = {
  name: 'local',
  summary:
    'Runs the whole pipeline locally (DynamoDB Local or dynalite, a local EventBridge, the Lambda handler) and replays a stream of events, printing every decision; with --keep-running it stays up and prints a line for everything that happens. With --data-dir its tables survive a restart (or a kill -9), and pending publishes are completed on start.',
  usage:
    'exit-engine local [--events FILE.jsonl | --controlbus FILE.jsonl | --no-replay] [--emitted-out FILE.jsonl] [--rules DIR|FILE] [--keep-running] [--data-dir DIR] [--forward http://127.0.0.1:PORT/path [--forward-retry-seconds N] [--forward-max-retries N]] [--hub-url URL] [--file-ref-root DIR] [--verbose] [--dynalite] [--wall-clock]',
  async run(argv) {
    const { values } = parseFlags(argv, {
      events: { type: 'string' },
      'no-replay': { type: 'boolean' },
      'emitted-out': { type: 'string' },
      rules: { type: 'string' },
      'keep-running': { type: 'boolean' },
      'data-dir': { type: 'string' },
      dynalite: { type: 'boolean' },
      'wall-clock': { type: 'boolean' },
      forward: { type: 'string' },
      'forward-retry-seconds': { type: 'string' },
      'forward-max-retries': { type: 'string' },
      verbose: { type: 'boolean' },
      'hub-url': { type: 'string' },
      'file-ref-root': { type: 'string' },
      controlbus: { type: 'string' },
    });
    if (values.controlbus !== undefined && values.events !== undefined)
      throw new UsageError('--controlbus and --events are two inputs; give one');
    const hubUrl = values['hub-url'] === undefined ? undefined : httpUrl(values['hub-url'], '--hub-url');
    const forward = values.forward === undefined ? undefined : loopbackUrl(values.forward);
    const retrySeconds = numberFlag(
      'forward-retry-seconds',
      values['forward-retry-seconds'],
      DEFAULT_FORWARD_RETRY_SECONDS,
      {
        min: 0,
        exclusiveMin: true,
        max: 86_400,
      },
    );
    const maxRetries = numberFlag(
      'forward-max-retries',
      values['forward-max-retries'],
      DEFAULT_FORWARD_MAX_RETRIES,
      {
        min: 0,
        max: 185,
        integer: true,
      },
    );
    const replay = values['no-replay'] !== true;
    const eventsPath = values.controlbus ?? values.events ?? DEFAULT_EVENTS;
    const verbose = values.verbose === true;
    const dataDir = values['data-dir'];
    const print = (line: string) => console.log(line);
    const raw = replay ? await readFile(eventsPath, 'utf8') : '';
    // ControlBus records go through the pipe's own filter and template before the bus, as on AWS.
    const text = values.controlbus === undefined ? raw : controlbusToStream(raw, print);
    // A rules file applies to every world (as in evaluate and replay); a folder maps worlds to sets.
    const rules = values.rules === undefined ? undefined : loadRuleSets(values.rules);
    const rulesIsDir = values.rules !== undefined && (await stat(values.rules)).isDirectory();

    let stack: LocalStack;
    try {
      stack = await startLocalStack({
        ...(values.dynalite ? { preferDynalite: true } : {}),
        ...(rules && rulesIsDir ? { rulesetsPath: values.rules! } : {}),
        ...(rules && !rulesIsDir ? { ruleSets: rules.registry } : {}),
        ...(dataDir !== undefined ? { dataDir } : {}),
        ...(hubUrl ? { hubUrl: hubUrl.href } : {}),
        ...(process.env.EXIT_ENGINE_HUB_TOKEN ? { hubToken: process.env.EXIT_ENGINE_HUB_TOKEN } : {}),
        ...(values['file-ref-root'] ? { fileRefRoot: resolve(values['file-ref-root']) } : {}),
        // History is evaluated as of each event's own time, so its snapshots are fresh when replayed.
        clock: values['wall-clock'] ? 'wall' : 'event-time',
      });
    } catch (error) {
      if (error instanceof DataDirLockedError) {
        console.error(`exit-engine local: ${error.message}`);
        return 1;
      }
      throw error;
    }
    const deadLetterFile = dataDir === undefined ? DEFAULT_DEAD_LETTERS : join(dataDir, DEAD_LETTERS_FILE);
    // Without a data dir this run starts from empty tables: its dead letters start from none too.
    if (dataDir === undefined) await rm(deadLetterFile, { force: true });
    const stopDead = stack.bus.onDeadLetter((d) => {
      print(describeDeadLetter(d));
      try {
        appendDeadLetter(deadLetterFile, d);
      } catch (error) {
        print(`  could not record the dead letter in ${deadLetterFile}: ${(error as Error).message}`);
      }
    });
    const stopUnrouted = stack.bus.onUnrouted((u) => {
      const line = describeUnrouted(u, LOCAL_BUS_NAME, EXIT_ENGINE_SOURCE);
      if (line) print(line);
    });
    const stops: Array<() => void> = [stopDead, stopUnrouted];
    if (stack.rulesDir)
      stops.push(stack.rulesDir.onReload((r) => print(describeReload(stack.rulesDir!.dir, r))));
    try {
      if (stack.dynamoKind === 'dynalite') {
        print('NOTE: Java not found (or --dynalite): using dynalite instead of DynamoDB Local. It has no');
        print(
          '      transactions and no TTL: evaluations are committed write by write. Install Java 17+ for DynamoDB Local.',
        );
      }
      const where = dataDir === undefined ? 'in memory' : `data in ${resolve(dataDir)}`;
      const jvm = stack.jvmPid === undefined ? '' : `, jvm pid ${stack.jvmPid}`;
      print(
        `exit-engine local: DynamoDB (${stack.dynamoKind}, ${where}${jvm}) at ${stack.dynamoEndpoint}, EventBridge at ${stack.busEndpoint}`,
      );
      if (stack.staleLockFrom !== undefined)
        print(`took over the data dir from runtime pid ${stack.staleLockFrom}, which is gone (killed?)`);
      if (forward) {
        forwardEmitted(stack, forward, { retrySeconds, maxRetries });
        print(
          `forwarding every exit_signal_emitted to ${forward.href} (retried with backoff for ${retrySeconds} s, at most ${maxRetries} retries; then dead-lettered)`,
        );
      }
      if (dataDir !== undefined) {
        const resumed = await stack.resumePendingOutboxes();
        for (const r of resumed) {
          const what = `${r.outbox.world_id} ${r.outbox.evaluation_key.slice(0, 16)}`;
          if ('error' in r)
            print(`  RESUME ${what}: still pending (${r.error.message}); the next start retries`);
          else
            print(`  RESUME ${what}: ${r.outcome ? describeLiveOutcome(r.outcome).trim() : 'nothing to do'}`);
        }
        if (resumed.length > 0)
          print(`resumed ${resumed.length} pending outbox(es) left by the previous run`);
      }
      // Ctrl-C mid-replay: stop what we started first (a signal would skip every cleanup).
      const interrupted = () => void stack.stop().finally(() => process.exit(130));
      process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
      const emittedByReplay: EventBridgeEvent[] = [];
      try {
        if (replay) {
          const label = rules?.label ?? `${stack.config.RULESETS_PATH}/`;
          print(`replaying ${eventsPath} (rule sets: ${label})`);
          const counts = await replayStream(stack, text, print, { verbose, emitted: emittedByReplay });
          print(
            `done: ${counts.events} events, ${counts.published_events} exit_signal_emitted with ${counts.signals} signals; ` +
              Object.entries(counts)
                .filter(([k]) => !['events', 'published_events', 'signals'].includes(k))
                .map(([k, v]) => `${k} ${v}`)
                .join(', '),
          );
        }
      } finally {
        process.removeListener('SIGINT', interrupted).removeListener('SIGTERM', interrupted);
      }
      if (values['emitted-out']) {
        const out = resolve(values['emitted-out']);
        await mkdir(dirname(out), { recursive: true });
        await writeFile(
          out,
          emittedByReplay.map((e) => JSON.stringify(e)).join('\n') + (emittedByReplay.length ? '\n' : ''),
        );
        print(`wrote ${emittedByReplay.length} exit_signal_emitted events to ${values['emitted-out']}`);
      }
      if (values['keep-running'])
        await keepRunning(stack, { print, verbose, dataDir, deadLetterFile, stops });
      return stack.bus.deadLetterCount > 0 ? 1 : 0;
    } finally {
      for (const stop of stops) stop();
      await stack.stop();
    }
  },
};

async function keepRunning(
  stack: LocalStack,
  o: {
    print: (line: string) => void;
    verbose: boolean;
    dataDir: string | undefined;
    deadLetterFile: string;
    stops: Array<() => void>;
  },
): Promise<void> {
  const { print } = o;
  await mkdir(dirname(ENDPOINTS_FILE), { recursive: true });
  await writeFile(
    ENDPOINTS_FILE,
    `${JSON.stringify(
      {
        ...stack.env,
        pid: process.pid,
        ...(stack.jvmPid !== undefined ? { jvm_pid: stack.jvmPid } : {}),
        ...(o.dataDir !== undefined ? { data_dir: resolve(o.dataDir) } : {}),
        dead_letters: resolve(o.deadLetterFile),
      },
      null,
      2,
    )}\n`,
  );
  print('');
  print(
    `listening (Ctrl-C to stop); endpoints written to ${ENDPOINTS_FILE}. Put events on bus ${LOCAL_BUS_NAME}:`,
  );
  print(
    `  aws events put-events --endpoint-url ${stack.busEndpoint} --region ${LOCAL_REGION} --entries file://entries.json   # each entry with "EventBusName": "${LOCAL_BUS_NAME}"`,
  );
  print(
    `  aws dynamodb scan --endpoint-url ${stack.dynamoEndpoint} --region ${LOCAL_REGION} --table-name ${stack.tables.signals}`,
  );
  print('  (any access key works locally: AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local)');
  print(
    `  dead letters: npx exit-engine dead-letters${o.dataDir !== undefined ? ` --data-dir ${o.dataDir}` : ''}`,
  );
  o.stops.push(narrate(stack, print, o.verbose), tailOpsActions(stack, print));
  // Edits to the rule-set folder take effect at once, without waiting for the next event to look.
  const rulesPoll = setInterval(() => stack.rulesDir?.check(), 1_000);
  o.stops.push(() => clearInterval(rulesPoll));
  // What the every-minute approval-timeout Lambda does in AWS.
  const sweep = setInterval(() => {
    stack.ops
      .expireDue(Date.now())
      .then((r) => {
        if (r.emitted.length + r.dropped.length + r.republished.length > 0)
          print(
            `  SWEEP approval timeouts: ${r.emitted.length} emitted by default, ${r.dropped.length} dropped, ${r.republished.length} republished`,
          );
      })
      .catch((error: Error) => print(`  approval sweep failed: ${error.message}`));
    // And what the every-minute outbox sweeper does: complete outboxes whose lease ran out.
    stack.engine
      .sweepOutboxes({ invocationId: `local-sweep-${Date.now()}` })
      .then((r) => {
        if (r.published > 0) print(`  SWEEP outboxes: ${r.published} published after their lease ran out`);
      })
      .catch((error: Error) => print(`  outbox sweep failed: ${error.message}`));
  }, 30_000);
  await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
  clearInterval(sweep);
}
