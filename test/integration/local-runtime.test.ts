import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '#lib/cli/main.js';
import type { EngineEvent } from '#lib/contracts/exit-signal.js';
import type { EventBridgeEvent } from '#lib/local/local-event-bus.js';
import { LOCAL_BUS_NAME, startLocalStack } from '#lib/local/local-stack.js';
import { putEntry } from './support/snapshots.js';

/**
 * The local runtime as a user runs it: `exit-engine local` in a child process, killed with -9 and
 * restarted on the same --data-dir, and forwarding to a webhook that fails. Each runtime starts its
 * own DynamoDB Local (the data dir is the point), so these are the slowest integration tests.
 */
const BIN = resolve('bin/exit-engine.js');
const RULES = resolve('rulesets');
const work = mkdtempSync(join(tmpdir(), 'exit-engine-runtime-'));
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

/** A runtime child whose stdout lines the test can wait for. */
function runtime(args: string[], rules = RULES) {
  const child = spawn(process.execPath, [BIN, 'local', '--rules', rules, ...args], {
    cwd: work,
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: string[] = [];
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    lines,
    exited,
    stderr: () => stderr,
    async waitFor(pattern: RegExp, timeoutMs = 240_000): Promise<string> {
      await vi.waitFor(
        () => {
          if (child.exitCode !== null)
            throw new Error(`runtime exited ${child.exitCode}: ${stderr}\n${lines.join('\n')}`);
          if (!lines.some((l) => pattern.test(l)))
            throw new Error(`no line matches ${pattern}:\n${lines.join('\n')}`);
        },
        { timeout: timeoutMs, interval: 100 },
      );
      return lines.find((l) => pattern.test(l))!;
    },
  };
}

const busOf = (line: string) => /EventBridge at (http:\/\/\S+)/.exec(line)![1]!;
const jvmOf = (line: string) => Number(/jvm pid (\d+)/.exec(line)![1]);
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** One as_of per world, so a redelivery is the same snapshot. */
const asOf = new Map<string, string>();

async function put(busEndpoint: string, world: string, version: string): Promise<void> {
  if (!asOf.has(world)) asOf.set(world, new Date().toISOString());
  const client = new EventBridgeClient({
    endpoint: busEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    const out = await client.send(
      new PutEventsCommand({
        // 4% one-day VaR against the default set's 2.5% limit: a world-wide reduce.
        Entries: [putEntry({ world, version, asOf: asOf.get(world)!, varLevel: 0.04 }, LOCAL_BUS_NAME)],
      }),
    );
    expect(out.FailedEntryCount).toBe(0);
  } finally {
    client.destroy();
  }
}

/** A webhook whose answers the test scripts: the status for each request, then 200. */
async function webhook(
  statuses: () => number,
): Promise<{ server: Server; url: string; got: EventBridgeEvent[] }> {
  const got: EventBridgeEvent[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      const status = statuses();
      if (status === 200) got.push(JSON.parse(body) as EventBridgeEvent);
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${port}/exit-signals`, got };
}

describe('exit-engine local --data-dir', () => {
  it('survives kill -9 (no orphan JVM), refuses a second runtime, and publishes the outbox a crash left pending', async () => {
    const dataDir = join(work, 'crash');
    const hook = await webhook(() => 200);
    try {
      // 1. A runtime on the data dir evaluates a breach, then is killed with -9.
      const first = runtime(['--data-dir', dataDir, '--no-replay', '--keep-running', '--wall-clock']);
      const start = await first.waitFor(/^exit-engine local: DynamoDB \(dynamodb-local, data in /);
      await first.waitFor(/^listening/);
      await put(busOf(start), 'w-crash-a', 'v1');
      await first.waitFor(/SIGNAL .* w-crash-a REDUCE +3 strategies/);
      // The outcome line comes once the handler returned: the outbox is marked published.
      await first.waitFor(/PUBLISHED w-crash-a: event /);
      const jvm = jvmOf(start);
      expect(alive(jvm)).toBe(true);
      first.child.kill('SIGKILL');
      await first.exited;
      await vi.waitFor(() => expect(alive(jvm)).toBe(false), { timeout: 20_000, interval: 100 });

      // 2. On the same data (the killed runtime's lock is stale): an evaluation commits its outbox
      //    but every publish fails, as when a process dies between the commit and PutEvents.
      const crashed = await startLocalStack({
        dataDir,
        rulesetsPath: RULES,
        maximumRetryAttempts: 0,
        overrides: () => ({
          publisher: {
            publish: async (_events: readonly EngineEvent[]) => {
              throw new Error('PutEvents never reached (simulated crash)');
            },
          },
        }),
      });
      try {
        // The first runtime's evaluation is on disk: a redelivery is a duplicate, not a new signal.
        const a = crashed.outcomes.length;
        await put(crashed.busEndpoint, 'w-crash-a', 'v1');
        await put(crashed.busEndpoint, 'w-crash-b', 'v1');
        await crashed.bus.drain();
        expect(
          crashed.outcomes.slice(a).map((o) => `${o.world_id}:${o.outcome}`),
          crashed.bus
            .deadLetters()
            .map((d) => String(d.error))
            .join('; '),
        ).toEqual(['w-crash-a:duplicate']);
        expect(crashed.bus.deadLetterCount).toBe(1); // w-crash-b's publish failed: outbox pending
      } finally {
        await crashed.stop();
      }

      // 3. A restarted runtime completes the pending outbox on start and forwards it.
      const second = runtime(['--data-dir', dataDir, '--no-replay', '--keep-running', '--forward', hook.url]);
      await second.waitFor(/RESUME w-crash-b .*: COMPLETED w-crash-b: published/);
      await second.waitFor(/^listening/);
      await vi.waitFor(() => expect(hook.got.map((e) => e['detail-type'])).toEqual(['exit_signal_emitted']), {
        timeout: 30_000,
      });
      expect((hook.got[0]!.detail as { data: { world_id: string } }).data.world_id).toBe('w-crash-b');

      // 4. A second runtime on the same data dir is refused, naming the holder.
      const third = runtime(['--data-dir', dataDir, '--no-replay']);
      expect(await third.exited).toBe(1);
      expect(third.stderr()).toContain(`is in use by another exit-engine runtime (pid ${second.child.pid})`);

      // 5. A clean stop takes its JVM with it too.
      const jvm2 = jvmOf(second.lines.find((l) => l.includes('jvm pid'))!);
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
      await vi.waitFor(() => expect(alive(jvm2)).toBe(false), { timeout: 20_000, interval: 100 });
    } finally {
      hook.server.close();
    }
  }, 600_000);
});

describe('exit-engine local --forward', () => {
  it('retries a failing webhook until it recovers, and prints and lists every dead letter', async () => {
    const dataDir = join(work, 'forward');
    let mode: 'flaky' | 'down' = 'flaky';
    let refusals = 0;
    const hook = await webhook(() => {
      if (mode === 'down') return 503;
      return refusals++ < 3 ? 503 : 200;
    });
    try {
      const rt = runtime(
        [
          '--data-dir',
          dataDir,
          '--no-replay',
          '--keep-running',
          '--wall-clock',
          '--forward',
          hook.url,
          '--forward-retry-seconds',
          '5',
        ],
        // A single rules file applies to every world, as with evaluate and replay.
        resolve('rulesets/default.yaml'),
      );
      const start = await rt.waitFor(/EventBridge at/);
      await rt.waitFor(/^listening/);
      await rt.waitFor(/retried with backoff for 5 s/);

      // Refused three times, then accepted: delivered once, nothing dead-lettered.
      await put(busOf(start), 'w-flaky', 'v1');
      await vi.waitFor(() => expect(hook.got).toHaveLength(1), { timeout: 30_000 });
      expect(refusals).toBe(4);
      expect(rt.lines.some((l) => l.includes('DEAD-LETTER'))).toBe(false);

      // An entry without EventBusName lands on the default bus, which has no rules: said so.
      const client = new EventBridgeClient({
        endpoint: busOf(start),
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
      const { EventBusName: _bus, ...onDefault } = putEntry(
        { world: 'w-default', version: 'v1', asOf: new Date().toISOString() },
        LOCAL_BUS_NAME,
      );
      await client.send(new PutEventsCommand({ Entries: [onDefault] }));
      client.destroy();
      await rt.waitFor(
        /WARNING: risk_snapshot_updated from qmtl.services.worldservice was put on bus 'default', which has no rules: nothing evaluates it/,
      );

      // Down for longer than the budget: dead-lettered, printed at once.
      mode = 'down';
      await put(busOf(start), 'w-down', 'v1');
      const line = await rt.waitFor(
        /DEAD-LETTER exit-signals-to-local-webhook\/local-webhook exit_signal_emitted w-down/,
      );
      expect(line).toMatch(/answered 503/);

      // Listed by the CLI, from the data dir, while the runtime runs.
      const out: string[] = [];
      const spy = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
      try {
        expect(await main(['dead-letters', '--data-dir', dataDir])).toBe(0);
        expect(await main(['dead-letters', '--data-dir', dataDir, '--json'])).toBe(0);
      } finally {
        spy.mockRestore();
      }
      expect(out[0]).toMatch(
        /exit-signals-to-local-webhook\/local-webhook exit_signal_emitted w-down exit_signal_emitted:w-down:/,
      );
      expect(out[1]).toBe(`1 dead letter(s) in ${join(dataDir, 'dead-letters.jsonl')}`);
      const record = JSON.parse(out[2]!) as { world_id: string; event: EventBridgeEvent };
      expect(record.world_id).toBe('w-down');
      expect(record.event['detail-type']).toBe('exit_signal_emitted');

      // A runtime that dead-lettered something says so in its exit status.
      rt.child.kill('SIGTERM');
      expect(await rt.exited).toBe(1);
    } finally {
      hook.server.close();
    }
  }, 600_000);
});
