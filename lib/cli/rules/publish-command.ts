import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { RuleSetError } from '#lib/rules/ruleset-loader.js';
import { type PublishOutcome, RuleSetPublishError } from '#lib/rulesets/publish.js';
import { parseFlags, UsageError } from '../args.js';
import { InputError } from '../load-input.js';
import { OpsCliError } from '../ops/signed-client.js';
import { openRuleSetTarget, type RuleSetTarget } from './target.js';

/**
 * `rules publish FILE --world W`, `rules approve|reject --world W`, `rules history --world W`: change
 * a world's rule set in the runtime's store without a deploy (see lib/rulesets/*).
 */
export const PUBLISH_SUBCOMMANDS = ['publish', 'approve', 'reject', 'history'] as const;
export type PublishSubcommand = (typeof PUBLISH_SUBCOMMANDS)[number];

const flags = {
  world: { type: 'string' },
  'require-approval': { type: 'boolean' },
  reason: { type: 'string' },
  rulesets: { type: 'string' },
  json: { type: 'boolean' },
  stack: { type: 'string' },
  region: { type: 'string' },
  endpoints: { type: 'string' },
} as const;

export async function runPublishSubcommand(sub: PublishSubcommand, argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, flags, true);
  const world = values.world;
  if (world === undefined || world.trim() === '') throw new UsageError(`${sub}: --world W is required`);
  const file = positionals[0];
  if (sub === 'publish' && file === undefined) throw new UsageError('publish: FILE is required');
  const extra = positionals.slice(sub === 'publish' ? 1 : 0);
  if (extra.length > 0) throw new UsageError(`${sub}: unexpected argument '${extra[0]}'`);
  if (sub !== 'publish' && values['require-approval'])
    throw new UsageError(`${sub}: --require-approval applies to publish only`);

  let text = '';
  if (file !== undefined) {
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new InputError(`${file}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code})`}`, {
        cause: error,
      });
    }
  }
  let target: RuleSetTarget | undefined;
  const print = (json: unknown, line: string) =>
    console.log(values.json ? JSON.stringify(json, null, 2) : line);
  try {
    target = await openRuleSetTarget(values, values.rulesets);
    const who = {
      world,
      actor: target.actor,
      nowMs: Date.now(),
      ...(values.reason ? { reason: values.reason } : {}),
    };
    switch (sub) {
      case 'publish': {
        const outcome = await target.publisher.publish({
          ...who,
          text,
          source: basename(file!),
          ...(values['require-approval'] ? { requireApproval: true } : {}),
        });
        print(outcome, describeOutcome(outcome, target.description));
        return 0;
      }
      case 'approve': {
        const outcome = await target.publisher.approve(who);
        print(outcome, describeOutcome(outcome, target.description));
        return 0;
      }
      case 'reject': {
        const dropped = await target.publisher.reject(who);
        print(
          { status: 'rejected', world_id: world, proposal_id: dropped.proposal_id },
          `rejected: the publish of ${dropped.source} (${dropped.version}) proposed by ${dropped.proposed_by} for '${world}' is dropped`,
        );
        return 0;
      }
      case 'history': {
        const [revisions, pending, now] = await Promise.all([
          target.store.history(world),
          target.store.pending(world),
          target.live.forWorld(world),
        ]);
        const view = revisions.map(({ text: _t, document_json: _d, ...r }) => r);
        const lines = [
          `${world} on ${target.description}: in force ${now ? `${now.version} (${now.source})` : 'no rule set'}`,
          ...view.map(
            (r) =>
              `  r${r.revision}  ${r.version}  ${r.source}  published ${r.published_at} by ${r.published_by}${
                r.approved_by ? `, approved by ${r.approved_by}` : ''
              }`,
          ),
          ...(view.length === 0 ? ['  nothing published: the bundled rule sets apply'] : []),
          ...(pending
            ? [
                `  pending ${pending.proposal_id}: ${pending.source} (${pending.version}) by ${pending.proposed_by} at ${pending.proposed_at}`,
              ]
            : []),
        ];
        print(
          { in_force: now?.version ?? null, revisions: view, pending: pending ?? null },
          lines.join('\n'),
        );
        return 0;
      }
      default:
        throw new UsageError(`unknown subcommand '${sub as string}'`);
    }
  } catch (error) {
    if (error instanceof RuleSetError) {
      for (const e of error.errors) console.log(e);
      console.error(`exit-engine rules ${sub}: not published: the rule set does not validate`);
      return 1;
    }
    if (error instanceof RuleSetPublishError || error instanceof OpsCliError) {
      console.error(`exit-engine rules ${sub}: ${error.message}`);
      return 1;
    }
    const e = error as Error & { code?: string; cause?: { code?: string } };
    const code = e.code ?? e.cause?.code;
    // aws-json's AwsTransportError (no answer from the stores' DynamoDB) carries the socket error as its cause.
    if (code === 'ECONNREFUSED' || e.name === 'TimeoutError' || e.name === 'AwsTransportError') {
      console.error(
        `exit-engine rules ${sub}: ${target?.description ?? 'the target'} is not answering (${code ?? e.name})`,
      );
      return 1;
    }
    throw error;
  } finally {
    target?.close();
  }
}

function describeOutcome(o: PublishOutcome, where: string): string {
  const before =
    'before' in o && o.before
      ? ` (before: ${o.before.version}, ${o.before.revision === 0 ? o.before.source : `r${o.before.revision}`})`
      : '';
  switch (o.status) {
    case 'published':
      return `published ${o.version} as revision ${o.revision} of '${o.world_id}' on ${where}${before}; the functions use it within their cache time (RULESET_CACHE_TTL_SEC)`;
    case 'pending_approval':
      return `proposed ${o.version} for '${o.world_id}' on ${where}${before}: waiting for a second person (exit-engine rules approve --world ${o.world_id}), proposal ${o.proposal_id}`;
    case 'unchanged':
      return `unchanged: '${o.world_id}' already runs ${o.version}${o.revision ? ` (revision ${o.revision})` : ' (bundled)'}; nothing published`;
  }
}
