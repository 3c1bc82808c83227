import type * as z from 'zod/mini';

/** One problem with an input, as `path: message` a risk manager or operator can act on. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (typeof part === 'string' && /^[A-Za-z_][\w-]*$/.test(part)) out += out ? `.${part}` : part;
    else out += `[${JSON.stringify(String(part))}]`;
  }
  return out || '(root)';
}

/** Flattens a ZodError into `field: problem` lines, most specific path first. */
export function formatZodIssues(error: z.core.$ZodError, prefix: readonly PropertyKey[] = []): string[] {
  const lines: string[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'invalid_union' && 'errors' in issue && Array.isArray(issue.errors)) {
      // A union fails as a whole; the first branch's issues name the field best.
      const first = issue.errors[0] as z.core.$ZodIssue[] | undefined;
      if (first && first.length > 0) {
        for (const inner of first)
          lines.push(`${formatIssuePath([...prefix, ...issue.path, ...inner.path])}: ${inner.message}`);
        continue;
      }
    }
    lines.push(`${formatIssuePath([...prefix, ...issue.path])}: ${issue.message}`);
  }
  return lines;
}
