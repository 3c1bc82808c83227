import { describe, expect, it } from 'vitest';
import { UsageError } from '#lib/cli/args.js';
import { loopbackUrl } from '#lib/cli/commands/local.js';
import { describeForGateway, parseDelivery } from '../../../examples/gateway-consumer.js';

describe('loopbackUrl (--forward)', () => {
  it.each(['http://127.0.0.1:8787/x', 'http://localhost:1/', 'http://[::1]:9/', 'https://127.0.0.2/'])(
    'accepts %s',
    (raw) => {
      expect(loopbackUrl(raw).href).toBe(new URL(raw).href);
    },
  );

  it.each([
    'http://example.com/x',
    'http://10.0.0.1/',
    'ftp://127.0.0.1/',
    'not a url',
    'http://127.0.0.1.evil.com/',
  ])('refuses %s with a message', (raw) => {
    expect(() => loopbackUrl(raw)).toThrow(UsageError);
    expect(() => loopbackUrl(raw)).toThrow(/^--forward: /);
  });
});

describe('gateway consumer', () => {
  const event = {
    specversion: '1.0',
    id: 'e1',
    source: 'qmtl.services.exit_engine',
    type: 'exit_signal_emitted',
    time: '2025-03-10T21:00:10Z',
    datacontenttype: 'application/json',
    correlation_id: 'c',
    data: {
      world_id: 'trend-world',
      as_of: '2025-03-10T21:00:00Z',
      snapshot_version: 'v12',
      event_version: 1,
      idempotency_key: 'exit_signal_emitted:trend-world:v12:1:abc',
      signals: [
        {
          strategy_id: 'trend_es',
          action: 'reduce',
          reduction_ratio: 0.413,
          reason: 'var_limit_breach',
          metrics: { rule_id: 'var_99_limit' },
          tags: ['rule:var_99_limit', 'approved_by:alice'],
        },
        { strategy_id: 'carry', action: 'exit', reduction_ratio: 1, tags: ['rule:stress'] },
      ],
    },
  };

  it('says what a gateway would do, per signal', () => {
    const parsed = parseDelivery(JSON.stringify({ 'detail-type': 'exit_signal_emitted', detail: event }));
    expect('event' in parsed).toBe(true);
    const lines = describeForGateway((parsed as { event: never }).event);
    expect(lines[0]).toContain('reduce trend_es by 41.3% (var_99_limit) approved by alice');
    expect(lines[1]).toContain('exit carry fully (stress)');
  });

  it('refuses an invalid message naming the field', () => {
    const bad = {
      detail: { ...event, data: { ...event.data, signals: [{ strategy_id: 'x', action: 'sell' }] } },
    };
    const parsed = parseDelivery(JSON.stringify(bad));
    expect(parsed).toMatchObject({ error: expect.stringContaining('data.signals[0].action') });
    expect(parseDelivery('nope')).toEqual({ error: 'body is not JSON' });
  });
});
