/**
 * A gateway-side consumer of `exit_signal_emitted`, written to be copied into a gateway's own
 * repository: it imports nothing from the exit engine (its own copy of the outbound JSON Schema is
 * in ./gateway/), and does what the README's "Gateway semantics" asks of every gateway:
 *
 * - validate each event against the schema; an invalid one goes to the dead-letter path;
 * - refuse dry runs (`exit-engine evaluate` marks its events `provenance.dry_run: true`);
 * - apply each signal once: dedupe on `idempotency_key` + `strategy_id` (EventBridge delivers at
 *   least once);
 * - never let an older snapshot's signal override a newer one: an `as_of` guard per world and strategy;
 * - keep the exposure each strategy is allowed: `exit` -> 0, `reduce` -> current x (1 - ratio)
 *   (successive reduces compound), `hold` -> the cap is lifted (back to 1).
 *
 * It prints what it would do and places no orders. State lives in memory here; a real gateway keeps
 * the dedupe keys, the last as_of and the exposure caps in its own database, in one transaction with
 * the position change.
 *
 *   npx tsx examples/gateway-consumer.ts --queue-url https://sqs.eu-west-1.amazonaws.com/123/exit-signals
 *   npx tsx examples/gateway-consumer.ts --webhook 8787     # then: npm start -- --forward http://127.0.0.1:8787/exit-signals
 */

import { readFileSync, realpathSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/** One recommendation, as the outbound schema defines it. */
export interface ExitSignal {
  strategy_id: string;
  action: 'exit' | 'reduce' | 'hold';
  reduction_ratio?: number;
  reason?: string;
  metrics?: Record<string, unknown>;
  tags?: string[];
}

/** The `exit_signal_emitted` CloudEvent (the EventBridge `detail`). */
export interface ExitSignalEvent {
  id: string;
  type: 'exit_signal_emitted';
  time: string;
  data: {
    world_id: string;
    as_of: string;
    snapshot_version: string;
    event_version: number;
    idempotency_key: string;
    signals: ExitSignal[];
    provenance?: Record<string, unknown>;
  };
}

const SCHEMA_FILE = new URL('./gateway/exit_signal_emitted.schema.json', import.meta.url);

let validator: ReturnType<InstanceType<typeof Ajv2020.default>['compile']> | undefined;
function validate(value: unknown): string | undefined {
  if (!validator) {
    const ajv = new Ajv2020.default({ strict: false, allErrors: true });
    addFormats.default(ajv);
    validator = ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')));
  }
  if (validator(value)) return undefined;
  return (validator.errors ?? [])
    .map((e) => {
      const path = e.instancePath
        .split('/')
        .slice(1)
        .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : `${i === 0 ? '' : '.'}${p}`))
        .join('');
      return `${path || '(event)'}: ${e.message ?? 'invalid'}`;
    })
    .join('; ');
}

/** The message body is the EventBridge event; its `detail` is the CloudEvent. */
export function parseDelivery(body: string): { event: ExitSignalEvent } | { error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return { error: 'body is not JSON' };
  }
  const detail = (raw as { detail?: unknown })?.detail ?? raw;
  const error = validate(detail);
  return error ? { error } : { event: detail as ExitSignalEvent };
}

/** True for an event from `exit-engine evaluate` (a dry run): never to be applied. */
export function isDryRun(event: ExitSignalEvent): boolean {
  return event.data.provenance?.dry_run === true;
}

const ruleOf = (s: ExitSignal) =>
  (s.metrics?.rule_id as string | undefined) ??
  s.tags?.find((t) => t.startsWith('rule:'))?.slice('rule:'.length) ??
  s.reason ??
  'unknown rule';

/** One line per signal: what the gateway would do, e.g. "reduce trend_es by 41.3% (var_99_limit)". */
export function describeForGateway(event: ExitSignalEvent): string[] {
  const d = event.data;
  return d.signals.map((s) => {
    const approvedBy = s.tags?.filter((t) => t.startsWith('approved_by:')).map((t) => t.slice(12));
    const what =
      s.action === 'exit'
        ? `exit ${s.strategy_id} fully`
        : s.action === 'reduce'
          ? `reduce ${s.strategy_id} by ${((s.reduction_ratio ?? 0) * 100).toFixed(1)}%`
          : `hold ${s.strategy_id}: risk episode over, cap lifted`;
    return `[${d.world_id}] ${what} (${ruleOf(s)})${approvedBy?.length ? ` approved by ${approvedBy.join(', ')}` : ''} — key ${d.idempotency_key}`;
  });
}

/** What happened to one signal of a delivery. */
export type SignalOutcome =
  | { outcome: 'applied'; strategy_id: string; before: number; after: number; line: string }
  | { outcome: 'duplicate' | 'older'; strategy_id: string; line: string };

/**
 * The gateway's side of the contract: which signals it has applied, the newest `as_of` per world
 * and strategy, and the exposure cap each strategy is left with (1 = no cap, 0 = exited).
 */
export class GatewayBook {
  private readonly applied = new Set<string>();
  private readonly lastAsOf = new Map<string, number>();
  private readonly caps = new Map<string, number>();

  /** The exposure cap of a strategy in a world, as a fraction of what its own logic wants. */
  cap(world: string, strategy: string): number {
    return this.caps.get(`${world}\u0000${strategy}`) ?? 1;
  }

  /** Applies each signal of an event at most once, oldest-never-wins, and says what it did. */
  apply(event: ExitSignalEvent): SignalOutcome[] {
    const d = event.data;
    const asOf = Date.parse(d.as_of);
    const lines = describeForGateway(event);
    return d.signals.map((s, i) => {
      const unit = `${d.world_id}\u0000${s.strategy_id}`;
      const key = `${d.idempotency_key}\u0000${s.strategy_id}`;
      if (this.applied.has(key))
        return {
          outcome: 'duplicate',
          strategy_id: s.strategy_id,
          line: `[${d.world_id}] ${s.strategy_id}: already applied (key ${d.idempotency_key}); redelivery ignored`,
        };
      const last = this.lastAsOf.get(unit);
      // Equal as_of is allowed: the same snapshot re-evaluated on newer market data is a new signal.
      if (last !== undefined && asOf < last)
        return {
          outcome: 'older',
          strategy_id: s.strategy_id,
          line: `[${d.world_id}] ${s.strategy_id}: as_of ${d.as_of} is older than the ${new Date(last).toISOString()} already applied; ignored`,
        };
      const before = this.caps.get(unit) ?? 1;
      const after =
        s.action === 'exit' ? 0 : s.action === 'reduce' ? before * (1 - (s.reduction_ratio ?? 0)) : 1;
      this.applied.add(key);
      this.lastAsOf.set(unit, asOf);
      this.caps.set(unit, after);
      return {
        outcome: 'applied',
        strategy_id: s.strategy_id,
        before,
        after,
        line: `${lines[i]} — exposure cap ${before.toFixed(3)} -> ${after.toFixed(3)}`,
      };
    });
  }
}

/** Handles one message body; false means "dead-letter it" (invalid, or a dry run that must not be applied). */
export function handleBody(body: string, book: GatewayBook, print: (line: string) => void): boolean {
  const result = parseDelivery(body);
  if ('error' in result) {
    print(`INVALID message (left for the dead-letter queue): ${result.error}`);
    return false;
  }
  if (isDryRun(result.event)) {
    print(
      `REFUSED dry run (provenance.dry_run, from 'exit-engine evaluate'): ${result.event.data.idempotency_key}; never applied`,
    );
    return false;
  }
  for (const o of book.apply(result.event))
    print(o.outcome === 'applied' ? `WOULD ${o.line}` : `SKIP ${o.line}`);
  return true;
}

/** Long-polls the queue; deletes what it has handled. Invalid messages stay, for the DLQ to take. */
async function consumeQueue(
  queueUrl: string,
  once: boolean,
  book: GatewayBook,
  print: (line: string) => void,
): Promise<void> {
  const sqs = new SQSClient({});
  try {
    do {
      const out = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 20 }),
      );
      for (const m of out.Messages ?? []) {
        if (handleBody(m.Body ?? '', book, print) && m.ReceiptHandle) {
          await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
        }
      }
    } while (!once);
  } finally {
    sqs.destroy();
  }
}

/** A port we could not listen on, with the reason in words. */
export class ListenError extends Error {
  override readonly name = 'ListenError';
}

/**
 * Serves POST on 127.0.0.1:PORT for `npm start -- --forward`; 400 tells the bus a delivery is bad.
 * Rejects with a ListenError (busy port, no permission) instead of crashing.
 */
export function serveWebhook(
  port: number,
  print: (line: string) => void,
  book: GatewayBook = new GatewayBook(),
): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const ok = handleBody(Buffer.concat(chunks).toString('utf8'), book, print);
      res.writeHead(ok ? 204 : 400).end();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new ListenError(
          error.code === 'EADDRINUSE'
            ? `port ${port} on 127.0.0.1 is already in use; pick another with --webhook PORT (0 picks a free one)`
            : error.code === 'EACCES'
              ? `no permission to listen on port ${port}; use a port above 1023`
              : `cannot listen on 127.0.0.1:${port}: ${error.message}`,
          { cause: error },
        ),
      );
    });
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

const USAGE = `usage: gateway-consumer (--queue-url URL [--once] | --webhook PORT)

Consumes exit_signal_emitted and prints what a gateway would do (it places no orders):
validates each event, refuses dry runs, applies each signal once (idempotency_key + strategy_id),
ignores signals older than one already applied for the same world and strategy, and tracks the
exposure cap per strategy (exit -> 0, reduce -> current x (1 - reduction_ratio), hold -> cap lifted).

  --queue-url URL   the gateway SQS queue (stack output GatewayQueueUrl; or GATEWAY_QUEUE_URL)
  --once            one receive round, then exit
  --webhook PORT    serve POSTs on 127.0.0.1:PORT for 'npm start -- --forward http://127.0.0.1:PORT/'
  -h, --help        this text`;

/** The example's command line: returns the exit code; mistakes print a message and the usage. */
export async function main(argv: string[], print = (line: string) => console.log(line)): Promise<number> {
  let values: { 'queue-url'?: string; webhook?: string; once?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'queue-url': { type: 'string' },
        webhook: { type: 'string' },
        once: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    console.error(`gateway-consumer: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    print(USAGE);
    return 0;
  }
  const book = new GatewayBook();
  if (values.webhook !== undefined) {
    const port = Number(values.webhook);
    if (!/^\d+$/.test(values.webhook) || port > 65_535) {
      console.error(`gateway-consumer: --webhook: '${values.webhook}' is not a port number (0-65535)`);
      return 2;
    }
    let server: Server;
    try {
      server = await serveWebhook(port, print, book);
    } catch (error) {
      if (!(error instanceof ListenError)) throw error;
      console.error(`gateway-consumer: ${error.message}`);
      return 1;
    }
    const address = server.address();
    print(
      `listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}/ (Ctrl-C to stop)`,
    );
    await new Promise((resolve) => process.once('SIGINT', resolve));
    server.close();
    return 0;
  }
  const queueUrl = values['queue-url'] ?? process.env.GATEWAY_QUEUE_URL;
  if (!queueUrl) {
    console.error(
      `gateway-consumer: give --queue-url URL (the stack output GatewayQueueUrl) or set GATEWAY_QUEUE_URL; or --webhook PORT for local runs\n\n${USAGE}`,
    );
    return 2;
  }
  try {
    await consumeQueue(queueUrl, values.once ?? false, book, print);
  } catch (error) {
    console.error(
      `gateway-consumer: reading ${queueUrl}: ${(error as Error).name}: ${(error as Error).message}`,
    );
    return 1;
  }
  return 0;
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: Error) => {
      console.error(`gateway-consumer: ${error.name}: ${error.message}`);
      process.exitCode = 1;
    },
  );
}
