import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { controlbusToStream } from '#lib/cli/commands/local.js';
import { bridgeRecord, type PipeKafkaRecord } from '#lib/controlbus/pipe-definition.js';

const records = readFileSync('test/fixtures/upstream/controlbus.jsonl', 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as PipeKafkaRecord);
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64');

describe('bridgeRecord (the ControlBus pipe, applied locally)', () => {
  it("makes the record value's CloudEvent the detail, its type the detail-type, its source and time the event's", () => {
    const first = records[0]!;
    const cloudEvent = JSON.parse(Buffer.from(first.value, 'base64').toString('utf8'));
    const out = bridgeRecord(first);
    expect(out).toEqual({
      kind: 'entry',
      entry: {
        Source: 'qmtl.services.worldservice',
        DetailType: 'risk_snapshot_updated',
        Detail: JSON.stringify(cloudEvent),
        Time: new Date(cloudEvent.time),
      },
    });
  });

  it("filters out the topic's other event types and non-JSON values", () => {
    const policy = records.find((r) =>
      Buffer.from(r.value, 'base64').toString().includes('"policy_updated"'),
    )!;
    expect(bridgeRecord(policy)).toEqual({ kind: 'filtered', reason: 'type "policy_updated"' });
    expect(bridgeRecord({ ...policy, value: b64('not json') }).kind).toBe('filtered');
  });

  it('says what is wrong with a record it cannot pass on', () => {
    expect(bridgeRecord({ ...records[0]!, value: b64({ type: 'risk_snapshot_updated' }) })).toEqual({
      kind: 'invalid',
      reason: 'value.source: missing (the CloudEvent names its source)',
    });
  });

  it('turns a ControlBus file into a stream with the same line numbers', () => {
    const printed: string[] = [];
    const lines = controlbusToStream(readFileSync('test/fixtures/upstream/controlbus.jsonl', 'utf8'), (l) =>
      printed.push(l),
    ).split('\n');
    expect(JSON.parse(lines[0]!)['detail-type']).toBe('risk_snapshot_updated');
    expect(lines[9]).toBe('');
    expect(printed).toEqual(['line 10:  FILTERED by the pipe (type "policy_updated"): not a hub snapshot']);
  });
});
