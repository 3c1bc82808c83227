import type { AuditRecord } from '#lib/engine/ports.js';
import type { PendingRuleSet, RuleSetStore, StoredRuleSet } from '#lib/rulesets/store.js';

const copy = <T>(x: T): T => structuredClone(x);

/**
 * The rule-set store in memory (unit tests, `replay`): the same conditions as the DynamoDB one, a
 * change and its audit record together or not at all.
 */
export class InMemoryRuleSetStore implements RuleSetStore {
  private readonly revisions = new Map<string, StoredRuleSet[]>();
  private readonly proposals = new Map<string, PendingRuleSet>();
  private readonly auditRecords = new Map<string, AuditRecord>();

  async current(worldId: string): Promise<StoredRuleSet | undefined> {
    const list = this.revisions.get(worldId);
    return list?.length ? copy(list[list.length - 1]!) : undefined;
  }

  async history(worldId: string, limit = 50): Promise<StoredRuleSet[]> {
    return copy([...(this.revisions.get(worldId) ?? [])].reverse().slice(0, limit));
  }

  async publish(next: StoredRuleSet, audit: AuditRecord, proposalId?: string): Promise<boolean> {
    const list = this.revisions.get(next.world_id) ?? [];
    if (list.length !== next.revision - 1) return false;
    if (proposalId !== undefined && this.proposals.get(next.world_id)?.proposal_id !== proposalId)
      return false;
    if (!this.newAudit(audit)) return false;
    if (proposalId !== undefined) this.proposals.delete(next.world_id);
    this.revisions.set(next.world_id, [...list, copy(next)]);
    this.keepAudit(audit);
    return true;
  }

  async propose(proposal: PendingRuleSet, audit: AuditRecord): Promise<boolean> {
    if (this.proposals.has(proposal.world_id) || !this.newAudit(audit)) return false;
    this.proposals.set(proposal.world_id, copy(proposal));
    this.keepAudit(audit);
    return true;
  }

  async pending(worldId: string): Promise<PendingRuleSet | undefined> {
    const p = this.proposals.get(worldId);
    return p && copy(p);
  }

  async withdraw(worldId: string, proposalId: string, audit: AuditRecord): Promise<boolean> {
    if (this.proposals.get(worldId)?.proposal_id !== proposalId || !this.newAudit(audit)) return false;
    this.proposals.delete(worldId);
    this.keepAudit(audit);
    return true;
  }

  /** The audit records written with the changes, oldest first. */
  audit(): AuditRecord[] {
    return copy([...this.auditRecords.values()]);
  }

  private newAudit(audit: AuditRecord): boolean {
    return !this.auditRecords.has(`${audit.world_id}\u0000${audit.record_id}`);
  }

  private keepAudit(audit: AuditRecord): void {
    this.auditRecords.set(`${audit.world_id}\u0000${audit.record_id}`, copy(audit));
  }
}
