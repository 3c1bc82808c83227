import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';

/**
 * Plain JS values ↔ DynamoDB's JSON wire form, exactly as lib-dynamodb converts them: util-dynamodb's
 * `marshall` (undefined values dropped, as the stores have always asked) and `unmarshall` (numbers as JS
 * numbers, BigInt beyond 2^53, sets as `Set`, binary as `Uint8Array`). What the SDK's serializer adds on
 * top is the JSON encoding of binary: base64 strings on the wire (`B`, `BS`), `Uint8Array` in memory.
 */

/** How lib-dynamodb's DynamoDBDocumentClient is configured by the stores. */
const MARSHALL_OPTIONS = { removeUndefinedValues: true, convertTopLevelContainer: true } as const;
const UNMARSHALL_OPTIONS = { convertWithoutMapWrapper: true } as const;

/** One attribute value as it goes on the wire (binary as base64). */
export type WireAttributeValue = Record<string, unknown>;

/** A JS value → its wire attribute value (a top-level map or list stays wrapped, as lib-dynamodb does). */
export function toWireValue(value: unknown): WireAttributeValue {
  return encodeBinary(marshall(value, MARSHALL_OPTIONS) as AttributeValue);
}

/** A wire attribute value → its JS value. */
export function fromWireValue(value: WireAttributeValue): unknown {
  return unmarshall(decodeBinary(value) as never, UNMARSHALL_OPTIONS);
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

function encodeBinary(value: AttributeValue): WireAttributeValue {
  if (value.B !== undefined) return { B: toBase64(value.B) };
  if (value.BS !== undefined) return { BS: value.BS.map(toBase64) };
  if (value.L !== undefined) return { L: value.L.map(encodeBinary) };
  if (value.M !== undefined) {
    const out: Record<string, WireAttributeValue> = {};
    for (const [name, v] of Object.entries(value.M)) out[name] = encodeBinary(v);
    return { M: out };
  }
  return value as unknown as WireAttributeValue;
}

/** What util-dynamodb calls binary: Buffer, any typed array or DataView, ArrayBuffer (Blob cannot be read synchronously). */
function toBase64(bytes: unknown): string {
  if (ArrayBuffer.isView(bytes))
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  if (bytes instanceof ArrayBuffer) return Buffer.from(bytes).toString('base64');
  throw new TypeError(
    `DynamoDB binary attribute: a ${(bytes as object)?.constructor?.name ?? typeof bytes} cannot be sent; pass a Uint8Array`,
  );
}

function fromBase64(text: unknown): Uint8Array {
  if (typeof text !== 'string')
    throw new TypeError(`DynamoDB binary attribute: expected base64 text, got ${typeof text}`);
  const buffer = Buffer.from(text, 'base64');
  // A plain Uint8Array, as the SDK's deserializer gives (not a Buffer: `Buffer#toJSON`, `equals` differ).
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
