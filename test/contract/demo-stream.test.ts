import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { demoStory, demoStreamFacts, generateDemoStream } from '../../examples/generate-demo-stream.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const schemaDir = path.resolve(repoRoot, 'contracts/qmtl');
const streamText = readFileSync(path.join(repoRoot, 'examples/demo-world.jsonl'), 'utf8');

interface StreamEvent {
  id: string;
  'detail-type': string;
  source: string;
  detail: {
    id: string;
    source: string;
    data: { world_id: string; as_of: string; version: string; weights: Record<string, number> };
  };
}

const lines = streamText.trimEnd().split('\n');
const events = lines.map((line) => JSON.parse(line) as StreamEvent);

function loadSchema(name: string): object {
  return JSON.parse(readFileSync(path.join(schemaDir, name), 'utf8')) as object;
}

function weightSum(event: StreamEvent): number {
  return Object.values(event.detail.data.weights).reduce((a, b) => a + b, 0);
}

describe('examples/demo-world.jsonl', () => {
  const facts = demoStreamFacts();

  it('is reproduced byte for byte by the generator', () => {
    expect(generateDemoStream()).toBe(streamText);
    expect(lines).toHaveLength(facts.lineCount);
  });

  it('carries CloudEvents that validate against the upstream risk_snapshot_updated schema', () => {
    const ajv = new Ajv2020.default({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema(loadSchema('portfolio_snapshot.schema.json'));
    const validate = ajv.compile(loadSchema('event_risk_snapshot_updated.schema.json'));

    events.forEach((event, i) => {
      if (i + 1 === facts.malformedLine) return; // schema-valid too, but not a well-formed snapshot
      const ok = validate(event.detail);
      expect(ok, `line ${i + 1}: ${JSON.stringify(validate.errors)}`).toBe(true);
      expect(event['detail-type']).toBe('risk_snapshot_updated');
      expect(event.source).toBe(event.detail.source);
    });
  });

  it('has exactly one malformed event, the one whose weights do not sum to 1', () => {
    const offenders = events.flatMap((e, i) => (Math.abs(weightSum(e) - 1) > 1e-3 ? [i + 1] : []));
    expect(offenders).toEqual([facts.malformedLine]);
    const malformed = events[facts.malformedLine - 1];
    expect(malformed && weightSum(malformed)).toBeCloseTo(0.5, 3);
  });

  it('redelivers one event verbatim and delivers one older snapshot after newer ones', () => {
    const [first, second] = facts.duplicateLines;
    expect(lines[first - 1]).toBe(lines[second - 1]);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length - 1);

    const asOf = (line: number): number => Date.parse(events[line - 1]?.detail.data.as_of ?? '');
    expect(asOf(facts.lateLine)).toBeLessThan(asOf(facts.lateLine - 1));
    expect(asOf(facts.lateLine)).toBeLessThan(asOf(facts.lateLine - 2));
  });

  it('tells the calibrated story: VaR breach in week 3, stress breach in week 5, calm otherwise', () => {
    const story = demoStory();
    const varBreach = story.flatMap((r, d) => (r.var99 > 0.025 ? [d] : []));
    const ddBreach = story.flatMap((r, d) => (r.worstStressDd > 0.3 ? [d] : []));
    expect(varBreach).toEqual([10, 11, 12, 13, 14]);
    expect(ddBreach).toEqual([22, 23, 24]);
    for (const r of story.slice(0, 10)) expect(r.var99).toBeLessThan(0.018);
    expect(Math.max(...story.slice(10, 13).map((r) => r.var99))).toBeGreaterThan(0.03);
    for (const r of story.slice(15)) expect(r.var99).toBeLessThan(0.023);
    for (const d of ddBreach) expect(story[d]?.worstStressDd).toBeGreaterThan(0.35);
    for (const [d, r] of story.entries()) {
      if (!ddBreach.includes(d)) expect(r.worstStressDd).toBeLessThan(0.26);
    }
  });
});
