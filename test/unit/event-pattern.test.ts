import { describe, expect, it } from 'vitest';
import {
  compileEventPattern,
  InvalidEventPatternError,
  matchesEventPattern,
  validateEventPattern,
} from '#lib/local/event-pattern.js';

/**
 * Conformance table for the local EventBridge pattern matcher. Rows come from the EventBridge user
 * guide; each group names the page and section it is taken from:
 * - [syntax]   "Event pattern syntax" (eb-create-pattern)
 * - [filter]   "Content filtering in Amazon EventBridge event patterns" (content-filtering-with-event-patterns)
 * - [ops]      "Comparison operators for use in event patterns" (eb-create-pattern-operators)
 * - [null]     "Matching events on null values and empty strings" (eb-event-patterns-null-values)
 * - [arrays]   "Arrays in EventBridge event patterns" (eb-event-patterns-arrays)
 * Rows marked "ruler" pin behaviour the guide leaves implicit, as aws/event-ruler (EventBridge's
 * matching engine) implements it.
 */

interface Row {
  readonly name: string;
  readonly pattern: unknown;
  readonly event: unknown;
  readonly expected: boolean;
}

// The guide's running example event (EC2 state change), reused by many rows.
const ec2Event = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: { 'instance-id': 'i-1234567890abcdef0', state: 'terminated' },
};

const detail = (d: Record<string, unknown>) => ({ ...ec2Event, detail: d });

const rows: Row[] = [
  // [syntax] "Event pattern syntax": fields AND together, values in an array OR together.
  {
    name: 'syntax: source + detail-type + nested detail.state',
    pattern: {
      source: ['aws.ec2'],
      'detail-type': ['EC2 Instance State-change Notification'],
      detail: { state: ['terminated'] },
    },
    event: ec2Event,
    expected: true,
  },
  {
    name: 'syntax: one field mismatching fails the AND',
    pattern: { source: ['aws.ec2'], detail: { state: ['running'] } },
    event: ec2Event,
    expected: false,
  },
  {
    name: 'syntax: "Matching event values" – any of several values',
    pattern: { source: ['aws.ec2', 'aws.fargate'] },
    event: ec2Event,
    expected: true,
  },
  {
    name: 'syntax: a field absent from the event never matches a value',
    pattern: { detail: { 'c-count': ['x'] } },
    event: ec2Event,
    expected: false,
  },
  {
    name: 'syntax: same nesting required (detail.state is not state)',
    pattern: { state: ['terminated'] },
    event: ec2Event,
    expected: false,
  },
  {
    name: 'syntax: exact match is case sensitive',
    pattern: { detail: { state: ['Terminated'] } },
    event: ec2Event,
    expected: false,
  },
  // Exact values of other JSON types (ruler: numbers compare numerically, types never mix).
  {
    name: 'exact: number matches same number',
    pattern: { d: { n: [300] } },
    event: { d: { n: 300 } },
    expected: true,
  },
  {
    name: 'exact: number matches numerically (300 vs 3.0e2)',
    pattern: { d: { n: [300] } },
    event: { d: { n: 3.0e2 } },
    expected: true,
  },
  {
    name: 'exact: 1.50 matches 1.5',
    pattern: { d: { n: [1.5] } },
    event: JSON.parse('{"d":{"n":1.50}}'),
    expected: true,
  },
  {
    name: 'exact: number never matches string',
    pattern: { d: { n: [300] } },
    event: { d: { n: '300' } },
    expected: false,
  },
  {
    name: 'exact: string never matches number',
    pattern: { d: { n: ['300'] } },
    event: { d: { n: 300 } },
    expected: false,
  },
  {
    name: 'exact: large account-id-like numbers match',
    pattern: { d: { n: [123456789012] } },
    event: { d: { n: 123456789012 } },
    expected: true,
  },
  { name: 'exact: boolean true', pattern: { d: { b: [true] } }, event: { d: { b: true } }, expected: true },
  {
    name: 'exact: boolean vs string "true"',
    pattern: { d: { b: [true] } },
    event: { d: { b: 'true' } },
    expected: false,
  },
  {
    name: 'exact: false vs true',
    pattern: { d: { b: [false] } },
    event: { d: { b: true } },
    expected: false,
  },

  // [null] "Matching events on null values and empty strings".
  {
    name: 'null: [""] matches the empty eventVersion',
    pattern: { detail: { eventVersion: [''] } },
    event: detail({ eventVersion: '', responseElements: null }),
    expected: true,
  },
  {
    name: 'null: [null] matches responseElements: null',
    pattern: { detail: { responseElements: [null] } },
    event: detail({ eventVersion: '', responseElements: null }),
    expected: true,
  },
  {
    name: 'null: empty string does not match null',
    pattern: { detail: { responseElements: [''] } },
    event: detail({ eventVersion: '', responseElements: null }),
    expected: false,
  },
  {
    name: 'null: null does not match empty string',
    pattern: { detail: { eventVersion: [null] } },
    event: detail({ eventVersion: '', responseElements: null }),
    expected: false,
  },
  {
    name: 'null: [null] does not match a missing field',
    pattern: { detail: { missing: [null] } },
    event: detail({}),
    expected: false,
  },

  // [arrays] "Arrays in EventBridge event patterns": match when the arrays intersect.
  {
    name: 'arrays: event array with one matching element',
    pattern: {
      resources: [
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
        'arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0',
      ],
    },
    event: ec2Event,
    expected: true,
  },
  {
    name: 'arrays: no common element',
    pattern: { resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f'] },
    event: ec2Event,
    expected: false,
  },
  {
    name: 'arrays: event value array, pattern scalar list',
    pattern: { detail: { state: ['running'] } },
    event: detail({ state: ['initializing', 'running'] }),
    expected: true,
  },
  {
    name: 'arrays: array of objects – a nested field in any element',
    pattern: { detail: { items: { sku: ['B'] } } },
    event: detail({ items: [{ sku: 'A' }, { sku: 'B' }] }),
    expected: true,
  },
  {
    name: 'arrays (ruler): sibling fields must match within the same array element',
    pattern: { detail: { items: { sku: ['A'], qty: [2] } } },
    event: detail({
      items: [
        { sku: 'A', qty: 1 },
        { sku: 'B', qty: 2 },
      ],
    }),
    expected: false,
  },
  {
    name: 'arrays: nested arrays flatten',
    pattern: { d: { v: ['x'] } },
    event: { d: { v: [['a'], ['x']] } },
    expected: true,
  },

  // [filter] "Prefix matching".
  {
    name: 'prefix: time starts with 2017-10-02',
    pattern: { time: [{ prefix: '2017-10-02' }] },
    event: { ...ec2Event, time: '2017-10-02T18:43:48Z' },
    expected: true,
  },
  {
    name: 'prefix: other day',
    pattern: { time: [{ prefix: '2017-10-02' }] },
    event: ec2Event,
    expected: false,
  },
  {
    name: 'prefix: case sensitive',
    pattern: { r: [{ prefix: 'us-' }] },
    event: { r: 'US-east-1' },
    expected: false,
  },
  {
    name: 'prefix (ruler): only strings',
    pattern: { n: [{ prefix: '12' }] },
    event: { n: 123 },
    expected: false,
  },
  // [filter] "Prefix matching while ignoring case".
  {
    name: 'prefix ignore case: EVENTBRIDGE starts with EventB',
    pattern: { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } },
    event: detail({ service: 'EVENTBRIDGE' }),
    expected: true,
  },
  {
    name: 'prefix ignore case: eventbus matches too',
    pattern: { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } },
    event: detail({ service: 'eventbus' }),
    expected: true,
  },
  {
    name: 'prefix ignore case: different prefix',
    pattern: { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } },
    event: detail({ service: 'sqs' }),
    expected: false,
  },

  // [filter] "Suffix matching" / "Suffix matching while ignoring case".
  {
    name: 'suffix: .png',
    pattern: { FileName: [{ suffix: '.png' }] },
    event: { FileName: 'image.png' },
    expected: true,
  },
  {
    name: 'suffix: .PNG is case sensitive',
    pattern: { FileName: [{ suffix: '.png' }] },
    event: { FileName: 'image.PNG' },
    expected: false,
  },
  {
    name: 'suffix ignore case: .PNG',
    pattern: { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } },
    event: detail({ FileName: 'photo.PNG' }),
    expected: true,
  },
  {
    name: 'suffix ignore case: .jpg',
    pattern: { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } },
    event: detail({ FileName: 'photo.jpg' }),
    expected: false,
  },

  // [ops] "Equals (ignore case)".
  {
    name: 'equals-ignore-case: Alice',
    pattern: { Name: [{ 'equals-ignore-case': 'alice' }] },
    event: { Name: 'ALICE' },
    expected: true,
  },
  {
    name: 'equals-ignore-case: not a prefix',
    pattern: { Name: [{ 'equals-ignore-case': 'alice' }] },
    event: { Name: 'Alicia' },
    expected: false,
  },

  // [filter] "Anything-but matching".
  {
    name: 'anything-but: string, other value',
    pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } },
    event: detail({ state: 'running' }),
    expected: true,
  },
  {
    name: 'anything-but: string, the excluded value',
    pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } },
    event: detail({ state: 'initializing' }),
    expected: false,
  },
  {
    name: 'anything-but: number 123',
    pattern: { detail: { 'x-limit': [{ 'anything-but': 123 }] } },
    event: detail({ 'x-limit': 123 }),
    expected: false,
  },
  {
    name: 'anything-but: number, other value',
    pattern: { detail: { 'x-limit': [{ 'anything-but': 123 }] } },
    event: detail({ 'x-limit': 124 }),
    expected: true,
  },
  {
    name: 'anything-but: list of strings, excluded',
    pattern: { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } },
    event: detail({ state: 'overloaded' }),
    expected: false,
  },
  {
    name: 'anything-but: list of strings, other',
    pattern: { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } },
    event: detail({ state: 'running' }),
    expected: true,
  },
  {
    name: 'anything-but: list of numbers, excluded (numerically: 2.0e2)',
    pattern: { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } },
    event: detail({ 'x-limit': 2.0e2 }),
    expected: false,
  },
  {
    name: 'anything-but: list of numbers, other',
    pattern: { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } },
    event: detail({ 'x-limit': 150 }),
    expected: true,
  },
  {
    name: 'anything-but: requires the field to be present',
    pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } },
    event: detail({}),
    expected: false,
  },
  {
    name: 'anything-but (ruler): an array matches when any element is not excluded',
    pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } },
    event: detail({ state: ['initializing', 'running'] }),
    expected: true,
  },
  {
    name: 'anything-but prefix: init excluded',
    pattern: { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } },
    event: detail({ state: 'initializing' }),
    expected: false,
  },
  {
    name: 'anything-but prefix: running passes',
    pattern: { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } },
    event: detail({ state: 'running' }),
    expected: true,
  },
  {
    name: 'anything-but suffix: .png excluded',
    pattern: { detail: { FileName: [{ 'anything-but': { suffix: '.png' } }] } },
    event: detail({ FileName: 'a.png' }),
    expected: false,
  },
  {
    name: 'anything-but suffix: .txt passes',
    pattern: { detail: { FileName: [{ 'anything-but': { suffix: '.png' } }] } },
    event: detail({ FileName: 'a.txt' }),
    expected: true,
  },
  {
    name: 'anything-but ignore case: INITIALIZING excluded',
    pattern: { detail: { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] } },
    event: detail({ state: 'INITIALIZING' }),
    expected: false,
  },
  {
    name: 'anything-but ignore case: list',
    pattern: { detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['stopped', 'overloaded'] } }] } },
    event: detail({ state: 'Running' }),
    expected: true,
  },
  {
    name: 'anything-but wildcard: path with /lib/ excluded',
    pattern: { detail: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] } },
    event: detail({ FilePath: '/usr/lib/node' }),
    expected: false,
  },
  {
    name: 'anything-but wildcard: other path passes',
    pattern: { detail: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] } },
    event: detail({ FilePath: '/usr/bin/node' }),
    expected: true,
  },
  {
    name: 'anything-but wildcard: list',
    pattern: { detail: { FilePath: [{ 'anything-but': { wildcard: ['*/lib/*', '*/bin/*'] } }] } },
    event: detail({ FilePath: '/usr/bin/node' }),
    expected: false,
  },

  // [filter] "Numeric matching".
  ...numericRows(),

  // [filter] "IP address matching".
  {
    name: 'cidr: 10.0.0.0/24 contains 10.0.0.7',
    pattern: { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } },
    event: detail({ sourceIPAddress: '10.0.0.7' }),
    expected: true,
  },
  {
    name: 'cidr: 10.0.0.0/24 excludes 10.0.1.7',
    pattern: { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } },
    event: detail({ sourceIPAddress: '10.0.1.7' }),
    expected: false,
  },
  {
    name: 'cidr: IPv6 2001:db8::/32',
    pattern: { detail: { sourceIPAddress: [{ cidr: '2001:db8::/32' }] } },
    event: detail({ sourceIPAddress: '2001:0db8:85a3::8a2e:370:7334' }),
    expected: true,
  },
  {
    name: 'cidr: IPv6 outside',
    pattern: { detail: { sourceIPAddress: [{ cidr: '2001:db8::/32' }] } },
    event: detail({ sourceIPAddress: '2001:db9::1' }),
    expected: false,
  },
  {
    name: 'cidr: IPv4 address never matches an IPv6 range',
    pattern: { detail: { sourceIPAddress: [{ cidr: '::/0' }] } },
    event: detail({ sourceIPAddress: '10.0.0.1' }),
    expected: false,
  },
  {
    name: 'cidr: not an IP',
    pattern: { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/8' }] } },
    event: detail({ sourceIPAddress: 'localhost' }),
    expected: false,
  },
  {
    name: 'exact IP (ruler): equivalent IPv6 spellings match',
    pattern: { ip: ['2001:db8::1'] },
    event: { ip: '2001:0DB8:0:0:0:0:0:1' },
    expected: true,
  },

  // [filter] "Exists matching": leaf nodes only.
  {
    name: 'exists false: detail.c-count absent',
    pattern: { detail: { 'c-count': [{ exists: false }] } },
    event: detail({ state: ['initializing', 'running'] }),
    expected: true,
  },
  {
    name: 'exists false: c-count is an object, not a leaf, so it still matches',
    pattern: { detail: { 'c-count': [{ exists: false }] } },
    event: detail({ state: ['initializing', 'running'], 'c-count': { c1: 100 } }),
    expected: true,
  },
  {
    name: 'exists false: a present leaf fails',
    pattern: { detail: { 'c-count': [{ exists: false }] } },
    event: detail({ 'c-count': 3 }),
    expected: false,
  },
  {
    name: 'exists true: present leaf',
    pattern: { detail: { state: [{ exists: true }] } },
    event: ec2Event,
    expected: true,
  },
  {
    name: 'exists true: object is not a leaf',
    pattern: { detail: { 'c-count': [{ exists: true }] } },
    event: detail({ 'c-count': { c1: 100 } }),
    expected: false,
  },
  {
    name: 'exists true: null is a present leaf value',
    pattern: { detail: { r: [{ exists: true }] } },
    event: detail({ r: null }),
    expected: true,
  },
  {
    name: 'exists false: whole parent missing',
    pattern: { detail: { deeper: { x: [{ exists: false }] } } },
    event: { source: 'a' },
    expected: true,
  },

  // [ops] "Wildcard".
  {
    name: 'wildcard: event bus ARN in any account',
    pattern: { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] },
    event: { EventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/default' },
    expected: true,
  },
  {
    name: 'wildcard: other region',
    pattern: { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] },
    event: { EventBusArn: 'arn:aws:events:eu-west-1:123456789012:event-bus/default' },
    expected: false,
  },
  {
    name: 'wildcard: * matches empty',
    pattern: { k: [{ wildcard: 'a*b' }] },
    event: { k: 'ab' },
    expected: true,
  },
  {
    name: 'wildcard: dot is literal',
    pattern: { k: [{ wildcard: '*.png' }] },
    event: { k: 'apng' },
    expected: false,
  },
  {
    name: 'wildcard: escaped star is literal',
    pattern: { k: [{ wildcard: 'a\\*b' }] },
    event: { k: 'a*b' },
    expected: true,
  },
  {
    name: 'wildcard: escaped star is not a wildcard',
    pattern: { k: [{ wildcard: 'a\\*b' }] },
    event: { k: 'axb' },
    expected: false,
  },
  {
    name: 'wildcard: escaped backslash',
    pattern: { k: [{ wildcard: 'a\\\\*' }] },
    event: { k: 'a\\zzz' },
    expected: true,
  },
  {
    name: 'wildcard: spans newlines',
    pattern: { k: [{ wildcard: 'a*z' }] },
    event: { k: 'a\nz' },
    expected: true,
  },

  // [filter] "Complex example with multiple matching".
  {
    name: 'complex: prefix + anything-but + numeric all true',
    pattern: complexPattern(),
    event: {
      ...ec2Event,
      time: '2017-10-02T10:00:00Z',
      detail: { state: 'running', 'c-count': 5, 'd-count': 9, 'x-limit': 150 },
    },
    expected: true,
  },
  {
    name: 'complex: one clause false (x-limit 300)',
    pattern: complexPattern(),
    event: {
      ...ec2Event,
      time: '2017-10-02T10:00:00Z',
      detail: { state: 'running', 'c-count': 5, 'd-count': 9, 'x-limit': 300 },
    },
    expected: false,
  },

  // [filter] "Complex example with $or matching".
  {
    name: '$or inside detail: second branch',
    pattern: orNumericPattern(),
    event: detail({ 'c-count': 10, 'd-count': 3 }),
    expected: true,
  },
  {
    name: '$or inside detail: no branch',
    pattern: orNumericPattern(),
    event: detail({ 'c-count': 10, 'd-count': 30, 'x-limit': 301 }),
    expected: false,
  },
  {
    name: '$or at top level with source',
    pattern: {
      source: ['aws.cloudwatch'],
      $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
    },
    event: { source: 'aws.cloudwatch', namespace: 'AWS/ES' },
    expected: true,
  },
  {
    name: '$or at top level: source still required',
    pattern: {
      source: ['aws.cloudwatch'],
      $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
    },
    event: { source: 'aws.ec2', namespace: 'AWS/ES' },
    expected: false,
  },
  {
    name: '$or nested inside a $or branch',
    pattern: {
      $or: [{ a: ['1'] }, { $or: [{ b: ['2'] }, { c: { d: ['3'] } }] }],
    },
    event: { c: { d: '3' } },
    expected: true,
  },
];

function numericRows(): Row[] {
  const pattern = {
    detail: {
      'c-count': [{ numeric: ['>', 0, '<=', 5] }],
      'd-count': [{ numeric: ['<', 10] }],
      'x-limit': [{ numeric: ['=', 3.018e2] }],
    },
  };
  const make = (name: string, d: Record<string, unknown>, expected: boolean): Row => ({
    name: `numeric: ${name}`,
    pattern,
    event: detail(d),
    expected,
  });
  return [
    make('all three clauses true', { 'c-count': 5, 'd-count': 9.99, 'x-limit': 301.8 }, true),
    make('> 0 is open (c-count 0)', { 'c-count': 0, 'd-count': 1, 'x-limit': 301.8 }, false),
    make('<= 5 is closed, 5.000001 fails', { 'c-count': 5.000001, 'd-count': 1, 'x-limit': 301.8 }, false),
    make('< 10 is open (d-count 10)', { 'c-count': 1, 'd-count': 10, 'x-limit': 301.8 }, false),
    make('= 3.018e2 vs 301.80', { 'c-count': 1, 'd-count': 1, 'x-limit': 301.8 }, true),
    make('strings are not numbers', { 'c-count': '1', 'd-count': 1, 'x-limit': 301.8 }, false),
    {
      name: 'numeric: >= lower bound inclusive',
      pattern: { n: [{ numeric: ['>=', -1.5, '<', 0] }] },
      event: { n: -1.5 },
      expected: true,
    },
    {
      name: 'numeric: values beyond +5e9 never match',
      pattern: { n: [{ numeric: ['>', 0] }] },
      event: { n: 6e9 },
      expected: false,
    },
    {
      name: 'numeric: any element of an array',
      pattern: { n: [{ numeric: ['>', 100] }] },
      event: { n: [1, 2, 101] },
      expected: true,
    },
  ];
}

function complexPattern() {
  return {
    time: [{ prefix: '2017-10-02' }],
    detail: {
      state: [{ 'anything-but': 'initializing' }],
      'c-count': [{ numeric: ['>', 0, '<=', 5] }],
      'd-count': [{ numeric: ['<', 10] }],
      'x-limit': [{ 'anything-but': [100, 200, 300] }],
    },
  };
}

function orNumericPattern() {
  return {
    detail: {
      $or: [
        { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] },
        { 'd-count': [{ numeric: ['<', 10] }] },
        { 'x-limit': [{ numeric: ['=', 3.018e2] }] },
      ],
    },
  };
}

// Patterns EventBridge refuses (PutRule/TestEventPattern → InvalidEventPatternException); the
// message fragments are event-ruler's, the path is ours.
const invalid: Array<{ name: string; pattern: unknown; path: string; message: RegExp }> = [
  { name: 'pattern not an object', pattern: ['a'], path: '$', message: /not an object/ },
  { name: 'empty pattern', pattern: {}, path: '$', message: /Empty objects/ },
  { name: 'empty nested object', pattern: { detail: {} }, path: '$.detail', message: /Empty objects/ },
  {
    name: 'leaf not in an array',
    pattern: { source: 'aws.ec2' },
    path: '$.source',
    message: /must be an object or an array/,
  },
  {
    name: 'numeric leaf not in an array',
    pattern: { detail: { n: 5 } },
    path: '$.detail.n',
    message: /object or an array/,
  },
  { name: 'empty match array', pattern: { source: [] }, path: '$.source', message: /Empty arrays/ },
  {
    name: 'nested array as value',
    pattern: { source: [['a']] },
    path: '$.source[0]',
    message: /Match value must be/,
  },
  {
    name: 'unknown operator',
    pattern: { s: [{ contains: 'x' }] },
    path: '$.s[0]',
    message: /Unrecognized match type contains/,
  },
  {
    name: 'two operators in one expression',
    pattern: { s: [{ prefix: 'a', suffix: 'b' }] },
    path: '$.s[0]',
    message: /Only one key/,
  },
  { name: 'empty match expression', pattern: { s: [{}] }, path: '$.s[0]', message: /name not found/ },
  {
    name: 'prefix not a string',
    pattern: { s: [{ prefix: 1 }] },
    path: '$.s[0].prefix',
    message: /must be a string/,
  },
  {
    name: 'prefix with unsupported nested operator',
    pattern: { s: [{ prefix: { wildcard: 'a' } }] },
    path: '$.s[0].prefix',
    message: /Unsupported prefix pattern/,
  },
  {
    name: 'numeric not an array',
    pattern: { n: [{ numeric: 5 }] },
    path: '$.n[0].numeric',
    message: /must be an array/,
  },
  {
    name: 'numeric bad operator',
    pattern: { n: [{ numeric: ['!=', 5] }] },
    path: '$.n[0].numeric[0]',
    message: /Unrecognized numeric range operator/,
  },
  {
    name: 'numeric non-number operand',
    pattern: { n: [{ numeric: ['>', '5'] }] },
    path: '$.n[0].numeric[1]',
    message: /must be numeric/,
  },
  {
    name: 'numeric second bound must be < or <=',
    pattern: { n: [{ numeric: ['>', 0, '>', 5] }] },
    path: '$.n[0].numeric[2]',
    message: /Bad numeric range operator/,
  },
  {
    name: 'numeric < cannot take a second bound',
    pattern: { n: [{ numeric: ['<', 5, '>', 0] }] },
    path: '$.n[0].numeric',
    message: /Too many elements/,
  },
  {
    name: 'numeric bottom above top',
    pattern: { n: [{ numeric: ['>', 10, '<', 5] }] },
    path: '$.n[0].numeric',
    message: /Bottom must be less than top/,
  },
  {
    name: 'numeric out of range',
    pattern: { n: [{ numeric: ['<', 6e9] }] },
    path: '$.n[0].numeric[1]',
    message: /between/,
  },
  {
    name: 'numeric more than 6 decimals',
    pattern: { n: [{ numeric: ['=', 0.1234567] }] },
    path: '$.n[0].numeric[1]',
    message: /6 decimals/,
  },
  {
    name: 'exists non-boolean',
    pattern: { e: [{ exists: 'true' }] },
    path: '$.e[0].exists',
    message: /either true or false/,
  },
  {
    name: 'anything-but mixed list',
    pattern: { a: [{ 'anything-but': ['a', 1] }] },
    path: '$.a[0]["anything-but"]',
    message: /mixed type/,
  },
  {
    name: 'anything-but with null',
    pattern: { a: [{ 'anything-but': [null] }] },
    path: '$.a[0]["anything-but"][0]',
    message: /not supported/,
  },
  {
    name: 'anything-but boolean',
    pattern: { a: [{ 'anything-but': true }] },
    path: '$.a[0]["anything-but"]',
    message: /must be an array or single string\/number/,
  },
  {
    name: 'anything-but unsupported nested operator',
    pattern: { a: [{ 'anything-but': { numeric: ['>', 1] } }] },
    path: '$.a[0]["anything-but"]',
    message: /Unsupported anything-but pattern: numeric/,
  },
  {
    name: 'anything-but empty prefix',
    pattern: { a: [{ 'anything-but': { prefix: '' } }] },
    path: '$.a[0]["anything-but"].prefix',
    message: /Null prefix\/suffix not allowed/,
  },
  {
    name: 'wildcard consecutive stars',
    pattern: { k: [{ wildcard: 'a**b' }] },
    path: '$.k[0].wildcard',
    message: /Consecutive wildcard characters at pos 1/,
  },
  {
    name: 'wildcard invalid escape',
    pattern: { k: [{ wildcard: 'a\\b' }] },
    path: '$.k[0].wildcard',
    message: /Invalid escape character at pos 1/,
  },
  {
    name: 'anything-but wildcard consecutive stars',
    pattern: { k: [{ 'anything-but': { wildcard: ['ok*', '**'] } }] },
    path: '$.k[0]["anything-but"].wildcard[1]',
    message: /Consecutive wildcard/,
  },
  {
    name: 'cidr without prefix length',
    pattern: { ip: [{ cidr: '10.0.0.1' }] },
    path: '$.ip[0].cidr',
    message: /one '\/' required/,
  },
  {
    name: 'cidr bad address',
    pattern: { ip: [{ cidr: '10.0.0.300/24' }] },
    path: '$.ip[0].cidr',
    message: /Invalid IP/,
  },
  {
    name: 'cidr bad mask',
    pattern: { ip: [{ cidr: '10.0.0.0/33' }] },
    path: '$.ip[0].cidr',
    message: /prefix length/,
  },
  { name: '$or not an array', pattern: { $or: { a: ['1'] } }, path: '$.$or', message: /must be an Array/ },
  {
    name: '$or with one branch',
    pattern: { $or: [{ a: ['1'] }] },
    path: '$.$or',
    message: /at least 2 Objects/,
  },
  {
    name: '$or with a non-object branch',
    pattern: { $or: [{ a: ['1'] }, ['b']] },
    path: '$.$or[1]',
    message: /Only JSON object/,
  },
  { name: 'invalid JSON text', pattern: '{"source": [', path: '$', message: /not valid JSON/ },
];

describe('matchesEventPattern (EventBridge documentation conformance)', () => {
  it.each(rows)('$name → $expected', ({ pattern, event, expected }) => {
    expect(matchesEventPattern(pattern, event)).toBe(expected);
  });

  it('accepts the pattern as JSON text, as PutRule does', () => {
    expect(matchesEventPattern('{"source":["aws.ec2"]}', ec2Event)).toBe(true);
  });

  it('never matches a non-object event', () => {
    expect(matchesEventPattern({ source: ['aws.ec2'] }, 'aws.ec2')).toBe(false);
    expect(matchesEventPattern({ source: [{ exists: false }] }, null)).toBe(true);
  });
});

describe('validateEventPattern', () => {
  it.each(invalid)('rejects: $name', ({ pattern, path, message }) => {
    let error: unknown;
    try {
      validateEventPattern(pattern);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidEventPatternError);
    const invalidError = error as InvalidEventPatternError;
    expect(invalidError.path).toBe(path);
    expect(invalidError.message).toMatch(message);
    expect(invalidError.message).toContain(path);
  });

  it('returns every documented example pattern unchanged', () => {
    for (const { pattern } of rows) expect(validateEventPattern(pattern)).toBe(pattern);
  });

  it('also rejects through compileEventPattern and matchesEventPattern', () => {
    expect(() => compileEventPattern({ source: 'x' })).toThrow(InvalidEventPatternError);
    expect(() => matchesEventPattern({ source: [] }, {})).toThrow(InvalidEventPatternError);
  });
});

describe('compileEventPattern', () => {
  it('compiles once and matches many events', () => {
    const match = compileEventPattern(complexPattern());
    const base = {
      time: '2017-10-02T00:00:00Z',
      detail: { state: 'running', 'c-count': 1, 'd-count': 1, 'x-limit': 1 },
    };
    expect(match(base)).toBe(true);
    expect(match({ ...base, detail: { ...base.detail, state: 'initializing' } })).toBe(false);
    expect(match({ ...base, time: '2017-10-03T00:00:00Z' })).toBe(false);
  });
});
