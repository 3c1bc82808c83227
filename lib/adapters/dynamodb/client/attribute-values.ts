import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/**
 * Plain JS values ↔ DynamoDB's JSON wire form, exactly as lib-dynamodb converts them with the stores'
 * options: util-dynamodb's `marshall` (undefined values dropped, top-level maps and lists kept wrapped) and
 * `unmarshall` (numbers as JS numbers, BigInt beyond 2^53, sets as `Set`, binary as `Uint8Array`), binary
 * as base64 on the wire as the SDK's JSON serializer puts it. Our own code, not util-dynamodb's: its ~5 KB
 * were parsed at every cold start for the one configuration used here. It follows util-dynamodb
 * 3.996.9 step for step — the same type tests (by constructor name), the same errors with the same
 * messages, and the same quirks (a `__proto__` attribute name is lost, a set takes its type from its first
 * member) — and test/unit/dynamodb-client/attribute-values.test.ts checks it against util-dynamodb.
 */

/** One attribute value as it goes on the wire (binary as base64). */
export type WireAttributeValue = Record<string, unknown>;

/** A JS value → its wire attribute value (a top-level map or list stays wrapped, as lib-dynamodb does). */
export function toWireValue(value: unknown): WireAttributeValue {
  return toAttribute(value);
}

/** A wire attribute value → its JS value. */
export function fromWireValue(value: WireAttributeValue): unknown {
  return toNative(value, fromBase64);
}

/** An item in the SDK's low-level form (binary as `Uint8Array`) → its JS values: util-dynamodb's `unmarshall`. */
export function fromAttributeMap(item: Record<string, AttributeValue>): Record<string, unknown> {
  return toNative({ M: item }, keepBinary) as Record<string, unknown>;
}

const UNDEFINED_VALUE =
  'Pass options.removeUndefinedValues=true to remove undefined values from map/array/set.';

/** util-dynamodb's `convertToAttr` with `removeUndefinedValues`, binary encoded as it goes. */
function toAttribute(data: unknown): WireAttributeValue {
  // The common cases first; each is what the full chain below would give a primitive.
  if (typeof data === 'string') return { S: data };
  if (typeof data === 'number') return { N: numberText(data) };
  if (typeof data === 'boolean') return { BOOL: data };
  if (data === undefined) throw new Error(UNDEFINED_VALUE);
  if (data === null) return { NULL: true };
  if (Array.isArray(data)) return { L: toList(data) };
  const type = constructorName(data);
  if (type === 'Set') return toSet(data as Set<unknown>);
  if (type === 'Map') {
    const map: Record<string, WireAttributeValue> = {};
    for (const [key, value] of data as Map<string, unknown>) {
      if (typeof value !== 'function' && value !== undefined) map[key] = toAttribute(value);
    }
    return { M: map };
  }
  if (type === 'Object' || (!(data as object).constructor && typeof data === 'object')) {
    const map: Record<string, WireAttributeValue> = {};
    for (const key in data as object) {
      const value = (data as Record<string, unknown>)[key];
      if (typeof value !== 'function' && value !== undefined) map[key] = toAttribute(value);
    }
    return { M: map };
  }
  if (isBinary(type)) return { B: toBase64(data) };
  if (type === 'Boolean') return { BOOL: (data as boolean).valueOf() };
  if (type === 'Number') return { N: numberText(data as number) };
  if (isNumberValue(data, type)) return { N: String(data) };
  if (typeof data === 'bigint') return { N: data.toString() };
  if (type === 'String') return { S: String(data) };
  throw new Error(
    `Unsupported type passed: ${data}. Pass options.convertClassInstanceToMap=true to marshall typeof object as map attribute.`,
  );
}

function toList(list: readonly unknown[]): WireAttributeValue[] {
  const out: WireAttributeValue[] = [];
  for (const item of list) {
    if (typeof item !== 'function' && item !== undefined) out.push(toAttribute(item));
  }
  return out;
}

/** A set's type is its first member's; the others are converted as that type, as util-dynamodb does. */
function toSet(set: Set<unknown>): WireAttributeValue {
  const members = [...set].filter((member) => member !== undefined);
  if (members.length === 0) throw new Error('Pass a non-empty set, or options.convertEmptyValues=true.');
  const first = members[0];
  if (isNumberValue(first, constructorName(first)))
    return { NS: members.map((m) => (m as object).toString()) };
  if (typeof first === 'number') return { NS: members.map((n) => numberText(n as number)) };
  if (typeof first === 'bigint' || typeof first === 'string')
    return { [typeof first === 'string' ? 'SS' : 'NS']: members.map((m) => (m as object).toString()) };
  if (isBinary(constructorName(first))) return { BS: members.map(toBase64) };
  throw new Error('Only Number Set (NS), Binary Set (BS) or String Set (SS) are allowed.');
}

/** A number's text, refused when DynamoDB cannot store it or a JS number cannot hold it exactly. */
function numberText(num: number): string {
  const text = num.toString();
  if (text === 'NaN' || text === 'Infinity' || text === '-Infinity')
    throw new Error(`Special numeric value ${text} is not allowed`);
  if (Number(num) > Number.MAX_SAFE_INTEGER)
    throw new Error(
      `Number ${text} is greater than Number.MAX_SAFE_INTEGER. Use NumberValue from @aws-sdk/lib-dynamodb.`,
    );
  if (Number(num) < Number.MIN_SAFE_INTEGER)
    throw new Error(
      `Number ${text} is lesser than Number.MIN_SAFE_INTEGER. Use NumberValue from @aws-sdk/lib-dynamodb.`,
    );
  return text;
}

function constructorName(data: unknown): string | undefined {
  return (data as { constructor?: { name?: string } } | null | undefined)?.constructor?.name;
}

/** lib-dynamodb's `NumberValue` (a number kept as its text), recognized without importing it. */
function isNumberValue(data: unknown, type: string | undefined): boolean {
  return (
    type === 'NumberValue' && typeof (data as { toAttributeValue?: unknown }).toAttributeValue === 'function'
  );
}

/** What util-dynamodb calls binary, by constructor name. */
const BINARY_TYPES = new Set([
  'ArrayBuffer',
  'Blob',
  'Buffer',
  'DataView',
  'File',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
]);

function isBinary(type: string | undefined): boolean {
  return type !== undefined && BINARY_TYPES.has(type);
}

/** util-dynamodb's `convertToNative` (numbers unwrapped), binary read by `binary`. */
function toNative(data: Record<string, unknown>, binary: (value: unknown) => unknown): unknown {
  for (const [key, value] of Object.entries(data)) {
    if (value === undefined) continue;
    switch (key) {
      case 'NULL':
        return null;
      case 'BOOL':
        return Boolean(value);
      case 'N':
        return fromNumberText(value as string);
      case 'B':
        return binary(value);
      case 'S':
        return value;
      case 'L':
        return (value as Record<string, unknown>[]).map((item) => toNative(item, binary));
      case 'M': {
        const map: Record<string, unknown> = {};
        for (const [name, item] of Object.entries(value as Record<string, Record<string, unknown>>))
          map[name] = toNative(item, binary);
        return map;
      }
      case 'NS':
        return new Set((value as string[]).map(fromNumberText));
      case 'BS':
        return new Set((value as unknown[]).map(binary));
      case 'SS':
        return new Set(value as string[]);
      default:
        throw new Error(`Unsupported type passed: ${key}`);
    }
  }
  throw new Error(`No value defined: ${JSON.stringify(data)}`);
}

/** A number's text as a JS number, or a BigInt past ±2^53 (finite), as util-dynamodb reads it. */
function fromNumberText(text: string): number | bigint {
  const num = Number(text);
  if ((num > Number.MAX_SAFE_INTEGER || num < Number.MIN_SAFE_INTEGER) && Number.isFinite(num)) {
    try {
      return BigInt(text);
    } catch {
      throw new Error(`${text} can't be converted to BigInt. Set options.wrapNumbers to get string value.`);
    }
  }
  return num;
}

/**
 * A wire attribute value → the SDK's low-level form (`{S: 'x'}`, binary as `Uint8Array`): what the SDK
 * puts in an error's `Item` (ReturnValuesOnConditionCheckFailure), which lib-dynamodb never unmarshalls.
 */
export function decodeBinary(value: WireAttributeValue): AttributeValue {
  const [key, inner] = Object.entries(value)[0] ?? [];
  switch (key) {
    case 'B':
      return { B: fromBase64(inner) };
    case 'BS':
      return { BS: (inner as unknown[]).map(fromBase64) };
    case 'L':
      return { L: (inner as WireAttributeValue[]).map(decodeBinary) };
    case 'M':
      return { M: decodeMap(inner as Record<string, WireAttributeValue>) };
    default:
      return value as unknown as AttributeValue;
  }
}

/** Every value of an attribute map in the SDK's low-level form. */
export function decodeMap(map: Record<string, WireAttributeValue>): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [name, v] of Object.entries(map)) out[name] = decodeBinary(v);
  return out;
}

/** Binary bytes as base64: Buffer, any typed array or DataView, ArrayBuffer (Blob cannot be read synchronously). */
function toBase64(bytes: unknown): string {
  if (ArrayBuffer.isView(bytes))
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  if (bytes instanceof ArrayBuffer) return Buffer.from(bytes).toString('base64');
  throw new TypeError(
    `DynamoDB binary attribute: a ${(bytes as object)?.constructor?.name ?? typeof bytes} cannot be sent; pass a Uint8Array`,
  );
}

function keepBinary(bytes: unknown): unknown {
  return bytes;
}

function fromBase64(text: unknown): Uint8Array {
  if (typeof text !== 'string')
    throw new TypeError(`DynamoDB binary attribute: expected base64 text, got ${typeof text}`);
  const buffer = Buffer.from(text, 'base64');
  // A plain Uint8Array, as the SDK's deserializer gives (not a Buffer: `Buffer#toJSON`, `equals` differ).
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
