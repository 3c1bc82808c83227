import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UsageError } from '#lib/cli/args.js';
import { command } from '#lib/cli/commands/risk.js';
import { main } from '#lib/cli/main.js';

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/risk/${name}`, import.meta.url));

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    out.push(args.join(' '));
  });
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    err.push(args.join(' '));
  });
  return { out, err };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('exit-engine risk', () => {
  it('prints the report of a snapshot file as JSON (Hull V1 at 10 days)', async () => {
    const { out } = capture();
    const code = await command.run(['--snapshot', fixture('hull-two-stock.json'), '--horizon', '10']);
    expect(code).toBe(0);
    const report = JSON.parse(out.join('\n'));
    expect(report.world_id).toBe('hull-demo');
    expect(report.horizon).toBe(10);
    expect(report.confidence).toBe(0.99);
    expect(Math.abs(report.portfolio.var.normal * 15_000_000 - 1_620_100)).toBeLessThanOrEqual(100);
    expect(Math.abs(report.portfolio.es.normal * 15_000_000 - 1_856_100)).toBeLessThanOrEqual(100);
    expect(report.portfolio.var.historical).toBeGreaterThan(0);
    expect(Object.keys(report.strategies)).toEqual(['msft', 'att']);
  });

  it('passes --confidence, --dof and --with-mean through', async () => {
    const { out } = capture();
    const code = await command.run([
      '--snapshot',
      fixture('hull-covariance-only.json'),
      '--confidence',
      '0.95',
      '--dof',
      '5',
      '--with-mean',
    ]);
    expect(code).toBe(0);
    const report = JSON.parse(out.join('\n'));
    expect(report.confidence).toBe(0.95);
    // 95% one-day normal VaR of σ = 1.46818%: 1.644854 × 0.0146818.
    expect(report.portfolio.var.normal).toBeCloseTo(1.6448536 * 0.014681818, 6);
    expect(report.warnings.join()).toMatch(/--with-mean ignored/);
  });

  it.each([
    [['--confidence', '1.5'], /--confidence: must be less than 1 \(got '1.5'\)/],
    [['--confidence', 'high'], /--confidence: must be a number/],
    [['--horizon', '0'], /--horizon: must be greater than 0/],
    [['--dof', '2'], /--dof: must be greater than 2/],
  ])('rejects %j with a message naming the flag', async (flags, message) => {
    await expect(command.run(['--snapshot', fixture('hull-two-stock.json'), ...flags])).rejects.toThrow(
      message,
    );
    await expect(
      command.run(['--snapshot', fixture('hull-two-stock.json'), ...flags]),
    ).rejects.toBeInstanceOf(UsageError);
  });

  it('requires --snapshot and refuses unknown flags', async () => {
    await expect(command.run([])).rejects.toThrow(/--snapshot is required/);
    await expect(command.run(['--snapshot', 'x', '--nope'])).rejects.toBeInstanceOf(UsageError);
  });

  it('through main: a bad flag prints the message and usage, exit code 2, no stack trace', async () => {
    const { err } = capture();
    const code = await main(['risk', '--snapshot', fixture('hull-two-stock.json'), '--confidence', 'x']);
    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(/^exit-engine risk: --confidence: must be a number/);
    expect(err.join('\n')).not.toMatch(/\n\s+at /);
  });

  it('reports an invalid snapshot file without a stack trace, exit code 1', async () => {
    const { err } = capture();
    const code = await command.run(['--snapshot', fixture('hull-invalid.json')]);
    expect(code).toBe(1);
    expect(err.join('\n')).toMatch(/exit-engine risk: .*hull-invalid\.json/);
  });
});
