import { afterEach, describe, expect, it, vi } from 'vitest';
import { TransactionCanceledException } from '#lib/adapters/dynamodb/client/errors.js';
import { cancelledByConditions } from '#lib/adapters/dynamodb/ops-store.js';
import { EvaluationInProgressError, PublishError } from '#lib/engine/errors.js';
import { decideApproval, didYouMean, OpsConflictError, OpsService } from '#lib/engine/ops.js';
import type { OpsSignalItem, OpsStore } from '#lib/engine/ports.js';
import { principalOf } from '#lib/engine/principal.js';
import { OPS_ERROR_STATUS } from '#lib/handlers/ops-handler.js';
import { DimensionedCounts, logger, metrics, observeInvocation } from '#lib/observability.js';

const NOW = Date.parse('2025-03-10T21:00:00Z');

describe('principalOf', () => {
  it('drops the session name of an assumed role', () => {
    expect(principalOf('arn:aws:sts::123456789012:assumed-role/ops/alice-1')).toBe(
      'arn:aws:iam::123456789012:role/ops',
    );
    expect(principalOf('arn:aws-us-gov:sts::123456789012:assumed-role/ops/x/y')).toBe(
      'arn:aws-us-gov:iam::123456789012:role/ops',
    );
  });

  it('keeps users and local actors as they are, and prefers the source identity when known', () => {
    expect(principalOf('arn:aws:iam::123456789012:user/alice')).toBe('arn:aws:iam::123456789012:user/alice');
    expect(principalOf('local:alice')).toBe('local:alice');
    expect(principalOf('arn:aws:sts::123456789012:assumed-role/ops/s1', 'alice@example.com')).toBe(
      'sts:source-identity/alice@example.com',
    );
  });
});

describe('decideApproval (four eyes)', () => {
  const item = {
    signal_id: 'sig-1',
    approval: {
      timeout_sec: 600,
      default: 'emit' as const,
      four_eyes: true,
      deadline: '2025-03-10T22:00:00Z',
    },
    approvals: [{ actor: 'arn:aws:sts::123456789012:assumed-role/ops/alice', at: 'x', reason: 'r' }],
  };

  it('refuses another session of the same role, even for an entry stored without a principal', () => {
    expect(() =>
      decideApproval(item, {
        actor: 'arn:aws:sts::123456789012:assumed-role/ops/alice-2',
        at: 'y',
        reason: 'r',
      }),
    ).toThrow(OpsConflictError);
  });

  it('accepts a different role as the second approver', () => {
    const out = decideApproval(item, {
      actor: 'arn:aws:sts::123456789012:assumed-role/lead/bob',
      at: 'y',
      reason: 'r',
    });
    expect(out.kind).toBe('approved');
  });
});

describe('OpsService.approve after the deadline', () => {
  it('refuses the approval and changes nothing', async () => {
    const signal = {
      signal_id: 'sig-late',
      world_id: 'w',
      status: 'proposed',
      approval: {
        timeout_sec: 60,
        default: 'drop',
        four_eyes: false,
        deadline: new Date(NOW - 1).toISOString(),
      },
    } as OpsSignalItem;
    const transitionSignal = vi.fn(async () => true);
    // A stand-in store: the refusal happens before any write, which is what this test pins down.
    const store = { getSignal: async () => signal, transitionSignal } as unknown as OpsStore;
    const ops = new OpsService({
      store,
      catalog: { ruleSet: () => undefined, strategies: async () => undefined },
      publisher: { publish: vi.fn() },
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      metrics: { count: () => undefined, measure: () => undefined },
      engineVersion: 'test',
      leaseMs: 1_000,
      auditRetentionDays: 1,
    });
    await expect(ops.approve('sig-late', { actor: 'alice', reason: 'too late', nowMs: NOW })).rejects.toThrow(
      /approval deadline passed/,
    );
    expect(transitionSignal).not.toHaveBeenCalled();
  });
});

describe('didYouMean', () => {
  it('suggests the closest name for a typo and nothing for a stranger', () => {
    expect(didYouMean('var_99_limt', ['var_99_limit', 'es_limit'])).toBe('var_99_limit');
    expect(didYouMean('completely_else', ['var_99_limit', 'es_limit'])).toBeUndefined();
  });
});

describe('cancelledByConditions', () => {
  const cancelled = (...codes: string[]) =>
    new TransactionCanceledException({
      code: 'TransactionCanceledException',
      message: 'cancelled',
      status: 400,
      fields: { CancellationReasons: codes.map((Code) => ({ Code })) },
    });

  it('is true only when the named items failed their conditions', () => {
    expect(cancelledByConditions(cancelled('ConditionalCheckFailed', 'None'), [0])).toBe(true);
    expect(cancelledByConditions(cancelled('None', 'ConditionalCheckFailed'), [0])).toBe(false);
  });

  it('is false for a throttle or a conflict with another transaction', () => {
    expect(cancelledByConditions(cancelled('ThrottlingError', 'None'), [0])).toBe(false);
    expect(cancelledByConditions(cancelled('TransactionConflict', 'None'), [0])).toBe(false);
    expect(cancelledByConditions(cancelled('ConditionalCheckFailed', 'ThrottlingError'), [0])).toBe(false);
  });
});

describe('ops error kinds', () => {
  it('map to the HTTP statuses the function URL answers with', () => {
    expect(OPS_ERROR_STATUS).toEqual({ invalid: 400, not_found: 404, conflict: 409 });
  });
});

describe('metrics', () => {
  afterEach(() => vi.restoreAllMocks());

  it('moves the world out of the dimensions by default and sums counts per dimension set', () => {
    const singles: { dims: Record<string, string>; values: [string, number][] }[] = [];
    vi.spyOn(metrics, 'singleMetric').mockImplementation(() => {
      const entry = { dims: {} as Record<string, string>, values: [] as [string, number][] };
      singles.push(entry);
      return {
        addDimensions: (d: Record<string, string>) => void Object.assign(entry.dims, d),
        addMetric: (name: string, _unit: unknown, value: number) => void entry.values.push([name, value]),
      } as never;
    });
    const metadata = vi.spyOn(metrics, 'addMetadata').mockImplementation(() => metrics);
    const counts = new DimensionedCounts();
    for (let i = 0; i < 20; i++)
      counts.add('SignalsEmitted', 1, { world: `w-${i % 3}`, reason: 'var_limit' });
    counts.add('SignalsEmitted', 1, { world: 'w-0', reason: 'drawdown' });
    counts.flush();
    expect(singles).toEqual([
      { dims: { reason: 'var_limit' }, values: [['SignalsEmitted', 20]] },
      { dims: { reason: 'drawdown' }, values: [['SignalsEmitted', 1]] },
    ]);
    expect(metadata).toHaveBeenCalledWith('world_ids', 'w-0,w-1,w-2');
  });

  it('keeps the world dimension when per-world metrics are on', () => {
    const dims: Record<string, string>[] = [];
    vi.spyOn(metrics, 'singleMetric').mockImplementation(
      () =>
        ({
          addDimensions: (d: Record<string, string>) => void dims.push(d),
          addMetric: () => undefined,
        }) as never,
    );
    const counts = new DimensionedCounts();
    counts.perWorld = true;
    counts.add('SignalsEmitted', 1, { world: 'w-a', reason: 'r' });
    counts.flush();
    expect(dims).toEqual([{ world: 'w-a', reason: 'r' }]);
  });

  it('counts an unexpected failure, and not a designed retry', () => {
    const added: string[] = [];
    vi.spyOn(metrics, 'addMetric').mockImplementation((name: string) => {
      added.push(name);
      return metrics;
    });
    vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const middleware = observeInvocation();
    const request = (error: Error) => ({ error }) as never;
    middleware.onError?.(request(new EvaluationInProgressError('busy')));
    expect(added).toEqual([]);
    middleware.onError?.(request(new PublishError('throttled', [])));
    expect(added).toEqual(['UnexpectedFailures']);
  });
});
