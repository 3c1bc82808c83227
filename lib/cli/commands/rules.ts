import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { RuleSet } from '#lib/rules/rule-schema.js';
import {
  loadRuleSetDirectory,
  parseRuleSet,
  RuleSetError,
  RuleSetRegistry,
} from '#lib/rules/ruleset-loader.js';
import { ruleSetWarnings } from '#lib/rules/staleness-sweep.js';
import { type CliCommand, didYouMean, parseFlags, UsageError } from '../args.js';
import { InputError } from '../load-input.js';
import { explainRule, explainSet, plural } from '../rules/explain-rule.js';
import {
  PUBLISH_SUBCOMMANDS,
  type PublishSubcommand,
  runPublishSubcommand,
} from '../rules/publish-command.js';

const RULE_SET_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
const WRAP_COLUMNS = 100;

/** The rule-set files a path names: the file itself, or the folder's files as the loader picks them. */
function ruleSetFiles(path: string): { files: string[]; directory: boolean } {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(
      `${path}: ${code === 'ENOENT' ? 'no such file or directory' : `cannot read (${code})`}`,
      { cause: error },
    );
  }
  if (!isDirectory) return { files: [path], directory: false };
  const files = readdirSync(path)
    .filter((name) => RULE_SET_EXTENSIONS.has(extname(name)))
    .sort()
    .map((name) => join(path, name))
    .filter((file) => statSync(file).isFile());
  return { files, directory: true };
}

/** Parses one file, its messages naming the path as the user gave it. */
function parseFile(file: string): RuleSet {
  return parseRuleSet(readFileSync(file, 'utf8'), file);
}

/** A registry that applies one explicitly chosen rule set to every world, whatever world it names. */
class SingleRuleSetRegistry extends RuleSetRegistry {
  constructor(private readonly only: RuleSet) {
    super([only]);
  }

  override forWorld(): RuleSet {
    return this.only;
  }
}

/**
 * The rule sets a `--rules` option names: a folder is loaded as a deployment loads it (each world's
 * set, else the default); a single file is what the user asked to try, so it applies to every world.
 */
export function loadRuleSets(path: string): { registry: RuleSetRegistry; label: string } {
  const { files, directory } = ruleSetFiles(path);
  if (directory) {
    const registry = loadRuleSetDirectory(path);
    const label = registry
      .all()
      .map((s) => `${s.source}: ${s.world}, ${s.version}`)
      .join('; ');
    return { registry, label: `${path}/ (${label})` };
  }
  const set = parseFile(files[0]!);
  return {
    registry: new SingleRuleSetRegistry(set),
    label: `${path} (${set.world}, ${set.version}; applied to every world)`,
  };
}

function wrap(text: string, width = WRAP_COLUMNS): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join('\n');
}

function validate(path: string): number {
  const { files, directory } = ruleSetFiles(path);
  const problems: string[] = [];
  const sets: RuleSet[] = [];
  if (files.length === 0) problems.push(`${path}: no rule set files (*.yaml, *.yml, *.json)`);
  for (const file of files) {
    try {
      const set = parseFile(file);
      sets.push(set);
      console.log(`ok: ${file} (${set.world}, ${plural(set.rules.length, 'rule')}, version ${set.version})`);
      for (const w of ruleSetWarnings(set)) console.log(`warning: ${file}: ${w.path}: ${w.message}`);
    } catch (error) {
      if (!(error instanceof RuleSetError)) throw error;
      problems.push(...error.errors);
    }
  }
  if (directory) {
    // Two files for one world would make a deployment refuse to start.
    try {
      new RuleSetRegistry(sets);
    } catch (error) {
      if (!(error instanceof RuleSetError)) throw error;
      problems.push(...error.errors);
    }
  }
  for (const p of problems) console.log(p);
  if (problems.length > 0) console.log(`${plural(problems.length, 'problem')} found`);
  return problems.length > 0 ? 1 : 0;
}

function explain(path: string): number {
  const { files } = ruleSetFiles(path);
  if (files.length === 0) throw new InputError(`${path}: no rule set files (*.yaml, *.yml, *.json)`);
  const out: string[] = [];
  for (const file of files) {
    const set = parseFile(file);
    out.push(wrap(explainSet(set)), '');
    for (const rule of set.rules) out.push(wrap(explainRule(set, rule)), '');
  }
  console.log(out.join('\n').trimEnd());
  return 0;
}

/** `exit-engine rules validate|explain`: check rule sets, or read them in plain words. */
export const command: CliCommand = {
  name: 'rules',
  summary:
    "validate: check rule-set files (a file, or every *.yaml/*.yml/*.json in a folder), printing each problem as `file: field: message` (exit 1 on any). explain: print, in plain words, what each rule will do. publish: validate a file and make it the next revision of a world's rule set in the running engine (local runtime, or --stack), audited; approve/reject: decide a publish that needs a second person; history: the revisions.",
  usage:
    'exit-engine rules validate FILE_OR_DIR | exit-engine rules explain FILE_OR_DIR | exit-engine rules publish FILE --world W [--require-approval] [--reason TEXT] | exit-engine rules approve|reject|history --world W   (publish/approve/reject/history: [--stack NAME [--region R] | --endpoints FILE] [--json])',
  async run(argv) {
    const first = argv.find((a) => !a.startsWith('-'));
    if (PUBLISH_SUBCOMMANDS.includes(first as PublishSubcommand))
      return runPublishSubcommand(
        first as PublishSubcommand,
        argv.filter((a) => a !== first),
      );
    const { positionals } = parseFlags(argv, {}, true);
    const [sub, path, ...extra] = positionals;
    if (sub !== 'validate' && sub !== 'explain')
      throw new UsageError(
        sub === undefined
          ? 'a subcommand is required (validate, explain, publish, approve, reject or history)'
          : `unknown subcommand '${sub}'${didYouMean(sub, ['validate', 'explain', ...PUBLISH_SUBCOMMANDS])}`,
      );
    if (path === undefined) throw new UsageError(`${sub}: FILE_OR_DIR is required`);
    if (extra.length > 0) throw new UsageError(`${sub}: unexpected argument '${extra[0]}'`);
    return sub === 'validate' ? validate(path) : explain(path);
  },
};
