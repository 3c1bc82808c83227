import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UsageError } from '#lib/cli/args.js';
import { command } from '#lib/cli/commands/rules.js';
import { main } from '#lib/cli/main.js';
import { loadRuleSetFile, validateRuleSetDirectory } from '#lib/rules/ruleset-loader.js';

const GOOD = `world: w-test
description: A VaR limit for the test world.
rules:
  - id: var_99_limit
    kind: var_limit
    limit: 0.025
    clear: 0.022
    target: 0.02
    action: { type: reduce, sizing: uniform }
  - id: vix_panic
    kind: volatility_regime
    measure: vix_level
    limit: 40
    clear: 30
    action: { type: exit }
    mode: approval
    approval: { timeout_sec: 1800, default: emit, four_eyes: true }
    persistence: 2
    reemit: { min_ratio_step: 0.1, repeat_after_sec: 3600 }
`;
const BAD = `world: w-bad
rules:
  - id: var_99_limit
    kind: var_limit
    limit: 1.5
  - id: Bad-Id
    kind: drawdown
    limit: 0.1
    action: { type: exit }
`;

const dir = mkdtempSync(join(tmpdir(), 'exit-engine-rules-'));
const good = join(dir, 'good.yaml');
const bad = join(dir, 'bad.yaml');
writeFileSync(good, GOOD);
writeFileSync(bad, BAD);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rules command', () => {
  let printed: string[];
  let errors: string[];

  beforeEach(() => {
    printed = [];
    errors = [];
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => void printed.push(String(line)));
    vi.spyOn(console, 'error').mockImplementation((line: unknown) => void errors.push(String(line)));
  });
  afterEach(() => vi.restoreAllMocks());

  describe('validate', () => {
    it('prints ok with the world, rule count and content version of a good file', async () => {
      expect(await command.run(['validate', good])).toBe(0);
      expect(printed).toEqual([`ok: ${good} (w-test, 2 rules, version ${loadRuleSetFile(good).version})`]);
      expect(printed[0]).toMatch(/version sha256:[0-9a-f]{16}\)$/);
    });

    it('warns (and still passes) about a staleness rule a silent hub can never trip', async () => {
      const file = join(dir, 'warn.yaml');
      writeFileSync(
        file,
        'world: w-warn\nrules:\n  - id: hub_silent\n    kind: staleness\n    source: snapshot\n    limit: 1800\n    persistence: 2\n    action: { type: exit }\n',
      );
      expect(await command.run(['validate', file])).toBe(0);
      expect(printed.at(-1)).toMatch(
        /^warning: .*warn\.yaml: rules\[0\]\.persistence: rule 'hub_silent': .*can never be reached when the hub goes quiet/,
      );
    });

    it('prints every problem as `file: field: message` and exits 1', async () => {
      expect(await command.run(['validate', bad])).toBe(1);
      expect(printed).toContain(`${bad}: rules[0].limit: must be between 0 and 1`);
      expect(printed.some((l) => l.startsWith(`${bad}: rules[1].id: must be snake_case`))).toBe(true);
      expect(printed.at(-1)).toBe('2 problems found');
    });

    it('checks every file of a folder, and two files for one world', async () => {
      const folder = join(dir, 'folder');
      mkdirSync(folder);
      writeFileSync(join(folder, 'a.yaml'), GOOD);
      writeFileSync(join(folder, 'b.yaml'), GOOD.replace('description', '# same world\ndescription'));
      writeFileSync(join(folder, 'c.yaml'), BAD);
      writeFileSync(join(folder, 'notes.txt'), 'not a rule set');
      expect(await command.run(['validate', folder])).toBe(1);
      expect(printed.filter((l) => l.startsWith('ok: '))).toHaveLength(2);
      expect(printed).toContain(`${join(folder, 'c.yaml')}: rules[0].limit: must be between 0 and 1`);
      expect(printed.some((l) => /world 'w-test' already has a rule set/.test(l))).toBe(true);
    });

    it('passes the shipped rulesets/ folder', async () => {
      expect(await command.run(['validate', 'rulesets'])).toBe(0);
      expect(printed.every((l) => l.startsWith('ok: rulesets/'))).toBe(true);
    });
  });

  describe('explain', () => {
    it('writes one paragraph per rule, in plain words', async () => {
      expect(await command.run(['explain', good])).toBe(0);
      const paragraphs = printed
        .join('\n')
        .split('\n\n')
        .map((p) => p.replace(/\n/g, ' '));
      expect(paragraphs).toHaveLength(3);
      expect(paragraphs[0]).toMatch(
        /applies to the world 'w-test'; version sha256:[0-9a-f]{16}; mode enforce; 2 rules/,
      );
      const [, varRule, vixRule] = paragraphs;
      expect(varRule).toMatch(/^var_99_limit \(var_limit\): /);
      expect(varRule).toContain(
        '1-period 99% Value-at-Risk (VaR) of the whole portfolio, by the parametric normal',
      );
      expect(varRule).toContain('It breaches above 2.5%');
      expect(varRule).toContain('at or below 2.2% (hysteresis)');
      expect(varRule).toContain('back to the target 2%');
      expect(varRule).toContain('Severity blocking, priority 100');
      expect(varRule).toContain('Mode enforce');
      expect(varRule).toContain('It fires on the first breaching evaluation');
      expect(vixRule).toMatch(/^vix_panic \(volatility_regime\): /);
      expect(vixRule).toContain("the VIX level from market scope 'global'");
      expect(vixRule).toContain('asks to exit every strategy of the world fully');
      expect(vixRule).toContain('Without a decision within 30 minutes, a proposal is published anyway');
      expect(vixRule).toContain('two different people (four eyes)');
      expect(vixRule).toContain('only after breaches on 2 distinct hub snapshots in a row or market updates');
      expect(vixRule).toContain('at least 10 percentage points, or every 1 hour while the breach lasts');
    });

    it('mentions every rule of the shipped example rule set', async () => {
      expect(await command.run(['explain', 'rulesets/example-all-kinds.yaml'])).toBe(0);
      const text = printed.join('\n');
      for (const rule of loadRuleSetFile('rulesets/example-all-kinds.yaml').rules) {
        expect(text).toMatch(new RegExp(`^${rule.id} \\(${rule.kind}\\): `, 'm'));
      }
    });

    it('refuses an invalid file with its problems (exit 1, no stack trace)', async () => {
      expect(await main(['rules', 'explain', bad])).toBe(1);
      expect(errors.join('\n')).toContain(`${bad}: rules[0].limit: must be between 0 and 1`);
    });
  });

  it('needs a subcommand and a path', async () => {
    await expect(command.run([])).rejects.toBeInstanceOf(UsageError);
    await expect(command.run(['lint', good])).rejects.toThrow(/unknown subcommand 'lint'/);
    await expect(command.run(['validate'])).rejects.toThrow(/FILE_OR_DIR is required/);
    expect(await main(['rules', 'validate', join(dir, 'missing.yaml')])).toBe(1);
    expect(errors.join('\n')).toMatch(/missing\.yaml: no such file or directory/);
  });
});

describe('shipped rule sets', () => {
  it('validate, so an invalid rule set fails npm test', () => {
    expect(validateRuleSetDirectory('rulesets')).toEqual({ ok: true });
  });
});
