import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InMemoryRuleSetStore } from '#lib/adapters/memory/memory-ruleset-store.js';
import { storableDocumentJson, storedRuleSet } from '#lib/rules/rule-document.js';
import {
  loadRuleSetDirectory,
  parseRuleSet,
  RuleSetError,
  readRuleSetDocument,
} from '#lib/rules/ruleset-loader.js';
import { LiveRuleSets } from '#lib/rulesets/live-rule-sets.js';
import { RuleSetPublisher } from '#lib/rulesets/publish.js';

const BUNDLED = readdirSync('rulesets').map((name) => ({
  source: name,
  text: readFileSync(`rulesets/${name}`, 'utf8'),
}));
const DEFAULT_TEXT = readFileSync('rulesets/default.yaml', 'utf8');

/** What a publish stores beside the text: the document as JSON, when it validates to the same set. */
function documentJsonOf(text: string, source: string) {
  return storableDocumentJson(readRuleSetDocument(text, source), parseRuleSet(text, source), text);
}

describe('rule sets from their stored document (lib/rules/rule-document.ts)', () => {
  it('reads every bundled rule set from its document JSON exactly as from its YAML text', async () => {
    for (const { text, source } of BUNDLED) {
      const documentJson = documentJsonOf(text, source);
      expect(documentJson, source).toBeDefined();
      const fromText = parseRuleSet(text, source);
      expect(await storedRuleSet({ text, source, document_json: documentJson! })).toEqual(fromText);
      expect(await storedRuleSet({ text, source })).toEqual(fromText);
    }
  });

  it('agrees with the YAML path for any limits, comments, quoting and anchors the text is written with', async () => {
    const limit = fc.oneof(
      fc.double({ min: 1e-6, max: 0.99, noNaN: true }).map((x) => String(x)),
      fc.constantFrom('0.025', '.03', '2.5e-2', '"0.02"', '0.0250000000000000001'),
    );
    await fc.assert(
      fc.asyncProperty(
        limit,
        limit,
        fc.boolean(),
        fc.boolean(),
        async (varLimit, stressLimit, comment, anchor) => {
          let text = DEFAULT_TEXT.replace('limit: 0.025', `limit: ${varLimit}`).replace(
            'limit: 0.30',
            `limit: ${stressLimit}`,
          );
          if (comment)
            text = `# a comment the JSON does not keep\n${text.replace('\n  - id:', '\n  # between rules\n  - id:')}`;
          if (anchor) text = text.replace('kind: var_limit', 'kind: &k var_limit');
          let fromText: unknown;
          try {
            fromText = parseRuleSet(text, 'w.yaml');
          } catch (error) {
            // A limit the schema refuses: the publish is refused too, nothing is stored.
            expect(error).toBeInstanceOf(RuleSetError);
            return;
          }
          const documentJson = documentJsonOf(text, 'w.yaml');
          expect(documentJson).toBeDefined();
          expect(await storedRuleSet({ text, source: 'w.yaml', document_json: documentJson! })).toEqual(
            fromText,
          );
        },
      ),
      { numRuns: 150 },
    );
  });

  it('stores no document JSON that would not validate to the same set, or would not fit the item', () => {
    const document = readRuleSetDocument(DEFAULT_TEXT, 'default.yaml');
    const set = parseRuleSet(DEFAULT_TEXT, 'default.yaml');
    expect(storableDocumentJson(document, set, DEFAULT_TEXT)).toBe(JSON.stringify(document));
    // The set it would come back as differs (as a YAML timestamp would come back from JSON as a string).
    expect(storableDocumentJson(document, { ...set, description: 'another' }, DEFAULT_TEXT)).toBeUndefined();
    const huge = { ...(document as object), description: 'x'.repeat(200 * 1024) };
    expect(storableDocumentJson(huge, set, DEFAULT_TEXT)).toBeUndefined();
    // A text that is large on its own (a comment block, say) still publishes: without the document beside it.
    const longText = `${'# a long comment\n'.repeat(18_000)}${DEFAULT_TEXT}`;
    const longSet = parseRuleSet(longText, 'default.yaml');
    expect(
      storableDocumentJson(readRuleSetDocument(longText, 'default.yaml'), longSet, longText),
    ).toBeUndefined();
    expect(storableDocumentJson(document, set, DEFAULT_TEXT)).toBeDefined();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(storableDocumentJson(cyclic, set, DEFAULT_TEXT)).toBeUndefined();
  });

  it('refuses a broken stored document naming it, and a document the schema refuses naming the field', async () => {
    const broken = await storedRuleSet({
      text: DEFAULT_TEXT,
      source: 'default.yaml',
      document_json: '{"world":',
    }).catch((e: unknown) => e as RuleSetError);
    expect(broken).toBeInstanceOf(RuleSetError);
    expect((broken as RuleSetError).errors[0]).toMatch(/^document_json\.json: not valid JSON: /);
    const refused = await storedRuleSet({
      text: DEFAULT_TEXT,
      source: 'default.yaml',
      document_json: JSON.stringify({ world: 'w', rules: [] }),
    }).catch((e: unknown) => e as RuleSetError);
    expect(refused).toBeInstanceOf(RuleSetError);
    expect((refused as RuleSetError).errors.join('\n')).toMatch(/^default\.yaml: /m);
  });

  it('a publish stores the document JSON, an approval too, and the functions read either kind of revision alike', async () => {
    const store = new InMemoryRuleSetStore();
    const bundled = loadRuleSetDirectory('rulesets');
    const now = Date.parse('2026-12-02T10:00:00Z');
    const live = new LiveRuleSets(store, bundled, { ttlMs: 0, clock: () => now });
    const publisher = new RuleSetPublisher({ store, bundled: live, auditRetentionDays: 10 });
    const text = DEFAULT_TEXT.replace('world: default', 'world: w1').replace('limit: 0.025', 'limit: 0.03');
    await publisher.publish({
      world: 'w1',
      text,
      source: 'w1.yaml',
      actor: 'alice',
      nowMs: now,
      requireApproval: true,
    });
    await publisher.approve({ world: 'w1', actor: 'bob', nowMs: now + 1 });
    const current = await store.current('w1');
    expect(current?.document_json).toBe(documentJsonOf(text, 'w1.yaml'));
    const withDocument = await live.forWorld('w1');

    // A revision published before documents were stored: the same rule set, read from its text.
    const { document_json: _, ...legacy } = current!;
    const legacyStore = new InMemoryRuleSetStore();
    await legacyStore.publish(legacy, {
      world_id: 'w1',
      record_id: 'r',
      kind: 'ops_action',
      recorded_at: '',
    });
    const fromText = await new LiveRuleSets(legacyStore, bundled, { ttlMs: 0, clock: () => now }).forWorld(
      'w1',
    );
    expect(withDocument).toEqual(fromText);
    expect(withDocument?.version).toBe(current?.version);
    expect(withDocument?.rules.find((r) => r.id === 'var_99_limit')).toMatchObject({ limit: 0.03 });
  });
});
