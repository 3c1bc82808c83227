import { describe, expect, it } from 'vitest';
import { inputShape, MAX_EVENT_BYTES, oversizeReason, rawFacts } from '#lib/app/edge.js';

describe('edge validation shared by the handlers, replay and the local stack', () => {
  describe('rawFacts', () => {
    it('reads id, time and world from an EventBridge event, a CloudEvent or a bare snapshot', () => {
      expect(
        rawFacts({ id: 'eb-1', time: '2025-03-10T21:00:00Z', detail: { data: { world_id: 'w1' } } }),
      ).toEqual({ id: 'eb-1', time: '2025-03-10T21:00:00Z', worldId: 'w1' });
      expect(rawFacts({ specversion: '1.0', id: 'ce-1', data: { world_id: 'w2' } })).toEqual({
        id: 'ce-1',
        worldId: 'w2',
      });
      expect(rawFacts({ world_id: 'w3', weights: {} })).toEqual({ worldId: 'w3' });
    });

    it('reads nothing it cannot trust: non-strings, empty worlds, a detail that is a string', () => {
      expect(rawFacts({ id: 7, time: null, detail: { data: { world_id: '' } } })).toEqual({});
      expect(rawFacts({ detail: '{"world_id": "w-string"' })).toEqual({});
      expect(rawFacts(null)).toEqual({});
    });
  });

  it('names the size of a detail over the EventBridge limit, and passes one that fits', () => {
    expect(oversizeReason({ a: 'x' })).toBeUndefined();
    expect(oversizeReason({ a: 'x'.repeat(MAX_EVENT_BYTES) })).toMatch(
      /^detail: \d+ bytes, over EventBridge's 262144-byte limit/,
    );
  });

  it('tells the accepted input shapes apart', () => {
    expect(inputShape({ 'detail-type': 'x', detail: {} })).toBe('eventbridge');
    expect(inputShape({ specversion: '1.0', data: {} })).toBe('cloudevent');
    expect(inputShape({ weights: {} })).toBe('snapshot');
    expect(inputShape([1])).toBe('unknown');
  });
});
