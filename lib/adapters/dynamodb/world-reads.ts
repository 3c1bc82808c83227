import type { EpisodeState } from '#lib/engine/episodes.js';
import {
  type ApprovedCut,
  activeMutes,
  approvedCutOf,
  isApprovedCut,
  type Mute,
} from '#lib/engine/evaluate.js';
import type { ListedWorld } from '#lib/engine/ports.js';
import { approvedCutMarkers } from './approved-cut-items.js';
import type { DynamoDocumentClient } from './client/document-client.js';
import { queryAll } from './document.js';
import { EpisodeLog } from './episode-log.js';
import { worldPk } from './outbox-items.js';
import { fromStoredRow } from './signal-rows.js';
import { SIGNALS_BY_WORLD_INDEX } from './tables.js';

/** What an evaluation reads of its world before it runs: the worlds known, episodes, mutes, approved cuts. */

const WORLDS_PK = 'WORLDS';

/**
 * The world registry (`WORLDS`/<world id>, written by latest-snapshot-items.ts), each world with the
 * `body_kept` its latest record had when it was registered or last changed: one query over items of
 * a few dozen bytes, which both listings share.
 */
export async function listWorldsForMarket(doc: DynamoDocumentClient, table: string): Promise<ListedWorld[]> {
  const items = await queryAll(doc, {
    TableName: table,
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': WORLDS_PK },
  });
  return items
    .map((i) => {
      const world_id = String(i.sk);
      return i.body_kept === 'weights' || i.body_kept === 'positions'
        ? { world_id, body_kept: i.body_kept as 'weights' | 'positions' }
        : { world_id };
    })
    .sort((a, b) => (a.world_id < b.world_id ? -1 : a.world_id > b.world_id ? 1 : 0));
}

export async function listWorlds(doc: DynamoDocumentClient, table: string): Promise<string[]> {
  return (await listWorldsForMarket(doc, table)).map((w) => w.world_id);
}

export async function loadEpisodes(
  doc: DynamoDocumentClient,
  table: string,
  worldId: string,
): Promise<Map<string, EpisodeState>> {
  // A large commit decided but not yet rolled forward is finished first (episode-log.ts); a lock
  // merely held changes nothing a reader sees.
  await new EpisodeLog(doc, table).rollForwardIfCommitted(worldId);
  const items = await queryAll(doc, {
    TableName: table,
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: { ':pk': worldPk(worldId), ':prefix': 'EPISODE#' },
    ConsistentRead: true,
  });
  const map = new Map<string, EpisodeState>();
  for (const item of items) {
    const { pk: _pk, sk, world_id: _w, ...state } = item;
    map.set(String(sk).slice('EPISODE#'.length), state as unknown as EpisodeState);
  }
  return map;
}

export async function loadMutes(doc: DynamoDocumentClient, table: string, worldId: string): Promise<Mute[]> {
  const items = await queryAll(doc, {
    TableName: table,
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: { ':pk': worldPk(worldId), ':prefix': 'MUTE#' },
    ConsistentRead: true,
  });
  return activeMutes(items as unknown as (Mute & { ended_at?: string })[]);
}

export async function loadApprovedCuts(
  doc: DynamoDocumentClient,
  tables: { signals: string; state: string },
  worldId: string,
  since: string,
): Promise<ApprovedCut[]> {
  const [items, markers] = await Promise.all([
    queryAll(doc, {
      TableName: tables.signals,
      IndexName: SIGNALS_BY_WORLD_INDEX,
      KeyConditionExpression: 'world_id = :w AND emitted_at >= :since',
      FilterExpression: '#mode = :approval',
      ExpressionAttributeNames: { '#mode': 'mode' },
      ExpressionAttributeValues: { ':w': worldId, ':since': since, ':approval': 'approval' },
    }),
    // The index lags writes; an approval's marker does not (approved-cut-items.ts).
    approvedCutMarkers(doc, tables.state, worldId, since),
  ]);
  const cuts = new Map<string, ApprovedCut>();
  for (const i of items.map(fromStoredRow)) {
    if (!isApprovedCut(i as { mode: string; status: string; action: string })) continue;
    cuts.set(String(i.signal_id), approvedCutOf(i));
  }
  for (const { signal_id, ...cut } of markers) if (!cuts.has(signal_id)) cuts.set(signal_id, cut);
  return [...cuts.values()];
}
