import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { UsageError } from '#lib/cli/args.js';
import { command } from '#lib/cli/commands/replay.js';
import { main } from '#lib/cli/main.js';
import type { ExitSignalEvent } from '#lib/contracts/exit-signal.js';
import { upstreamValidator } from '#test/support/upstream-schemas.js';

const DEMO = 'examples/demo-world.jsonl';
const MARKET_STREAM = 'test/fixtures/cli/market-stream.jsonl';
const MARKET_RULES = 'test/fixtures/rulesets/market/default.yaml';

const dir = mkdtempSync(join(tmpdir(), 'exit-engine-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the command, returning its exit code and everything it printed to stdout. */
async function replay(argv: string[]): Promise<{ code: number; stdout: string }> {
  const printed: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((line: unknown) => void printed.push(String(line)));
  try {
    const code = await command.run(argv);
    return { code, stdout: `${printed.join('\n')}\n` };
  } finally {
    spy.mockRestore();
  }
}

/** The signal lines of the report: `line N  as_of  world  ACTION  strategy …`. */
const signalLines = (stdout: string) => stdout.split('\n').filter((l) => /^ {2}line \d+ {2}\d{4}-/.test(l));
const section = (stdout: string, title: string) => {
  const lines = stdout.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`${title}:`));
  const end = lines.findIndex((l, i) => i > start && l === '');
  return lines.slice(start, end === -1 ? undefined : end);
};

describe('replay command', () => {
  describe('on the demo stream (examples/README.md tells its story)', () => {
    const out = join(dir, 'demo-signals.jsonl');
    let run: { code: number; stdout: string };
    let signals: string[];
    const on = (line: number) => signals.filter((l) => l.startsWith(`  line ${line}  `));

    beforeAll(async () => {
      run = await replay(['--events', DEMO, '--out', out]);
      signals = signalLines(run.stdout);
    });

    it('exits 0 and accounts for every event', () => {
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(
        'events: 37 (risk_snapshot_updated 36, market_snapshot_updated 0, invalid 1)',
      );
      expect(run.stdout).toContain(
        'outcomes: published 4, no_signal 30, duplicate 1, out_of_order 1, rejected 1',
      );
      expect(run.stdout).toContain('published: 4 exit_signal_emitted events with 20 signals');
    });

    it('reduces every strategy on the first VaR breach (2025-03-10, line 12), sized back to the target', () => {
      expect(on(12)).toHaveLength(5);
      for (const l of on(12)) {
        expect(l).toMatch(/2025-03-10T21:00:00Z {2}demo-world {2}REDUCE +\w+ +by 41\.28% +var_limit_breach/);
        expect(l).toContain('var_99_limit: 3.41% > limit 2.50% -> 2.00%');
      }
    });

    it('holds every strategy once VaR is back under its clear level', () => {
      const holds = signals.filter((l) => / HOLD .*var_99_limit: .* <= clear 2\.20%, episode over/.test(l));
      expect(holds).toHaveLength(5);
      expect(holds.every((l) => l.startsWith('  line 19  2025-03-18T21:00:00Z'))).toBe(true);
    });

    it('exits every strategy on the stress breach (2025-03-26, line 25) and holds when it clears', () => {
      expect(on(25)).toHaveLength(5);
      expect(
        on(25).every((l) => /2025-03-26T21:00:00Z {2}demo-world {2}EXIT .*stress_drawdown_breach/.test(l)),
      ).toBe(true);
      expect(on(27)).toHaveLength(5);
      expect(on(27).every((l) => / HOLD .*stress_drawdown_limit: .* episode over/.test(l))).toBe(true);
      expect(signals).toHaveLength(20);
    });

    it('publishes nothing for the duplicate (line 13) or the late snapshot (line 29)', () => {
      expect(on(13)).toEqual([]);
      expect(on(29)).toEqual([]);
      expect(section(run.stdout, 'duplicates')).toEqual([
        'duplicates: 1',
        '  line 13: demo-world: already evaluated; no second signal',
      ]);
      expect(section(run.stdout, 'out of order')).toEqual([
        'out of order: 1',
        '  line 29: demo-world: older than the latest snapshot (as_of 2025-04-01T21:00:00Z); recorded and ignored',
      ]);
    });

    it('rejects the malformed snapshot (line 8), naming `weights`', () => {
      expect(section(run.stdout, 'rejections')).toEqual([
        'rejections: 1',
        '  line 8: demo-world: detail.data.weights: must sum to 1 ± 0.001 (sum is 0.5)',
      ]);
    });

    it('summarizes signals per rule, episodes and time in breach', () => {
      expect(run.stdout).toMatch(/demo-world {2}var_99_limit +exit 0, reduce 5, hold 5/);
      expect(run.stdout).toMatch(/demo-world {2}stress_drawdown_limit +exit 5, reduce 0, hold 5/);
      expect(run.stdout).toContain('episodes: 2 opened, 2 closed');
      expect(run.stdout).toMatch(
        /var_99_limit +world +enforce +opened 2025-03-10T21:00:00Z +closed 2025-03-18T21:00:00Z +8d 00h00m/,
      );
      // 03-26 → 03-31 in delivery order: the late 03-28 breach never re-opened it.
      expect(run.stdout).toMatch(/demo-world {2}stress_drawdown_limit +5d 00h00m +\(1 episode\)/);
    });

    it('writes every exit_signal_emitted to --out, valid against upstream’s schema, timed by the replay clock', () => {
      const events = readFileSync(out, 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as ExitSignalEvent);
      expect(events).toHaveLength(4);
      const validate = upstreamValidator();
      for (const e of events) expect(validate.exitSignal(e)).toBe('');
      // Each evaluated as of its EventBridge time (created_at + 1 s), never the wall clock.
      expect(events.map((e) => e.time)).toEqual([
        '2025-03-10T21:00:31.000Z',
        '2025-03-18T21:00:31.000Z',
        '2025-03-26T21:00:31.000Z',
        '2025-03-31T21:00:31.000Z',
      ]);
      expect(events.map((e) => e.data.provenance?.evaluated_at)).toEqual(events.map((e) => e.time));
      expect(events[0]!.data.idempotency_key).toMatch(
        /^exit_signal_emitted:demo-world:v2025-03-10:1:[0-9a-f]{16}$/,
      );
    });

    it('gives byte-identical stdout and --out across runs', async () => {
      const again = await replay(['--events', DEMO, '--out', out]);
      const first = readFileSync(out);
      const third = await replay(['--events', DEMO, '--out', out]);
      expect(again.stdout).toBe(run.stdout);
      expect(third.stdout).toBe(run.stdout);
      expect(readFileSync(out).equals(first)).toBe(true);
    });
  });

  describe('with market events', () => {
    let run: { code: number; stdout: string };
    let signals: string[];

    beforeAll(async () => {
      run = await replay(['--events', MARKET_STREAM, '--rules', MARKET_RULES]);
      signals = signalLines(run.stdout);
    });

    it('re-evaluates the latest snapshot when a VIX spike arrives, and holds when it passes', () => {
      expect(run.stdout).toContain(
        'events: 5 (risk_snapshot_updated 1, market_snapshot_updated 3, invalid 1)',
      );
      expect(signals.filter((l) => l.startsWith('  line 3  ')).map((l) => l.split(/ +/)[6])).toEqual([
        'alpha',
        'beta',
      ]);
      expect(
        signals
          .filter((l) => l.startsWith('  line 3  '))
          .every((l) => / EXIT .*vix_panic: 45\.00 > limit 40\.00/.test(l)),
      ).toBe(true);
      expect(
        signals
          .filter((l) => l.startsWith('  line 7  '))
          .every((l) => / HOLD .*vix_panic: 25\.00 <= clear 30\.00/.test(l)),
      ).toBe(true);
      expect(signals).toHaveLength(4);
    });

    it('times the market-triggered episode by the market data’s as_of', () => {
      expect(run.stdout).toMatch(
        /w-market +vix_panic +world +enforce +opened 2025-03-11T14:00:00Z +closed 2025-03-11T15:00:00Z +0d 01h00m/,
      );
    });

    it('ignores older market data and records a line that is not JSON', () => {
      expect(section(run.stdout, 'out of order')).toEqual([
        'out of order: 1',
        '  line 4: market scope global: older than the stored data; recorded and ignored',
      ]);
      const rejections = section(run.stdout, 'rejections');
      expect(rejections[0]).toBe('rejections: 1');
      expect(rejections[1]).toMatch(/^ {2}line 5: _unknown: not valid JSON/);
    });
  });

  it('validates bare snapshots and CloudEvents with the handler’s schemas, deterministically', async () => {
    const stream = join(dir, 'bare.jsonl');
    const snapshot = { world_id: 'w-bare', version: 'v1', weights: { a: 0.6, b: 0.4 } }; // no as_of
    const cloudEvent = { specversion: '1.0', type: 'risk_snapshot_updated', data: { world_id: 'w-ce' } };
    writeFileSync(stream, `${JSON.stringify(snapshot)}\n${JSON.stringify(cloudEvent)}\n[1, 2]\n`);
    const run = await replay(['--events', stream, '--max-rejected-share', '1']);
    expect(section(run.stdout, 'rejections')).toEqual([
      'rejections: 3',
      '  line 1: w-bare: data.as_of: must be an ISO 8601 date-time with a zone (Z or ±hh:mm)',
      expect.stringMatching(/^ {2}line 2: w-ce: id: /),
      '  line 3: _unknown: not an EventBridge event, a CloudEvent or a snapshot',
    ]);
    expect((await replay(['--events', stream, '--max-rejected-share', '1'])).stdout).toBe(run.stdout);
  });

  describe('engine errors', () => {
    // Regression: the audit record id of a market re-evaluation once lacked the evaluation key, so
    // a market event redelivered after a newer snapshot collided with its first audit record and
    // the engine gave up with ConcurrentUpdateError.
    it('re-evaluates the newer snapshot when a market event is redelivered', async () => {
      const run = await replay([
        '--events',
        'test/fixtures/cli/market-redelivered.jsonl',
        '--rules',
        MARKET_RULES,
      ]);
      expect(run.stdout).not.toContain('engine errors');
      expect(run.code).toBe(0);
    });
  });

  describe('mistakes', () => {
    let errors: string[];
    beforeEach(() => {
      errors = [];
      vi.spyOn(console, 'error').mockImplementation((line: unknown) => void errors.push(String(line)));
    });
    afterEach(() => vi.restoreAllMocks());

    it('requires --events', async () => {
      await expect(command.run([])).rejects.toBeInstanceOf(UsageError);
    });

    it('reports a missing events file or rules path without a stack trace', async () => {
      expect(await main(['replay', '--events', join(dir, 'missing.jsonl')])).toBe(1);
      expect(errors.join('\n')).toMatch(/--events .*missing\.jsonl: no such file or directory/);
      expect(await main(['replay', '--events', DEMO, '--rules', join(dir, 'no-rules')])).toBe(1);
      expect(errors.join('\n')).toMatch(/no-rules: no such file or directory/);
    });
  });
});
