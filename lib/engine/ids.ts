import { createHash } from 'node:crypto';

/** A stable hex digest of the parts, joined unambiguously. */
export function digest(...parts: readonly string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(`${p.length}:${p}|`);
  return h.digest('hex');
}

/** A name-based UUID (version 5 layout over SHA-256): the same inputs always give the same id. */
export function deterministicUuid(...parts: readonly string[]): string {
  const hex = digest(...parts);
  const variant = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
