import { describe, expect, it } from 'vitest';
import { formatSpan, table } from '#lib/cli/commands/ops.js';
import { findMute } from '#lib/engine/evaluate.js';
import {
  decideApproval,
  hasSelectors,
  muteId,
  muteState,
  OpsConflictError,
  OpsValidationError,
  parseDuration,
  parseTime,
} from '#lib/engine/ops.js';
import type { MuteRecord } from '#lib/engine/ports.js';

const NOW = Date.parse('2025-03-10T21:00:00Z');

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['15m', 900_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1w', 604_800_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    [' 2H ', 7_200_000],
  ])('reads %s', (raw, ms) => {
    expect(parseDuration(raw)).toBe(ms);
  });

  it.each(['2x', 'h', '', '2 h', '-1h', 'yesterday', '0m'])('refuses %j naming the flag', (raw) => {
    expect(() => parseDuration(raw, 'for')).toThrow(OpsValidationError);
    expect(() => parseDuration(raw, 'for')).toThrow(/^for: /);
  });
});

describe('parseTime', () => {
  it('reads ISO date-times, dates, now and durations ago', () => {
    expect(parseTime('2025-03-10T22:00:00Z', NOW, 'until')).toBe(Date.parse('2025-03-10T22:00:00Z'));
    expect(parseTime('2025-03-10T22:00:00+01:00', NOW, 'until')).toBe(Date.parse('2025-03-10T21:00:00Z'));
    expect(parseTime('2025-03-09', NOW, 'since')).toBe(Date.parse('2025-03-09T00:00:00Z'));
    expect(parseTime('now', NOW, 'since')).toBe(NOW);
    expect(parseTime('2h', NOW, 'since')).toBe(NOW - 7_200_000);
  });

  it.each(['yesterdayish', '2025-13-45', '10/03/2025', '2025-03-10T25:00:00Z', '2x'])(
    'refuses %j with a message naming the flag',
    (raw) => {
      expect(() => parseTime(raw, NOW, 'since')).toThrow(/^since: /);
    },
  );

  it.each([
    ['2025-02-30', /^since: '2025-02-30' is not a real date: 2025-02 has no day 30 \(it has 28\)$/],
    ['2025-02-29T12:00:00Z', /has no day 29 \(it has 28\)/],
    ['2025-04-31', /2025-04 has no day 31 \(it has 30\)/],
    ['2025-03-10T24:00:00Z', /^since: .* the time of day is out of range$/],
    ['2025-03-10T23:60:00Z', /the time of day is out of range/],
    ['2025-00-10', /month 00 does not exist/],
  ])('refuses the impossible date %j instead of rolling it over, naming the field', (raw, message) => {
    expect(() => parseTime(raw, NOW, 'since')).toThrow(OpsValidationError);
    expect(() => parseTime(raw, NOW, 'since')).toThrow(message);
  });

  it('keeps real calendar edges: a leap day, the last day of a month', () => {
    expect(parseTime('2024-02-29', NOW, 'since')).toBe(Date.parse('2024-02-29T00:00:00Z'));
    expect(parseTime('2025-04-30T23:59:59Z', NOW, 'since')).toBe(Date.parse('2025-04-30T23:59:59Z'));
  });
});

describe('decideApproval (four eyes)', () => {
  const entry = (actor: string) => ({ actor, at: '2025-03-10T21:01:00.000Z', reason: 'ok' });
  const approval = (four_eyes: boolean) => ({
    timeout_sec: 600,
    default: 'emit' as const,
    four_eyes,
    deadline: '2025-03-10T21:10:00.000Z',
  });

  it('approves at once without four eyes', () => {
    const d = decideApproval({ signal_id: 's', approval: approval(false) }, entry('alice'));
    expect(d.kind).toBe('approved');
    expect(d.approvals.map((a) => a.actor)).toEqual(['alice']);
  });

  it('records the first of two approvals, then approves on a different second actor', () => {
    const first = decideApproval({ signal_id: 's', approval: approval(true) }, entry('alice'));
    expect(first.kind).toBe('first_of_two');
    const second = decideApproval(
      { signal_id: 's', approval: approval(true), approvals: first.approvals },
      entry('bob'),
    );
    expect(second.kind).toBe('approved');
    expect(second.approvals.map((a) => a.actor)).toEqual(['alice', 'bob']);
  });

  it('refuses the same actor twice with a clear error', () => {
    const first = decideApproval({ signal_id: 's', approval: approval(true) }, entry('alice'));
    const again = () =>
      decideApproval(
        { signal_id: 's', approval: approval(true), approvals: first.approvals },
        entry('alice'),
      );
    expect(again).toThrow(OpsConflictError);
    expect(again).toThrow(/two different approvers.*alice has already approved/);
  });
});

describe('mutes', () => {
  const mute = (over: Partial<MuteRecord> = {}): MuteRecord => ({
    mute_id: 'm1',
    world_id: 'w',
    until: '2025-03-10T23:00:00.000Z',
    reason: 'maintenance',
    actor: 'alice',
    created_at: '2025-03-10T21:00:00.000Z',
    ...over,
  });

  it('derives the same id for the same request and a different one otherwise', () => {
    const req = { world: 'w', rule: 'var', until: '2025-03-10T23:00:00.000Z', reason: 'r', actor: 'a' };
    expect(muteId(req)).toBe(muteId({ ...req }));
    expect(muteId(req)).toMatch(/^mute-[0-9a-f]{12}$/);
    expect(muteId({ ...req, rule: undefined })).not.toBe(muteId(req));
    expect(muteId({ ...req, strategy: 'alpha' })).not.toBe(muteId(req));
  });

  it('matches selectors exactly (absent = all)', () => {
    expect(hasSelectors(mute(), undefined, undefined)).toBe(true);
    expect(hasSelectors(mute({ rule_id: 'var' }), undefined, 'var')).toBe(true);
    expect(hasSelectors(mute({ rule_id: 'var' }), undefined, undefined)).toBe(false);
    expect(hasSelectors(mute({ strategy_id: 'alpha' }), 'alpha', undefined)).toBe(true);
    expect(hasSelectors(mute({ strategy_id: 'alpha' }), 'beta', undefined)).toBe(false);
  });

  it('is active until its time, then expired; ended once unmuted', () => {
    expect(muteState(mute(), NOW)).toBe('active');
    expect(muteState(mute(), Date.parse('2025-03-10T23:00:00Z'))).toBe('expired');
    expect(muteState(mute({ ended_at: '2025-03-10T21:30:00.000Z' }), NOW)).toBe('ended');
  });

  it('covers a breach by world, strategy and rule until it ends (findMute)', () => {
    const all = mute();
    const alphaOnly = mute({ mute_id: 'm2', strategy_id: 'alpha', until: '2025-03-11T00:00:00.000Z' });
    const otherRule = mute({ mute_id: 'm3', rule_id: 'es' });
    const mutes = [all, alphaOnly, otherRule];
    expect(findMute(mutes, 'w', 'alpha', 'var', NOW)?.mute_id).toBe('m2'); // the latest-ending one
    expect(findMute(mutes, 'w', 'beta', 'var', NOW)?.mute_id).toBe('m1');
    expect(findMute(mutes, 'other-world', 'beta', 'var', NOW)).toBeUndefined();
    expect(findMute([otherRule], 'w', 'beta', 'var', NOW)).toBeUndefined();
    expect(findMute(mutes, 'w', 'beta', 'var', Date.parse('2025-03-10T23:00:00Z'))).toBeUndefined();
  });
});

describe('ops CLI formatting', () => {
  it('shows time left, and overdue past the deadline', () => {
    expect(formatSpan(42_000)).toBe('42s');
    expect(formatSpan(9 * 60_000 + 5_000)).toBe('9m 05s');
    expect(formatSpan(2 * 3_600_000 + 60_000)).toBe('2h 01m');
    expect(formatSpan(-3 * 60_000)).toBe('overdue 3m 00s');
  });

  it('pads a table', () => {
    expect(table(['A', 'BB'], [['xxx', 'y']])).toBe('A    BB\nxxx  y');
  });
});
