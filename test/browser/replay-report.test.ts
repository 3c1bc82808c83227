import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '#lib/cli/main.js';

/** Where the screenshot lands (gitignored), for a person to look at after the run. */
const ARTIFACTS = resolve('test-artifacts');

/** Debian's chromium, or CHROMIUM_PATH; the test fails (never skips) when neither is there. */
function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  for (const c of candidates) if (c && existsSync(c)) return c;
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('no chromium found: install it (apt-get install -y chromium) or set CHROMIUM_PATH');
  }
}

interface ChartInfo {
  id: string;
  title: string;
  series: number;
  markers: number;
  points: number;
}

describe('replay --report in headless chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'exit-engine-report-'));
  const report = join(dir, 'demo-report.html');
  const timeline = join(dir, 'demo-timeline.jsonl');
  let browser: Browser;
  let charts: ChartInfo[];
  const consoleErrors: string[] = [];
  const requests: string[] = [];

  beforeAll(async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const code = await main([
        'replay',
        '--events',
        'examples/demo-world.jsonl',
        '--report',
        report,
        '--timeline',
        timeline,
      ]);
      expect(code).toBe(0);
    } finally {
      log.mockRestore();
    }
    browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    page.on('request', (r) => {
      if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) requests.push(r.url());
    });
    await page.goto(pathToFileURL(report).href);
    await page.waitForSelector('body[data-rendered]');
    charts = await page.evaluate(
      () => (globalThis as unknown as { __report: { charts: ChartInfo[] } }).__report.charts,
    );
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'replay-report.png'), fullPage: true });
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads with no console errors and no network requests', () => {
    expect(consoleErrors).toEqual([]);
    expect(requests).toEqual([]);
    expect(readFileSync(report, 'utf8')).not.toMatch(/<(script|link)[^>]+(src|href)=["']?https?:/);
  });

  it('draws one chart per rule with measure, limit, clear and a marker per signal verdict, as the timeline lists them', () => {
    const rows = readFileSync(timeline, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { rule_id: string; scope: string; verdict: string });
    const rules = [...new Set(rows.map((r) => r.rule_id))];
    const ruleCharts = charts.filter((c) => c.id.includes('-rule-'));
    expect(ruleCharts.map((c) => c.title.split(' ')[0])).toEqual(rules);
    for (const c of ruleCharts) {
      expect(c.series).toBe(4);
      const rule = c.title.split(' ')[0];
      const marked = rows.filter(
        (r) => r.rule_id === rule && ['fired', 'escalated', 'cleared', 'repeated'].includes(r.verdict),
      ).length;
      expect(c.markers).toBe(marked);
    }
    // The demo breaches VaR and then stress (examples/README.md): both charts carry markers.
    expect(ruleCharts.every((c) => c.markers >= 2)).toBe(true);
  });

  it('draws exposure for each of the five strategies, and equity and drawdown with and without the overlay', () => {
    expect(charts.find((c) => c.id.endsWith('-exposure'))?.series).toBe(5);
    expect(charts.find((c) => c.id.endsWith('-equity'))?.series).toBe(2);
    expect(charts.find((c) => c.id.endsWith('-drawdown'))?.series).toBe(2);
    expect(charts.find((c) => c.id.endsWith('-equity'))?.points).toBeGreaterThan(30);
  });

  it('saves a screenshot as a test artifact', () => {
    expect(readFileSync(join(ARTIFACTS, 'replay-report.png')).subarray(1, 4).toString()).toBe('PNG');
  });
});
