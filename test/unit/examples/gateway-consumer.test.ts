import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '#lib/cli/main.js';
import {
  main as consumer,
  type ExitSignalEvent,
  GatewayBook,
  handleBody,
} from '../../../examples/gateway-consumer.js';

const BREACH = 'examples/sample-eventbridge-event.json';

function event(key: string, asOf: string, signals: ExitSignalEvent['data']['signals']): ExitSignalEvent {
  return {
    specversion: '1.0',
    id: `id-${key}`,
    source: 'qmtl.services.exit_engine',
    type: 'exit_signal_emitted',
    time: asOf,
    datacontenttype: 'application/json',
    correlation_id: 'c',
    data: {
      world_id: 'w',
      as_of: asOf,
      snapshot_version: 'v',
      event_version: 1,
      idempotency_key: key,
      signals,
      provenance: { actor: 'exit-engine' },
    },
  } as ExitSignalEvent;
}
const reduce = (strategy: string, ratio: number) => ({
  strategy_id: strategy,
  action: 'reduce' as const,
  reduction_ratio: ratio,
  reason: 'var_limit_breach',
  metrics: {},
  tags: ['rule:var_99_limit'],
});
const body = (e: ExitSignalEvent) => JSON.stringify({ 'detail-type': 'exit_signal_emitted', detail: e });

/** Runs the example's file as a gateway team would (node + tsx), capturing its output. */
function run(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/gateway-consumer.ts', ...args], {
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('gateway consumer example', () => {
  afterEach(() => vi.restoreAllMocks());

  it('applies a redelivered event once (idempotency_key + strategy_id)', () => {
    const book = new GatewayBook();
    const lines: string[] = [];
    const e = body(event('k1', '2025-03-10T21:00:00Z', [reduce('a', 0.5), reduce('b', 0.25)]));
    expect(handleBody(e, book, (l) => lines.push(l))).toBe(true);
    expect(handleBody(e, book, (l) => lines.push(l))).toBe(true);
    expect(book.cap('w', 'a')).toBe(0.5);
    expect(book.cap('w', 'b')).toBe(0.75);
    expect(lines.filter((l) => l.startsWith('WOULD'))).toHaveLength(2);
    expect(lines.filter((l) => l.startsWith('SKIP') && l.includes('already applied'))).toHaveLength(2);
  });

  it('compounds successive reduces against the current exposure; exit zeroes; hold lifts the cap', () => {
    const book = new GatewayBook();
    book.apply(event('k1', '2025-03-10T21:00:00Z', [reduce('a', 0.5)]));
    book.apply(event('k2', '2025-03-11T21:00:00Z', [reduce('a', 0.2)]));
    expect(book.cap('w', 'a')).toBeCloseTo(0.4, 12);
    book.apply(event('k3', '2025-03-12T21:00:00Z', [{ ...reduce('a', 1), action: 'exit' }]));
    expect(book.cap('w', 'a')).toBe(0);
    book.apply(event('k4', '2025-03-13T21:00:00Z', [{ ...reduce('a', 0), action: 'hold' }]));
    expect(book.cap('w', 'a')).toBe(1);
  });

  it('never lets an older as_of override a newer one for the same world and strategy', () => {
    const book = new GatewayBook();
    book.apply(event('new', '2025-03-11T21:00:00Z', [{ ...reduce('a', 0), action: 'hold' }]));
    const [late] = book.apply(event('old', '2025-03-10T21:00:00Z', [reduce('a', 0.5)]));
    expect(late?.outcome).toBe('older');
    expect(book.cap('w', 'a')).toBe(1);
    // The same snapshot re-evaluated on newer market data (same as_of, new key) is applied.
    const [same] = book.apply(event('new-market', '2025-03-11T21:00:00Z', [reduce('a', 0.5)]));
    expect(same?.outcome).toBe('applied');
    // Another strategy has its own guard.
    expect(book.apply(event('old', '2025-03-10T21:00:00Z', [reduce('b', 0.5)]))[0]?.outcome).toBe('applied');
  });

  it('refuses the dry-run event exit-engine evaluate prints, and dead-letters invalid ones', async () => {
    const printed: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((l: unknown) => void printed.push(String(l)));
    expect(await main(['evaluate', '--snapshot', BREACH, '--json'])).toBe(0);
    const dry = JSON.parse(printed.join('\n')).event as ExitSignalEvent;
    const book = new GatewayBook();
    const lines: string[] = [];
    expect(handleBody(JSON.stringify(dry), book, (l) => lines.push(l))).toBe(false);
    expect(lines[0]).toMatch(/^REFUSED dry run \(provenance\.dry_run/);
    expect(book.cap(dry.data.world_id, dry.data.signals[0]!.strategy_id)).toBe(1);
    expect(handleBody('{"detail":{"type":"exit_signal_emitted"}}', book, (l) => lines.push(l))).toBe(false);
    expect(lines[1]).toMatch(/^INVALID message .*data/);
  }, 60_000);

  it('is standalone: no imports from the engine, and its schema copy is upstream’s', () => {
    const source = readFileSync('examples/gateway-consumer.ts', 'utf8');
    expect(source).not.toMatch(/from '(#lib|\.\.\/lib|#functions)/);
    expect(JSON.parse(readFileSync('examples/gateway/exit_signal_emitted.schema.json', 'utf8'))).toEqual(
      JSON.parse(readFileSync('contracts/qmtl/event_exit_signal_emitted.schema.json', 'utf8')),
    );
  });

  it('refuses a bad flag and a bad port without a stack trace', async () => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((l: unknown) => void errors.push(String(l)));
    expect(await consumer(['--nope'])).toBe(2);
    expect(await consumer(['--webhook', 'eighty'])).toBe(2);
    expect(await consumer([])).toBe(2);
    expect(errors.join('\n')).toMatch(/Unknown option '--nope'/);
    expect(errors.join('\n')).toMatch(/--webhook: 'eighty' is not a port number/);
    expect(errors.join('\n')).not.toMatch(/\n\s+at /);
  });

  it('run as a program: --help prints the usage; a busy port is a message and exit 1', async () => {
    const help = await run('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: gateway-consumer/);
    expect(help.stderr).toBe('');

    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as { port: number }).port;
      const busy = await run('--webhook', String(port));
      expect(busy.code).toBe(1);
      expect(busy.stderr).toMatch(new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
      expect(busy.stderr).not.toMatch(/\n\s+at /);
    } finally {
      blocker.close();
    }
  }, 120_000);
});
