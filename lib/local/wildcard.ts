/**
 * EventBridge `wildcard` patterns: parsing, a matcher linear in the value, and the complexity
 * check EventBridge uses to refuse patterns that would make matching slow.
 *
 * `*` matches any run of characters (including none); `\*` and `\\` are a literal `*` and `\`.
 */

/** A wildcard pattern EventBridge would refuse (the message says where). */
export class WildcardSyntaxError extends Error {
  override readonly name = 'WildcardSyntaxError';
  constructor(readonly problem: string) {
    super(problem);
  }
}

/** A parsed pattern: the literal runs between its `*`s, and whether it starts/ends with one. */
export interface Wildcard {
  /** Literal text between stars, in order (escapes resolved); length = stars + 1. */
  readonly segments: readonly string[];
}

/** Splits a pattern at its unescaped stars, refusing what EventBridge refuses (`**`, bad escapes). */
export function parseWildcard(pattern: string): Wildcard {
  const segments: string[] = [];
  let current = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === '*') {
      if (pattern[i + 1] === '*')
        throw new WildcardSyntaxError(`Consecutive wildcard characters at pos ${i}`);
      segments.push(current);
      current = '';
    } else if (ch === '\\') {
      const next = pattern[i + 1];
      if (next !== '*' && next !== '\\')
        throw new WildcardSyntaxError(`Invalid escape character at pos ${i}`);
      current += next;
      i++;
    } else {
      current += ch;
    }
  }
  segments.push(current);
  return { segments };
}

/**
 * True when `value` matches. No backtracking: with only `*` as a metacharacter, taking each middle
 * segment at its leftmost occurrence is always safe (a later occurrence leaves less room for the
 * rest), so the work is one `indexOf` per segment over a shrinking window of the value.
 */
export function matchWildcard(wildcard: Wildcard, value: string): boolean {
  const { segments } = wildcard;
  const last = segments.length - 1;
  const head = segments[0] as string;
  if (last === 0) return value === head;
  const tail = segments[last] as string;
  const end = value.length - tail.length;
  if (end < head.length || !value.startsWith(head) || !value.endsWith(tail)) return false;
  let from = head.length;
  for (let s = 1; s < last; s++) {
    const segment = segments[s] as string;
    if (segment === '') continue;
    const at = value.indexOf(segment, from);
    if (at < 0 || at + segment.length > end) return false;
    from = at + segment.length;
  }
  return true;
}

/**
 * EventBridge refuses a rule whose wildcard patterns are "too complex". It does not publish its
 * limit; aws/event-ruler (the engine it runs) measures complexity as the most wildcard-pattern
 * prefixes one input can be inside at once (`MachineComplexityEvaluator`), and its own tests cap
 * that at 100. We refuse above the same cap.
 */
export const MAX_WILDCARD_COMPLEXITY = 100;

/** A pattern as a token list; NFA state j means "j tokens consumed". */
interface Tokens {
  /** One entry per token: a character, or `null` for `*`. */
  readonly tokens: ReadonlyArray<string | null>;
}

function tokenize(wildcard: Wildcard): Tokens {
  const tokens: Array<string | null> = [];
  wildcard.segments.forEach((segment, i) => {
    if (i > 0) tokens.push(null);
    for (const ch of segment) tokens.push(ch);
  });
  return { tokens };
}

/**
 * The complexity of the wildcard patterns on one field, as event-ruler counts it: the largest
 * number of distinct pattern prefixes that one input string can match at once (a prefix that ends
 * before a `*` and the one that includes it count apart). Found by walking the subset automaton,
 * capped at `cap` so the walk itself stays bounded.
 */
export function wildcardComplexity(
  wildcards: readonly Wildcard[],
  cap = MAX_WILDCARD_COMPLEXITY + 1,
): number {
  const patterns = wildcards.map(tokenize);
  // A state is "pattern p, j tokens consumed"; encode as offset[p] + j.
  const offsets: number[] = [];
  let total = 0;
  for (const p of patterns) {
    offsets.push(total);
    total += p.tokens.length + 1;
  }
  const alphabet = new Set<string>();
  for (const p of patterns) for (const t of p.tokens) if (t !== null) alphabet.add(t);
  // One character no pattern mentions stands for all the others.
  let other = '\u0000';
  while (alphabet.has(other)) other = String.fromCharCode(other.charCodeAt(0) + 1);
  const letters = [...alphabet, other];

  const close = (states: Set<number>): Set<number> => {
    for (const state of [...states]) {
      let s = state;
      const p = owner(s);
      const tokens = (patterns[p] as Tokens).tokens;
      let j = s - (offsets[p] as number);
      while (j < tokens.length && tokens[j] === null) {
        j++;
        s++;
        states.add(s);
      }
    }
    return states;
  };
  const owner = (state: number): number => {
    let p = offsets.length - 1;
    while ((offsets[p] as number) > state) p--;
    return p;
  };
  const step = (states: Set<number>, ch: string): Set<number> => {
    const next = new Set<number>();
    for (const s of states) {
      const p = owner(s);
      const tokens = (patterns[p] as Tokens).tokens;
      const j = s - (offsets[p] as number);
      // A star state (just past a `*`) loops on any character.
      if (j > 0 && tokens[j - 1] === null) next.add(s);
      if (j < tokens.length && tokens[j] === ch) next.add(s + 1);
    }
    return close(next);
  };

  const start = close(new Set(offsets));
  const seen = new Set<string>();
  const queue: Array<Set<number>> = [start];
  let max = 0;
  const budget = 10_000;
  while (queue.length > 0 && seen.size < budget) {
    const states = queue.shift() as Set<number>;
    for (const ch of letters) {
      const next = step(states, ch);
      if (next.size === 0) continue;
      const key = [...next].sort((a, b) => a - b).join(',');
      if (seen.has(key)) continue;
      seen.add(key);
      if (next.size > max) max = next.size;
      if (max >= cap) return cap;
      queue.push(next);
    }
  }
  return max;
}
