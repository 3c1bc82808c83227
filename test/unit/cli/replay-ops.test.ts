import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { command } from '#lib/cli/commands/replay.js';
import { parseOpsText } from '#lib/cli/replay/ops-file.js';
import type { ExitSignalEvent } from '#lib/contracts/exit-signal.js';
import { cloudEvent } from '#test/integration/support/snapshots.js';

/**
 * `replay --ops`: mutes, unmutes, approvals and rejections applied at their times through the ops
 * service, against the replay's own engine state. Each scenario is checked against the same replay
 * without the ops file, so the difference is what ops did.
 */
const dir = mkdtempSync(join(tmpdir(), 'exit-engine-replay-ops-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rules = join(dir, 'rules');
const T0 = Date.parse('2025-03-10T12:00:00Z');
const iso = (plusMin: number) => new Date(T0 + plusMin * 60_000).toISOString();

function setup() {
  mkdirSync(rules, { recursive: true });
  writeFileSync(
    join(rules, 'default.yaml'),
    'world: default\nrules:\n  - id: var_exit\n    kind: var_limit\n    limit: 0.02\n    action: { type: exit }\n',
  );
  writeFileSync(
    join(rules, 'w-approval.yaml'),
    'world: w-approval\nrules:\n  - id: var_approval\n    kind: var_limit\n    limit: 0.02\n    action: { type: exit }\n    mode: approval\n    approval: { timeout_sec: 3600, default: drop, four_eyes: false }\n',
  );
  // A snapshot's event time is its as_of + 10 s.
  const snap = (world: string, version: string, minutes: number, varLevel: number) =>
    JSON.stringify(
      cloudEvent({ world, version, asOf: new Date(T0 + minutes * 60_000 - 10_000).toISOString(), varLevel }),
    );
  const events = join(dir, 'events.jsonl');
  writeFileSync(
    events,
    [snap('w-mute', 'm1', 0, 0.03), snap('w-approval', 'a1', 0, 0.03), snap('w-mute', 'm2', 5, 0.031)].join(
      '\n',
    ),
  );
  const ops = join(dir, 'ops.jsonl');
  writeFileSync(
    ops,
    [
      '# what the desk did that day',
      JSON.stringify({
        at: iso(-1),
        action: 'mute',
        world: 'w-mute',
        rule: 'var_exit',
        until: iso(30),
        reason: 'data fix',
      }),
      JSON.stringify({
        at: iso(1),
        action: 'approve',
        world: 'w-approval',
        strategy: 'alpha',
        actor: 'alice',
        reason: 'ok',
      }),
      JSON.stringify({ at: iso(2), action: 'reject', world: 'w-approval', reason: 'not needed' }),
      JSON.stringify({ at: iso(3), action: 'unmute', world: 'w-mute', rule: 'var_exit', reason: 'fixed' }),
    ].join('\n'),
  );
  return { events, ops };
}

async function replay(argv: string[]) {
  const printed: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((line: unknown) => void printed.push(String(line)));
  try {
    const code = await command.run(argv);
    return { code, stdout: printed.join('\n') };
  } finally {
    spy.mockRestore();
  }
}

describe('replay --ops', () => {
  const { events, ops } = setup();
  const emitted = (file: string) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as ExitSignalEvent);

  it('a mute suppresses a signal, an approval publishes a proposal, a rejection drops it; the summary lists each', async () => {
    const without = join(dir, 'without.jsonl');
    const plain = await replay(['--events', events, '--rules', rules, '--out', without]);
    expect(plain.code).toBe(0);
    // Without ops: w-mute exits at once; w-approval's proposals are never published.
    const base = emitted(without);
    expect(base.filter((e) => e.data.world_id === 'w-mute').length).toBeGreaterThan(0);
    expect(base.filter((e) => e.data.world_id === 'w-approval')).toEqual([]);

    const withOps = join(dir, 'with.jsonl');
    const run = await replay([
      '--events',
      events,
      '--rules',
      rules,
      '--ops',
      ops,
      '--out',
      withOps,
      '--json',
    ]);
    expect(run.code, run.stdout).toBe(0);
    const out = emitted(withOps);
    const mute = out.filter((e) => e.data.world_id === 'w-mute');
    // Muted at the first snapshot (10:00); the breach still on after the unmute (10:03) is sent at 10:05.
    expect(mute.map((e) => e.data.as_of)).toEqual([new Date(T0 + 5 * 60_000 - 10_000).toISOString()]);
    const approval = out.filter((e) => e.data.world_id === 'w-approval');
    expect(approval).toHaveLength(1);
    expect(approval[0]!.data.signals.map((s) => s.strategy_id)).toEqual(['alpha']);
    expect(approval[0]!.data.signals[0]!.tags).toContain('approved_by:alice');

    const summary = JSON.parse(run.stdout) as { ops_actions: Array<Record<string, unknown>> };
    expect(summary.ops_actions.map((a) => [a.line, a.action, a.error])).toEqual([
      [2, 'mute', undefined],
      [3, 'approve', undefined],
      [4, 'reject', undefined],
      [5, 'unmute', undefined],
    ]);
    const results = summary.ops_actions.map((a) => (a.results as string[]).join('; '));
    expect(results[0]).toMatch(/^muted mute-\w+ until /);
    expect(results[1]).toMatch(/^approved \S+: published /);
    // The two other strategies' proposals are rejected.
    expect(results[2]!.split('; ')).toHaveLength(2);
    expect(results[2]).toMatch(/^rejected \S+; rejected \S+$/);
    expect(results[3]).toMatch(/^ended mute-\w+$/);

    const text = await replay(['--events', events, '--rules', rules, '--ops', ops]);
    expect(text.stdout).toContain('ops actions applied: 4');
    expect(text.stdout).toMatch(
      /ops line 3 {2}2025-03-10T12:01:00\.000Z {2}approve w-approval by alice: approved /,
    );
  });

  it('an episode that clears after ops approved a cut proposes the hold for that strategy alone', async () => {
    const clearRules = join(dir, 'clear-rules');
    mkdirSync(clearRules, { recursive: true });
    writeFileSync(
      join(clearRules, 'w-clear.yaml'),
      'world: w-clear\nrules:\n  - id: var_approval\n    kind: var_limit\n    limit: 0.02\n    action: { type: exit }\n    mode: approval\n    approval: { timeout_sec: 3600, default: drop, four_eyes: false }\n',
    );
    const snap = (version: string, minutes: number, varLevel: number) =>
      JSON.stringify(
        cloudEvent({
          world: 'w-clear',
          version,
          asOf: new Date(T0 + minutes * 60_000 - 10_000).toISOString(),
          varLevel,
        }),
      );
    const clearEvents = join(dir, 'clear-events.jsonl');
    writeFileSync(clearEvents, [snap('c1', 0, 0.03), snap('c2', 5, 0.01)].join('\n'));
    const approveAlpha = join(dir, 'clear-ops.jsonl');
    writeFileSync(
      approveAlpha,
      JSON.stringify({
        at: iso(1),
        action: 'approve',
        world: 'w-clear',
        strategy: 'alpha',
        actor: 'alice',
        reason: 'ok',
      }),
    );
    const heldBack = (stdout: string) => /w-clear +var_approval +proposed (\d+)/.exec(stdout)?.[1];
    // Without ops nothing reached the gateway, so the clear has no one to tell: the three cut proposals.
    const plain = await replay(['--events', clearEvents, '--rules', clearRules]);
    expect(heldBack(plain.stdout)).toBe('3');
    // With alpha's cut approved, the clear proposes alpha's hold (approval mode): a fourth proposal.
    const run = await replay(['--events', clearEvents, '--rules', clearRules, '--ops', approveAlpha]);
    expect(run.code, run.stdout).toBe(0);
    expect(heldBack(run.stdout)).toBe('4');
    expect(run.stdout).toMatch(/outcomes: stored_only 2\b/);
  });

  it('a decision the service refuses is reported with its line, and the replay exits 1', async () => {
    const bad = join(dir, 'bad-ops.jsonl');
    writeFileSync(
      bad,
      `${JSON.stringify({ at: iso(1), action: 'approve', world: 'w-mute' })}\n${JSON.stringify({ at: iso(2), action: 'mute', world: 'w-mute', rule: 'var_exti', until: iso(20), reason: 'x' })}\n`,
    );
    const run = await replay(['--events', events, '--rules', rules, '--ops', bad]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('ops actions applied: 2 (2 refused)');
    expect(run.stdout).toMatch(/ops line 1 .*REFUSED: no proposal of world 'w-mute' is waiting/);
    expect(run.stdout).toMatch(/ops line 2 .*REFUSED: .*var_exti.*did you mean 'var_exit'/);
  });
});

describe('the ops file format', () => {
  const parse = (...lines: unknown[]) =>
    parseOpsText(lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n'), 'ops.jsonl');

  it('names the line and the field of every problem', () => {
    expect(() => parse('{"at": "2025-03-10T12:00:00Z", "action": "mute"')).toThrow(
      /ops\.jsonl: line 1: not valid JSON/,
    );
    expect(() => parse({ at: '2025-03-10T12:00:00Z', action: 'silence', world: 'w' })).toThrow(
      /line 1: action: must be one of mute, unmute, approve, reject \(got "silence"\)/,
    );
    expect(() => parse('', { at: '2025-03-10T12:00:00Z', action: 'mute', world: 'w', reason: 'r' })).toThrow(
      /line 2: until: is required/,
    );
    expect(() => parse({ at: 'yesterday', action: 'approve', world: 'w' })).toThrow(
      /line 1: at: 'yesterday' is not an ISO 8601 time/,
    );
    expect(() => parse({ at: '2025-03-10T12:00:00Z', action: 'approve', world: 'w', untill: 'x' })).toThrow(
      /line 1: untill: is not a field of 'approve'/,
    );
    expect(() => parse({ at: '2025-03-10T12:00:00Z', action: 'reject', world: 'w' })).toThrow(
      /line 1: reason: is required/,
    );
    expect(() =>
      parse(
        { at: '2025-03-10T12:05:00Z', action: 'approve', world: 'w' },
        { at: '2025-03-10T12:00:00Z', action: 'approve', world: 'w' },
      ),
    ).toThrow(/line 2: at: .* is before line 1's .*: ops lines must be in time order/);
    expect(() =>
      parse({ at: '2025-03-10T12:00:00Z', action: 'approve', world: 'w', signal_id: 's', rule: 'r' }),
    ).toThrow(/line 1: signal_id: names one target/);
  });

  it('reads a valid file, skipping blanks and comments, with the default actor', () => {
    const ops = parse('# c', '', { at: '2025-03-10T12:00:00Z', action: 'approve', world: 'w', rule: 'r' });
    expect(ops).toEqual([
      {
        line: 3,
        at: '2025-03-10T12:00:00Z',
        atMs: Date.parse('2025-03-10T12:00:00Z'),
        action: 'approve',
        world: 'w',
        actor: 'replay:ops',
        rule: 'r',
      },
    ]);
  });
});
