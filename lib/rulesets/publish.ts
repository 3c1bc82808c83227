import { digest } from '#lib/engine/ids.js';
import type { AuditRecord } from '#lib/engine/ports.js';
import { principalOf } from '#lib/engine/principal.js';
import { ruleSetFromDocument, storableDocumentJson } from '#lib/rules/rule-document.js';
import type { RuleSet } from '#lib/rules/rule-schema.js';
import { readRuleSetDocument } from '#lib/rules/ruleset-loader.js';
import type { PendingRuleSet, RuleSetStore, StoredRuleSet } from './store.js';

/**
 * Publishing a world's rule set: validated as `rules validate` validates it, published as the next
 * revision (optimistically: a concurrent publish makes this one fail, never overwrite it), audited
 * with the versions before and after, and, when the world asks for it, only once a second person
 * approves. The bundled set is the "before" of a world's first publish.
 */

const DAY_SECONDS = 86_400;

/** Why a publish, approval or rejection was refused; `field` names what to fix. */
export class RuleSetPublishError extends Error {
  override readonly name = 'RuleSetPublishError';
  constructor(
    readonly field: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${field}: ${message}`, options);
  }
}

/** What a world runs on before anything is published: its bundled set, if any. */
export interface BundledRuleSets {
  /** The bundled set declared for exactly this world (not the default). */
  exact(worldId: string): RuleSet | undefined;
}

export interface RuleSetPublisherDeps {
  store: RuleSetStore;
  bundled: BundledRuleSets;
  auditRetentionDays: number;
}

export type PublishOutcome =
  | { status: 'published'; world_id: string; revision: number; version: string; before?: VersionRef }
  | {
      status: 'pending_approval';
      world_id: string;
      proposal_id: string;
      version: string;
      before?: VersionRef;
    }
  | { status: 'unchanged'; world_id: string; version: string; revision?: number };

/** A version as the audit trail names it: the content hash, the store revision (0: bundled). */
export interface VersionRef {
  version: string;
  revision: number;
  source: string;
}

/** A rule set validated for publishing, with the document JSON to store beside its text (if any). */
type Validated = RuleSet & { documentJson: string | undefined };

interface Who {
  actor: string;
  nowMs: number;
  reason?: string;
}

export class RuleSetPublisher {
  constructor(private readonly deps: RuleSetPublisherDeps) {}

  /**
   * Validates `text` and publishes it for `world` (the file must declare that world). With
   * `requireApproval` (or when the world's current revision was published so), it waits for a
   * second person instead, and every later publish for the world does too.
   */
  async publish(args: {
    world: string;
    text: string;
    source: string;
    actor: string;
    nowMs: number;
    requireApproval?: boolean;
    reason?: string;
  }): Promise<PublishOutcome> {
    const set = this.validate(args.text, args.source, args.world);
    const current = await this.deps.store.current(args.world);
    const before = this.before(args.world, current);
    if (before?.version === set.version && !(await this.deps.store.pending(args.world)))
      return {
        status: 'unchanged',
        world_id: args.world,
        version: set.version,
        ...(current ? { revision: current.revision } : {}),
      };
    const requireApproval = args.requireApproval === true || current?.require_approval === true;
    const at = new Date(args.nowMs).toISOString();
    if (requireApproval) {
      const proposal: PendingRuleSet = {
        world_id: args.world,
        proposal_id: digest('ruleset-proposal', args.world, set.version, at, args.actor).slice(0, 16),
        base_revision: current?.revision ?? 0,
        version: set.version,
        text: args.text,
        source: args.source,
        proposed_by: args.actor,
        proposed_at: at,
        require_approval: true,
      };
      const audit = this.audit('ruleset_propose', args, {
        before,
        after: {
          version: set.version,
          revision: null,
          source: args.source,
          proposal_id: proposal.proposal_id,
        },
      });
      if (!(await this.deps.store.propose(proposal, audit))) {
        const other = await this.deps.store.pending(args.world);
        throw new RuleSetPublishError(
          'world',
          `'${args.world}' already has a publish waiting for approval${other ? ` (proposal ${other.proposal_id} by ${other.proposed_by}, version ${other.version})` : ''}; approve or reject it first`,
        );
      }
      return {
        status: 'pending_approval',
        world_id: args.world,
        proposal_id: proposal.proposal_id,
        version: set.version,
        ...(before ? { before } : {}),
      };
    }
    const next = this.next(args.world, set, args.text, args.source, current, args.actor, at, false);
    const audit = this.audit('ruleset_publish', args, { before, after: ref(next) });
    if (!(await this.deps.store.publish(next, audit))) throw conflict(args.world, next.revision - 1);
    return {
      status: 'published',
      world_id: args.world,
      revision: next.revision,
      version: next.version,
      ...(before ? { before } : {}),
    };
  }

  /** Publishes the world's pending proposal; the approver must be another principal than the proposer. */
  async approve(args: {
    world: string;
    actor: string;
    nowMs: number;
    reason?: string;
  }): Promise<PublishOutcome> {
    const proposal = await this.requirePending(args.world);
    if (principalOf(proposal.proposed_by) === principalOf(args.actor))
      throw new RuleSetPublishError(
        'actor',
        `${args.actor} proposed this rule set; a second person must approve it (four eyes)`,
      );
    const set = this.validate(proposal.text, proposal.source, args.world);
    const current = await this.deps.store.current(args.world);
    if ((current?.revision ?? 0) !== proposal.base_revision)
      throw conflict(args.world, proposal.base_revision);
    const at = new Date(args.nowMs).toISOString();
    const next = {
      ...this.next(args.world, set, proposal.text, proposal.source, current, proposal.proposed_by, at, true),
      approved_by: args.actor,
    };
    const before = this.before(args.world, current);
    const audit = this.audit('ruleset_approve', args, {
      before,
      after: { ...ref(next), proposal_id: proposal.proposal_id, proposed_by: proposal.proposed_by },
    });
    if (!(await this.deps.store.publish(next, audit, proposal.proposal_id)))
      throw conflict(args.world, proposal.base_revision);
    return {
      status: 'published',
      world_id: args.world,
      revision: next.revision,
      version: next.version,
      ...(before ? { before } : {}),
    };
  }

  /** Drops the world's pending proposal. */
  async reject(args: {
    world: string;
    actor: string;
    nowMs: number;
    reason?: string;
  }): Promise<PendingRuleSet> {
    const proposal = await this.requirePending(args.world);
    const current = await this.deps.store.current(args.world);
    const audit = this.audit('ruleset_reject', args, {
      before: {
        version: proposal.version,
        revision: null,
        source: proposal.source,
        proposal_id: proposal.proposal_id,
      },
      after: this.before(args.world, current),
    });
    if (!(await this.deps.store.withdraw(args.world, proposal.proposal_id, audit)))
      throw new RuleSetPublishError('world', `the proposal for '${args.world}' was decided meanwhile`);
    return proposal;
  }

  private async requirePending(world: string): Promise<PendingRuleSet> {
    const proposal = await this.deps.store.pending(world);
    if (!proposal)
      throw new RuleSetPublishError('world', `'${world}' has no rule-set publish waiting for approval`);
    return proposal;
  }

  /**
   * Parses as `rules validate` does, and checks the set is for the world named; with the document as the
   * JSON the functions will read (`document_json`), where it validates to the same set.
   */
  private validate(text: string, source: string, world: string): Validated {
    const document = readRuleSetDocument(text, source);
    const set = ruleSetFromDocument(document, text, source);
    if (set.world !== world)
      throw new RuleSetPublishError(
        '--world',
        `${source} declares world '${set.world}', not '${world}'; publish it with --world ${set.world}`,
      );
    return { ...set, documentJson: storableDocumentJson(document, set, text) };
  }

  private before(world: string, current: StoredRuleSet | undefined): VersionRef | undefined {
    if (current) return ref(current);
    const bundled = this.deps.bundled.exact(world);
    return bundled && { version: bundled.version, revision: 0, source: `bundled ${bundled.source}` };
  }

  private next(
    world: string,
    set: Validated,
    text: string,
    source: string,
    current: StoredRuleSet | undefined,
    publishedBy: string,
    at: string,
    requireApproval: boolean,
  ): StoredRuleSet {
    return {
      world_id: world,
      revision: (current?.revision ?? 0) + 1,
      version: set.version,
      text,
      source,
      ...(set.documentJson === undefined ? {} : { document_json: set.documentJson }),
      published_by: publishedBy,
      published_at: at,
      require_approval: requireApproval || current?.require_approval === true,
    };
  }

  private audit(
    action: string,
    who: Who & { world: string },
    change: { before: unknown; after: unknown },
  ): AuditRecord {
    const at = new Date(who.nowMs).toISOString();
    return {
      world_id: who.world,
      record_id: `${at}#ops_action#${action}:${who.world}:${digest(who.actor).slice(0, 8)}`,
      kind: 'ops_action',
      recorded_at: at,
      action,
      target: { type: 'ruleset', id: who.world },
      actor: who.actor,
      principal: principalOf(who.actor),
      ...(who.reason ? { reason: who.reason } : {}),
      before: change.before ?? null,
      after: change.after ?? null,
      expires_at: Math.floor(who.nowMs / 1000) + this.deps.auditRetentionDays * DAY_SECONDS,
    };
  }
}

function ref(s: StoredRuleSet): VersionRef {
  return { version: s.version, revision: s.revision, source: s.source };
}

function conflict(world: string, expected: number): RuleSetPublishError {
  return new RuleSetPublishError(
    'world',
    `the rule set of '${world}' changed while publishing (expected revision ${expected}); read it again and retry`,
  );
}
