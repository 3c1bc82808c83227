import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UsageError } from '#lib/cli/args.js';
import { command, type DryRun } from '#lib/cli/commands/evaluate.js';
import { command as replay } from '#lib/cli/commands/replay.js';
import { main } from '#lib/cli/main.js';
import { upstreamValidator } from '#test/support/upstream-schemas.js';

/** Line 12 of the demo stream: the first VaR breach (3.41 % against a 2.5 % limit). */
const BREACH = 'examples/sample-eventbridge-event.json';
const VIX_45 = 'test/fixtures/cli/market-vix-45.json';
const MARKET_RULES = 'test/fixtures/rulesets/market/default.yaml';

const dir = mkdtempSync(join(tmpdir(), 'exit-engine-evaluate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('evaluate command', () => {
  let printed: string[];
  let errors: string[];
  const stdout = () => printed.join('\n');
  const json = () => JSON.parse(stdout()) as DryRun;

  beforeEach(() => {
    printed = [];
    errors = [];
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => void printed.push(String(line)));
    vi.spyOn(console, 'error').mockImplementation((line: unknown) => void errors.push(String(line)));
  });
  afterEach(() => vi.restoreAllMocks());

  it('prints every rule’s numbers and verdict, and names the event without dumping it', async () => {
    expect(await command.run(['--snapshot', BREACH])).toBe(0);
    const text = stdout();
    expect(text).toContain('world demo-world, snapshot v2025-03-10 (as_of 2025-03-10T21:00:00Z)');
    expect(text).toMatch(
      /var_99_limit +var_limit +enforce +world +3\.41% +2\.50% +2\.20% +2\.00% +136\.2% +fired +reduce 41\.28% \(uniform\) -> 2\.00%/,
    );
    expect(text).toMatch(
      /stress_drawdown_limit +stress_drawdown +enforce +world +24\.15% +30\.00% +27\.00% .* ok/,
    );
    expect(text).toContain('REDUCE trend_es by 41.28% (var_limit_breach; rules var_99_limit; published)');
    expect(text).toMatch(
      /an exit_signal_emitted with 5 signal\(s\) would be published .*--show-event prints it/,
    );
    expect(text).not.toContain('"specversion"');
    expect(text.split('\n').length).toBeLessThan(30);
  });

  it('--show-event prints the event, marked as a dry run', async () => {
    expect(await command.run(['--snapshot', BREACH, '--show-event'])).toBe(0);
    const text = stdout();
    expect(text).toContain('exit_signal_emitted that would be published (marked provenance.dry_run):');
    expect(text).toContain('"dry_run": true');
  });

  it('--json gives the outcomes and an event valid against upstream’s schema', async () => {
    expect(await command.run(['--snapshot', BREACH, '--json'])).toBe(0);
    const run = json();
    expect(run.ruleset).toMatchObject({ world: 'default', source: 'default.yaml' });
    expect(run.evaluated_at).toBe('2025-03-10T21:00:30.000Z'); // created_at, not the wall clock
    expect(run.expired_at).toBeNull();
    const var99 = run.rules.find((r) => r.rule_id === 'var_99_limit')!;
    expect(var99).toMatchObject({ verdict: 'fired', limit: 0.025, clear: 0.022, target: 0.02 });
    expect(var99.measure).toBeCloseTo(0.0340619, 6);
    expect(run.event?.data.signals).toHaveLength(5);
    expect(upstreamValidator().exitSignal(run.event)).toBe('');
  });

  it('names the event as the engine would: same id and idempotency key as the replay publishes', async () => {
    await command.run(['--snapshot', BREACH, '--json']);
    const dry = json().event!;
    const out = join(dir, 'replayed.jsonl');
    await replay.run(['--events', 'examples/demo-world.jsonl', '--out', out]);
    const first = JSON.parse(readFileSync(out, 'utf8').split('\n')[0]!);
    expect(dry.id).toBe(first.id);
    expect(dry.data.idempotency_key).toBe(first.data.idempotency_key);
  });

  it('reads market data for market rules (--market)', async () => {
    expect(
      await command.run(['--snapshot', BREACH, '--market', VIX_45, '--rules', MARKET_RULES, '--json']),
    ).toBe(0);
    const run = json();
    expect(run.market_as_of).toEqual({ global: '2025-03-10T21:00:20Z' });
    expect(run.rules.find((r) => r.rule_id === 'vix_panic')).toMatchObject({ measure: 45, verdict: 'fired' });
    // exit beats reduce for every strategy; both rules stay on the signal.
    expect(run.event?.data.signals.map((s) => [s.action, s.tags?.slice(0, 2)])).toEqual(
      Array(5).fill(['exit', ['rule:vix_panic', 'rule:var_99_limit']]),
    );
  });

  it('honours persistence as one evaluation would: a first breach is only pending', async () => {
    const rules = join(dir, 'persistent.yaml');
    writeFileSync(
      rules,
      'world: default\nrules:\n  - id: var_twice\n    kind: var_limit\n    limit: 0.025\n    persistence: 2\n',
    );
    expect(await command.run(['--snapshot', BREACH, '--rules', rules])).toBe(0);
    expect(stdout()).toMatch(/var_twice .* breach_pending/);
    expect(stdout()).toContain('signals: none');
    expect(stdout()).toContain('no exit_signal_emitted would be published');
  });

  it('says when the snapshot would be expired at --now', async () => {
    expect(await command.run(['--snapshot', BREACH, '--now', '2025-03-12T00:00:00Z', '--json'])).toBe(0);
    expect(json().expired_at).toBe('2025-03-11T21:00:30.000Z');
    printed = [];
    await command.run(['--snapshot', BREACH, '--now', '2025-03-12T00:00:00Z']);
    expect(stdout()).toContain('NOTE: the snapshot expired at 2025-03-11T21:00:30.000Z');
  });

  it('refuses bad flags as usage errors', async () => {
    await expect(command.run([])).rejects.toBeInstanceOf(UsageError);
    await expect(command.run(['--snapshot', BREACH, '--now', 'yesterday'])).rejects.toThrow(
      /--now: must be an ISO/,
    );
  });

  it('reports unreadable input without a stack trace', async () => {
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"weights": ');
    expect(await main(['evaluate', '--snapshot', broken])).toBe(1);
    expect(errors.join('\n')).toMatch(/broken\.json: not valid JSON/);
    expect(await main(['evaluate', '--snapshot', BREACH, '--market', broken])).toBe(1);
    const badMarket = join(dir, 'bad-market.json');
    writeFileSync(badMarket, JSON.stringify({ scope: 'global', as_of: 'later', indicators: {} }));
    expect(await main(['evaluate', '--snapshot', BREACH, '--market', badMarket])).toBe(1);
    expect(errors.join('\n')).toMatch(
      /bad-market\.json: invalid market data:\n {2}as_of: must be an ISO 8601/,
    );
  });

  it('hints at replay when given a JSONL stream instead of one snapshot', async () => {
    expect(await main(['evaluate', '--snapshot', 'examples/demo-world.jsonl'])).toBe(1);
    expect(errors.join('\n')).toMatch(
      /demo-world\.jsonl: not valid JSON: .*\n {2}hint: it looks like a JSONL stream \(\d+ lines.*exit-engine replay --events examples\/demo-world\.jsonl/,
    );
    errors.length = 0;
    expect(await main(['risk', '--snapshot', 'examples/demo-world.jsonl'])).toBe(1);
    expect(errors.join('\n')).toContain('hint: it looks like a JSONL stream');
  });
});
