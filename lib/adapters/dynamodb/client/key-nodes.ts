/**
 * Which fields of a command's input and output hold attribute values, in lib-dynamodb's notation
 * (`@aws-sdk/lib-dynamodb/dist-es/commands/utils.js`): a field named with `ALL_VALUES` is an attribute
 * map (each value converted), `'*'` descends into every entry of a map or list, `SELF` converts the field
 * itself. The traversal below is the same walk: fields not named pass through as they are.
 */
export type KeyNodes = { readonly [field: string]: KeyNode };
export type KeyNode = KeyNodes | null;

/** Convert the field itself (one attribute value). */
export const SELF = null;
/** Convert every value of the map (or every member of the list). */
export const ALL_VALUES: KeyNodes = {};
const NEXT_LEVEL = '*';

/** `obj` with the fields named by `nodes` converted by `convert`. */
export function convertFields(
  obj: Record<string, unknown>,
  nodes: KeyNodes,
  convert: (value: never) => unknown,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...obj };
  for (const [field, node] of Object.entries(nodes)) {
    const converted = convertNode(obj[field], node, convert);
    if (converted !== undefined) out[field] = converted;
  }
  return out;
}

function convertNode(value: unknown, node: KeyNode, convert: (value: never) => unknown): unknown {
  if (value === undefined) return undefined;
  if (node === SELF) return convert(value as never);
  const keys = Object.keys(node);
  if (keys.length === 0) return mapEntries(value, (v) => convert(v as never));
  if (keys.length === 1 && keys[0] === NEXT_LEVEL) {
    const next = node[NEXT_LEVEL] as KeyNode;
    return mapEntries(value, (v) => convertNode(v, next, convert));
  }
  return convertFields(value as Record<string, unknown>, node, convert);
}

/** Each entry of a list or map converted; undefined entries are dropped (as lib-dynamodb drops them). */
function mapEntries(value: unknown, f: (v: unknown) => unknown): unknown {
  if (Array.isArray(value)) return value.filter((v) => v !== undefined).map(f);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === undefined) continue;
    const converted = f(v);
    if (converted !== undefined) out[k] = converted;
  }
  return out;
}
