import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { formatZodIssues } from '#lib/contracts/issues.js';
import { type RuleSet, RuleSetSchema } from './rule-schema.js';
import { RuleSetError } from './ruleset-registry.js';

/**
 * A rule set from its parsed document: the schema half of `parseRuleSet` (ruleset-loader.ts), without the
 * YAML parser. A published rule set carries its document as JSON (`document_json`, written at publish), so
 * the functions validate it without loading js-yaml (lib/rulesets/live-rule-sets.ts).
 */

/** Content hash of a rule set's text: its version, carried in every signal and audit record. */
export function ruleSetVersion(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
}

/** Validates the document `text` parsed to; throws RuleSetError naming each bad field. */
export function ruleSetFromDocument(raw: unknown, text: string, source: string): RuleSet {
  const parsed = RuleSetSchema.safeParse(raw);
  if (!parsed.success)
    throw new RuleSetError(formatZodIssues(parsed.error).map((line) => `${source}: ${line}`));
  return { ...parsed.data, version: ruleSetVersion(text), source };
}

/**
 * The document a rule set's text holds: JSON for a `.json` source, YAML (through `parseYaml`) otherwise;
 * throws RuleSetError naming the file when the text does not parse.
 */
export function documentFromText(
  text: string,
  source: string,
  parseYaml: (text: string) => unknown,
): unknown {
  const json = source.endsWith('.json');
  try {
    return json ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new RuleSetError([`${source}: not valid ${json ? 'JSON' : 'YAML'}: ${(error as Error).message}`], {
      cause: error,
    });
  }
}

/**
 * A published revision's rule set: from its `document_json` where it has one, else from its text, loading
 * the YAML parser only then (revisions published before the document was stored).
 */
export async function storedRuleSet(stored: {
  text: string;
  source: string;
  document_json?: string;
}): Promise<RuleSet> {
  const document =
    stored.document_json !== undefined
      ? documentFromText(stored.document_json, 'document_json.json', JSON.parse)
      : documentFromText(
          stored.text,
          stored.source,
          stored.source.endsWith('.json') ? JSON.parse : (await import('js-yaml')).load,
        );
  return ruleSetFromDocument(document, stored.text, stored.source);
}

/**
 * What a stored revision's text and document JSON may take together, at most: DynamoDB items stop at
 * 400 KB, and a text that fitted before the document was stored beside it must still publish.
 */
const MAX_TEXT_AND_DOCUMENT_BYTES = 300 * 1024;

/**
 * The document of a validated rule set as the JSON to store beside its text, when that JSON validates to
 * exactly `set` again (a YAML timestamp, say, would come back from JSON as a string and is not stored so)
 * and fits the item beside the text; undefined otherwise, and the text is parsed on read as before.
 */
export function storableDocumentJson(raw: unknown, set: RuleSet, text: string): string | undefined {
  let json: string;
  try {
    json = JSON.stringify(raw);
  } catch {
    return undefined;
  }
  if (json === undefined || Buffer.byteLength(json) + Buffer.byteLength(text) > MAX_TEXT_AND_DOCUMENT_BYTES)
    return undefined;
  try {
    return isDeepStrictEqual(ruleSetFromDocument(JSON.parse(json), text, set.source), set) ? json : undefined;
  } catch {
    return undefined;
  }
}
