import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { replayStream } from '#lib/cli/local/replay-stream.js';
import type { ExitSignalEvent } from '#lib/contracts/exit-signal.js';
import { upstreamValidator } from '#test/support/upstream-schemas.js';
import { startPipeline, usePipeline } from './support/pipeline.js';

/**
 * The bundled example stream (examples/README.md tells its story) through the real local
 * pipeline: what `npm start` shows, checked line by line, and every emitted event validated
 * against upstream's JSON Schema.
 */
describe('demo stream through the local pipeline', () => {
  const printed: string[] = [];
  let counts: Record<string, number>;

  const p = usePipeline({ name: 'demo', clock: 'event-time' });
  beforeAll(async () => {
    counts = await replayStream(p.stack, readFileSync('examples/demo-world.jsonl', 'utf8'), (l) =>
      printed.push(l),
    );
  });

  const signalsOnLine = (line: number) => printed.filter((p) => p.startsWith(`line ${line}:  SIGNAL`));

  it('reduces every strategy when the volatility shock breaches the VaR limit (line 12)', () => {
    // One line per world-wide decision, with its strategy count.
    const lines = signalsOnLine(12);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/REDUCE 5 strategies .* var_limit_breach .*\(world-wide\)$/);
  });

  it('emits nothing for the redelivered duplicate (line 13) and holds once the episode clears', () => {
    expect(printed.some((p) => p.startsWith('line 13:  DUPLICATE'))).toBe(true);
    expect(signalsOnLine(13)).toHaveLength(0);
    const holds = printed.filter((p) => /SIGNAL .* HOLD +5 strategies .* var_99_limit episode over/.test(p));
    expect(holds).toHaveLength(1);
  });

  it('exits the world on the stress breach and ignores the late snapshot that would reopen it', () => {
    expect(signalsOnLine(25)).toHaveLength(1);
    expect(signalsOnLine(25)[0]).toMatch(/EXIT +5 strategies +fully +stress_drawdown_breach/);
    expect(printed.some((p) => p.startsWith('line 29:  OUT-OF-ORDER'))).toBe(true);
    expect(signalsOnLine(29)).toHaveLength(0);
  });

  it('rejects the malformed snapshot with the field named (line 8)', () => {
    expect(printed).toContain(
      'line 8:  REJECTED demo-world: detail.data.weights: must sum to 1 ± 0.001 (sum is 0.5)',
    );
  });

  it('publishes four events in all and dead-letters nothing', () => {
    expect(counts.published_events).toBe(4);
    expect(p.stack.emitted).toHaveLength(4);
    expect(p.stack.bus.deadLetters()).toHaveLength(0);
  });

  it('publishes only events that validate against the upstream exit_signal_emitted schema', () => {
    const validate = upstreamValidator();
    for (const event of p.stack.emitted) {
      expect(event['detail-type']).toBe('exit_signal_emitted');
      expect(event.source).toBe('qmtl.services.exit_engine');
      expect(validate.exitSignal(event.detail)).toBe('');
    }
  });

  it('keeps the upstream idempotency-key pattern and full provenance on every event', () => {
    for (const e of p.stack.emitted.map((x) => x.detail as ExitSignalEvent)) {
      expect(e.data.idempotency_key).toMatch(
        new RegExp(`^exit_signal_emitted:demo-world:${e.data.snapshot_version}:1:[0-9a-f]{16}$`),
      );
      expect(e.data.provenance).toMatchObject({
        actor: 'exit-engine',
        stage: 'live',
        ruleset_world: 'default',
      });
      expect(String(e.data.provenance?.ruleset_version)).toMatch(/^sha256:[0-9a-f]{16}$/);
    }
  });
});

describe('demo stream with --verbose', () => {
  it('lists every strategy of a world-wide decision', async () => {
    const p = await startPipeline({ name: 'demo-v', clock: 'event-time' });
    const printed: string[] = [];
    try {
      await replayStream(p.stack, readFileSync('examples/demo-world.jsonl', 'utf8'), (l) => printed.push(l), {
        verbose: true,
      });
    } finally {
      await p.stop();
    }
    const line12 = printed.filter((p) => p.startsWith('line 12:  SIGNAL'));
    expect(line12).toHaveLength(5);
    expect(new Set(line12.map((l) => /REDUCE (\S+)/.exec(l)?.[1])).size).toBe(5);
  });
});
