import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterEach, describe, expect, it } from 'vitest';
import { forwardEmitted } from '#lib/cli/local/forward.js';
import { EXIT_ENGINE_SOURCE, EXIT_SIGNAL_DETAIL_TYPE } from '#lib/contracts/exit-signal.js';
import { LocalEventBus } from '#lib/local/local-event-bus.js';
import { LOCAL_BUS_NAME, type LocalStack } from '#lib/local/local-stack.js';

/**
 * `--forward` retries a failing webhook for minutes (like an API destination). A forward left on
 * the bus after its webhook closed kept every later event retrying against the closed port, and
 * `drain()` (which waits for every delivery) held later calls for over a minute: stopping the
 * forward must stop it for events put afterwards.
 */
describe('forwardEmitted', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('stops forwarding once stopped: later events are not retried against the closed webhook', async () => {
    const bus = new LocalEventBus({ retryBaseDelayMs: 1 });
    const { endpoint } = await bus.start();
    cleanups.push(() => bus.stop());
    bus.createEventBus(LOCAL_BUS_NAME);
    const client = new EventBridgeClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    cleanups.push(() => client.destroy());
    let received = 0;
    const server = createServer((req, res) => {
      received++;
      req.resume();
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/exit-signals`);
    // The default budget (300 s): if forwarding went on, the drain below would outlast the test.
    const stop = forwardEmitted({ bus } as unknown as LocalStack, url);
    const put = async () => {
      await client.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: LOCAL_BUS_NAME,
              Source: EXIT_ENGINE_SOURCE,
              DetailType: EXIT_SIGNAL_DETAIL_TYPE,
              Detail: JSON.stringify({ data: { world_id: 'w1' } }),
            },
          ],
        }),
      );
      await bus.drain();
    };
    await put();
    expect(received).toBe(1);
    stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await put();
    expect(received).toBe(1);
    expect(bus.deadLetterCount).toBe(0);
    expect(bus.removeRule('exit-signals-to-local-webhook', LOCAL_BUS_NAME)).toBe(false);
  }, 20_000);
});
