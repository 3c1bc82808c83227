/** Text helpers of the demo-stream generator: rounding, stable ids, canonical and Biome-shaped JSON. */
import { createHash } from 'node:crypto';

/** Rounds to significant digits so the JSON stays short but covariance keeps its precision. */
export function sig(x: number, digits: number): number {
  return x === 0 ? 0 : Number(x.toPrecision(digits));
}

export function round(x: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
}

/** RFC 4122 name-based (v5) UUID: the ids are stable across runs yet look like upstream's. */
export function uuidV5(name: string): string {
  const namespace = Buffer.from('6ba7b8119dad11d180b400c04fd430c8', 'hex'); // the URL namespace
  const h = createHash('sha1').update(namespace).update(`https://qmtl.dev/demo/${name}`).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Canonical JSON (keys sorted at every level, no whitespace): the digest input for `hash`. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Pretty JSON laid out the way Biome formats it (objects expanded, number arrays filled to the
 * line width), so regenerating the sample keeps `npm run lint` clean.
 */
export function prettyJson(value: unknown, indent = 0, lineWidth = 110): string {
  const pad = ' '.repeat(indent);
  const inner = ' '.repeat(indent + 2);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const items = value.map((v) => prettyJson(v, indent + 2, lineWidth));
    const lines: string[] = [];
    let line = '';
    items.forEach((item, i) => {
      const piece = i < items.length - 1 ? `${item},` : item;
      const candidate = line === '' ? piece : `${line} ${piece}`;
      if (line !== '' && inner.length + candidate.length > lineWidth) {
        lines.push(line);
        line = piece;
      } else {
        line = candidate;
      }
    });
    lines.push(line);
    return `[\n${lines.map((l) => inner + l).join('\n')}\n${pad}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return '{}';
    const body = entries.map(
      ([k, v]) => `${inner}${JSON.stringify(k)}: ${prettyJson(v, indent + 2, lineWidth)}`,
    );
    return `{\n${body.join(',\n')}\n${pad}}`;
  }
  return JSON.stringify(value);
}

export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}
