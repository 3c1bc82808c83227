/**
 * A gateway-side consumer of `exit_signal_emitted`, as a gateway team would start one: it reads the
 * gateway SQS queue (or, locally, a webhook that `npm start -- --forward` posts to), validates each
 * event, and prints what a gateway would do. It applies nothing.
 *
 *   npx tsx examples/gateway-consumer.ts --queue-url https://sqs.eu-west-1.amazonaws.com/123/exit-signals
 *   npx tsx examples/gateway-consumer.ts --webhook 8787     # then: npm start -- --forward http://127.0.0.1:8787/exit-signals
 */

import { realpathSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type ExitSignalEvent, ExitSignalEventSchema } from '#lib/contracts/exit-signal.js';
import { formatZodIssues } from '#lib/contracts/issues.js';

/** The message body is the EventBridge event; its `detail` is the CloudEvent. */
export function parseDelivery(body: string): { event: ExitSignalEvent } | { error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return { error: 'body is not JSON' };
  }
  const detail = (raw as { detail?: unknown })?.detail ?? raw;
  const parsed = ExitSignalEventSchema.safeParse(detail);
  return parsed.success ? { event: parsed.data } : { error: formatZodIssues(parsed.error).join('; ') };
}

/** One line per signal: what the gateway would do, e.g. "reduce trend_es by 41.3% (var_99_limit)". */
export function describeForGateway(event: ExitSignalEvent): string[] {
  const d = event.data;
  return d.signals.map((s) => {
    const rule =
      (s.metrics?.rule_id as string | undefined) ??
      s.tags?.find((t) => t.startsWith('rule:'))?.slice('rule:'.length) ??
      s.reason ??
      'unknown rule';
    const approvedBy = s.tags?.filter((t) => t.startsWith('approved_by:')).map((t) => t.slice(12));
    const what =
      s.action === 'exit'
        ? `exit ${s.strategy_id} fully`
        : s.action === 'reduce'
          ? `reduce ${s.strategy_id} by ${((s.reduction_ratio ?? 0) * 100).toFixed(1)}%`
          : `hold ${s.strategy_id}: risk episode over, no further cut`;
    return `[${d.world_id}] ${what} (${rule})${approvedBy?.length ? ` approved by ${approvedBy.join(', ')}` : ''} — key ${d.idempotency_key}`;
  });
}

function handleBody(body: string, print: (line: string) => void): boolean {
  const result = parseDelivery(body);
  if ('error' in result) {
    print(`INVALID message (left for the dead-letter queue): ${result.error}`);
    return false;
  }
  for (const line of describeForGateway(result.event)) print(`WOULD ${line}`);
  return true;
}

/** Long-polls the queue; deletes what it has handled. Invalid messages stay, for the DLQ to take. */
async function consumeQueue(queueUrl: string, once: boolean, print: (line: string) => void): Promise<void> {
  const sqs = new SQSClient({});
  try {
    do {
      const out = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 20 }),
      );
      for (const m of out.Messages ?? []) {
        if (handleBody(m.Body ?? '', print) && m.ReceiptHandle) {
          await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
        }
      }
    } while (!once);
  } finally {
    sqs.destroy();
  }
}

/** Serves POST on 127.0.0.1:PORT for `npm start -- --forward`; 400 tells the bus a delivery is bad. */
export function serveWebhook(port: number, print: (line: string) => void) {
  const server = createServer((req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const ok = handleBody(Buffer.concat(chunks).toString('utf8'), print);
      res.writeHead(ok ? 204 : 400).end();
    });
  });
  return new Promise<typeof server>((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'queue-url': { type: 'string' },
      webhook: { type: 'string' },
      once: { type: 'boolean' },
    },
  });
  const print = (line: string) => console.log(line);
  if (values.webhook !== undefined) {
    const port = Number(values.webhook);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      console.error(`--webhook: '${values.webhook}' is not a port number`);
      return 2;
    }
    const server = await serveWebhook(port, print);
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
      'give --queue-url URL (the stack output GatewayQueueUrl) or set GATEWAY_QUEUE_URL; or --webhook PORT for local runs',
    );
    return 2;
  }
  await consumeQueue(queueUrl, values.once ?? false, print);
  return 0;
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: Error) => {
      console.error(`gateway-consumer: ${error.name}: ${error.message}`);
      process.exitCode = 1;
    },
  );
}
