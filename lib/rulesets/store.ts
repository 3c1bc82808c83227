import type { AuditRecord } from '#lib/engine/ports.js';

/**
 * The rule-set store port: the published rule set of each world, versioned, read by the functions at
 * runtime so a rule set changes without a deploy. The bundled `rulesets/` stay the initial versions: a
 * world the store knows nothing of is governed by its bundled set (see live-rule-sets.ts).
 */

/** One published revision of a world's rule set (the current one, or one of its history). */
export interface StoredRuleSet {
  /** The world it governs (`default`: every world without a set of its own). */
  world_id: string;
  /** 1, 2, 3, ... per world: the optimistic version a publish must name. */
  revision: number;
  /** The content hash (`sha256:…`), as the bundled files have it: what signals carry. */
  version: string;
  /** The rule set as published (YAML or JSON), re-validated when read. */
  text: string;
  /** The file name it was published from (`.json` means JSON, anything else YAML). */
  source: string;
  /**
   * The document `text` parses to, as JSON, written at publish (absent on earlier revisions, and where the
   * JSON would not validate to the same rule set): what the functions validate, without a YAML parser.
   */
  document_json?: string;
  published_by: string;
  published_at: string;
  /** The second person, when the publish needed one. */
  approved_by?: string;
  /** Once set, every later publish for this world needs a second person too. */
  require_approval: boolean;
}

/** A publish waiting for its second person. */
export interface PendingRuleSet {
  world_id: string;
  proposal_id: string;
  /** The revision it replaces (0: the bundled set); approving after another publish is refused. */
  base_revision: number;
  version: string;
  text: string;
  source: string;
  proposed_by: string;
  proposed_at: string;
  require_approval: boolean;
}

export interface RuleSetStore {
  /** The current revision of a world's rule set; undefined when none was ever published. */
  current(worldId: string): Promise<StoredRuleSet | undefined>;
  /** Published revisions, newest first. */
  history(worldId: string, limit?: number): Promise<StoredRuleSet[]>;
  /**
   * Makes `next` current, only if the current revision is still `next.revision - 1` (0: none), with
   * its audit record, atomically. With `proposalId`, the pending proposal of that id is consumed in
   * the same write. False when another publish (or approval) got there first.
   */
  publish(next: StoredRuleSet, audit: AuditRecord, proposalId?: string): Promise<boolean>;
  /** Files a proposal with its audit record; false when the world already has one pending. */
  propose(proposal: PendingRuleSet, audit: AuditRecord): Promise<boolean>;
  pending(worldId: string): Promise<PendingRuleSet | undefined>;
  /** Drops the pending proposal of that id with its audit record; false when it is not pending. */
  withdraw(worldId: string, proposalId: string, audit: AuditRecord): Promise<boolean>;
}
