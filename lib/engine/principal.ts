/**
 * Who a caller is, for four eyes: the person (or role) behind a request, not the session.
 *
 * An assumed-role ARN ends in a session name the caller chooses (`assumed-role/ops/alice-1`,
 * `assumed-role/ops/alice-2`), so comparing full ARNs lets one person approve twice. The principal drops
 * the session: `arn:aws:sts::123:assumed-role/ops/alice-1` → `arn:aws:iam::123:role/ops`. When the
 * caller's `sts:SourceIdentity` is known (set once by the identity provider when the role was assumed and
 * kept through role chaining), it names the person, and that is the principal: two people sharing a role
 * are two principals, one person through two roles is one.
 */
export function principalOf(callerArn: string, sourceIdentity?: string): string {
  const identity = sourceIdentity?.trim();
  if (identity) return `sts:source-identity/${identity}`;
  const assumed = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(callerArn.trim());
  if (assumed) {
    const [, partition, account, role] = assumed;
    return `arn:${partition}:iam::${account}:role/${role}`;
  }
  return callerArn.trim();
}
