import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { ExitSignalEvent } from '#lib/contracts/exit-signal.js';
import type { Outcome } from '#lib/engine/engine.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#lib/local/dynamodb-server.js';
import type { EventBridgeEvent } from '#lib/local/local-event-bus.js';
import { LOCAL_BUS_NAME, type LocalStack } from '#lib/local/local-stack.js';
import { parseStream } from '#lib/local/stream-input.js';
import { describeDecisions, describeOutcome } from './lines.js';

/**
 * Replays a stream through the local bus, in order, printing what each line caused: its outcome
 * and the decisions published (one line per world-wide decision; per strategy with `verbose`).
 */
export async function replayStream(
  stack: LocalStack,
  text: string,
  print: (line: string) => void,
  opts: { verbose?: boolean; emitted?: EventBridgeEvent[] } = {},
): Promise<Record<string, number>> {
  const client = new EventBridgeClient({
    endpoint: stack.busEndpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const counts: Record<string, number> = { events: 0, published_events: 0, signals: 0 };
  let outcomes: Outcome[] = [];
  let emitted: EventBridgeEvent[] = [];
  const stopOutcomes = stack.onOutcome((o) => outcomes.push(o));
  const stopEmitted = stack.onEmitted((e) => emitted.push(e));
  const deadBefore = stack.bus.deadLetterCount;
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
      for (const o of outcomes) {
        counts[o.outcome] = (counts[o.outcome] ?? 0) + 1;
        const line = describeOutcome(o);
        if (line) print(`line ${item.line}:${line}`);
      }
      for (const e of emitted) {
        counts.published_events! += 1;
        const event = e.detail as ExitSignalEvent;
        counts.signals! += event.data.signals.length;
        for (const l of describeDecisions(event, opts.verbose)) print(`line ${item.line}:${l}`);
        opts.emitted?.push(e);
      }
      outcomes = [];
      emitted = [];
    }
  } finally {
    stopOutcomes();
    stopEmitted();
    client.destroy();
  }
  const dead = stack.bus.deadLetterCount - deadBefore;
  if (dead > 0) counts.dead_letters = dead;
  return counts;
}
