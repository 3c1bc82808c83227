/** IP addresses (IPv4 and IPv6) for event patterns' `cidr` operator and IP-literal equality. */

/** A parsed address: its family and its value as one integer. */
export interface Ip {
  readonly version: 4 | 6;
  readonly value: bigint;
}

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseIpv6(text: string): bigint | undefined {
  if (!text.includes(':')) return undefined;
  let body = text;
  // An embedded IPv4 tail (::ffff:1.2.3.4) stands for the last two 16-bit groups.
  const lastColon = body.lastIndexOf(':');
  const maybeV4 = body.slice(lastColon + 1);
  if (maybeV4.includes('.')) {
    const v4 = parseIpv4(maybeV4);
    if (v4 === undefined) return undefined;
    body = `${body.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const group = (s: string): bigint[] | undefined => {
    if (s === '') return [];
    const out: bigint[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(BigInt(`0x${g}`));
    }
    return out;
  };
  const head = group(halves[0] ?? '');
  const rest = halves.length === 2 ? group(halves[1] ?? '') : [];
  if (head === undefined || rest === undefined) return undefined;
  const explicit = head.length + rest.length;
  if (halves.length === 1 ? explicit !== 8 : explicit > 7) return undefined;
  const groups = [...head, ...Array<bigint>(8 - explicit).fill(0n), ...rest];
  return groups.reduce((acc, g) => (acc << 16n) | g, 0n);
}

/** Parses an IPv4 or IPv6 address (IPv4-mapped tails included), or undefined. */
export function parseIp(text: string): Ip | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { version: 4, value: v4 };
  const v6 = parseIpv6(text);
  return v6 === undefined ? undefined : { version: 6, value: v6 };
}

/** The inclusive address range a CIDR block covers. */
export interface CidrRange {
  readonly version: 4 | 6;
  readonly low: bigint;
  readonly high: bigint;
}

/** Parses `address/prefix`; a string return is the problem with it. */
export function parseCidr(text: string): CidrRange | string {
  const slash = text.indexOf('/');
  if (slash < 0 || slash !== text.lastIndexOf('/')) return `Malformed CIDR, one '/' required: ${text}`;
  const ip = parseIp(text.slice(0, slash));
  if (ip === undefined) return `Invalid IP address in CIDR: ${text}`;
  const bits = ip.version === 4 ? 32 : 128;
  const maskText = text.slice(slash + 1);
  const mask = Number(maskText);
  if (!/^\d{1,3}$/.test(maskText) || mask > bits) return `Invalid prefix length in CIDR: ${text}`;
  const hostBits = BigInt(bits - mask);
  const low = (ip.value >> hostBits) << hostBits;
  return { version: ip.version, low, high: low | ((1n << hostBits) - 1n) };
}

/** True when `text` is an address of the range's family inside it. */
export function inCidr(range: CidrRange, text: string): boolean {
  const ip = parseIp(text);
  return ip !== undefined && ip.version === range.version && ip.value >= range.low && ip.value <= range.high;
}
