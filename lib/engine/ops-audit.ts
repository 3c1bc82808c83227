import { digest } from './ids.js';
import type { OpsDeps } from './ops-context.js';
import type { AuditRecord } from './ports.js';

const DAY_SECONDS = 86_400;

/** The audit record of one ops action: who (as authenticated, and the principal four eyes compared), why, before and after. */
export function opsAudit(
  deps: Pick<OpsDeps, 'auditRetentionDays'>,
  world: string,
  action: string,
  targetId: string,
  who: { actor: string; principal: string },
  reason: string,
  nowMs: number,
  change: { before: unknown; after: unknown; note?: string },
): AuditRecord {
  const at = new Date(nowMs).toISOString();
  const { actor, principal } = who;
  return {
    world_id: world,
    record_id: `${at}#ops_action#${action}:${targetId}:${digest(actor).slice(0, 8)}`,
    kind: 'ops_action',
    recorded_at: at,
    action,
    target: { type: action.includes('mute') ? 'mute' : 'signal', id: targetId },
    // Both identities: the caller exactly as authenticated, and the principal four eyes compared.
    actor,
    principal,
    reason,
    before: change.before,
    after: change.after,
    ...(change.note ? { note: change.note } : {}),
    expires_at: Math.floor(nowMs / 1000) + deps.auditRetentionDays * DAY_SECONDS,
  };
}
