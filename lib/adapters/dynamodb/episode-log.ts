import type { BatchGetCommandOutput, TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import type { EpisodeState } from '#lib/engine/episodes.js';
import { BatchGetCommand, DeleteCommand, GetCommand, PutCommand } from './client/commands.js';
import type { DynamoDocumentClient } from './client/document-client.js';
import { ignoringConditionFailure, queryAll } from './document.js';
import { worldPk } from './outbox-items.js';
import { toStorable } from './storable.js';

type BatchGetOutput = Omit<BatchGetCommandOutput, '$metadata'>;

/**
 * Episode changes too many for one transaction (DynamoDB takes 100 items): a world-level lock plus
 * a roll-forward log, so an evaluation changing 1,000 episodes commits as atomically as one
 * changing three.
 *
 * Every commit that changes episodes goes through the world's lock item (`EPISODES#LOCK`):
 * - a small commit (everything fits one transaction) carries a conditional *delete* of the lock in
 *   its transaction: it commits only while no lock is held, and breaks a lock whose lease ran out
 *   (so a slow large committer can never commit after it);
 * - a large commit, for evaluation E by owner O:
 *   1. takes the lock (absent, lease run out, or held by an earlier attempt of E itself);
 *   2. checks the versions of every episode it changes (consistent reads: with the lock held, no
 *      one else can change them any more);
 *   3. stages the new episode states under `EVAL#E#EPISODES#O#nnnn`, invisible to readers;
 *   4. commits in ONE transaction: the claim → completed with its outbox, the LATEST guard, the
 *      audit record and the lock → `committed` (naming E, O and the number of staged chunks).
 *      This transaction is the commit point: before it nothing a reader sees has changed, after it
 *      the change is decided;
 *   5. rolls forward: each staged episode is put conditionally on its pre-commit version (a put
 *      that finds the version moved was applied already), then the lock is deleted and the staged
 *      chunks with it.
 *
 * Crash anywhere: before 4, the staged chunks are orphans (TTL) and the lock runs out (or E's retry
 * takes it over at once); the episodes and outbox are untouched, so the retry evaluates afresh and
 * nothing was published. After 4, the outbox is committed (a retry or the sweeper publishes it once,
 * fenced as usual), and the lock stays `committed` until someone rolls it forward: every
 * `loadEpisodes` does that first, and every commit is refused until it is done, so no evaluation
 * ever reads or overwrites episodes from before E.
 */

export const EPISODE_LOCK_SK = 'EPISODES#LOCK';
/** How long a large commit may hold the lock before others may break it. */
export const LOCK_LEASE_MS = 15_000;
const MAX_STAGED_CHUNK_BYTES = 350_000;
const ROLL_FORWARD_CONCURRENCY = 25;

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

const episodeSk = (e: Pick<EpisodeState, 'rule_id' | 'scope_key'>) => `EPISODE#${e.rule_id}#${e.scope_key}`;
const stagedPrefix = (evaluationKey: string, owner: string) => `EVAL#${evaluationKey}#EPISODES#${owner}#`;

/** The put of an episode's next version, conditional on the version it was read at. */
export function episodePut(table: string, worldId: string, episode: EpisodeState): TransactItem {
  const { version, ...rest } = episode;
  return {
    Put: {
      TableName: table,
      Item: toStorable({
        pk: worldPk(worldId),
        sk: episodeSk(episode),
        world_id: worldId,
        ...rest,
        version: version + 1,
      }),
      ConditionExpression: version === 0 ? 'attribute_not_exists(pk)' : 'version = :v',
      ...(version === 0 ? {} : { ExpressionAttributeValues: { ':v': version } }),
    },
  };
}

/** For a small commit: no lock may be held (one whose lease ran out is broken by this delete). */
export function lockGuard(table: string, worldId: string, nowMs: number): TransactItem {
  return {
    Delete: {
      TableName: table,
      Key: { pk: worldPk(worldId), sk: EPISODE_LOCK_SK },
      ConditionExpression: 'attribute_not_exists(pk) OR (#state = :locked AND lease_until < :now)',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: { ':locked': 'locked', ':now': nowMs },
    },
  };
}

interface CommittedLock {
  evaluation_key: string;
  owner: string;
  chunks: number;
}

export class EpisodeLog {
  constructor(
    private readonly doc: DynamoDocumentClient,
    private readonly table: string,
  ) {}

  private key(worldId: string) {
    return { pk: worldPk(worldId), sk: EPISODE_LOCK_SK };
  }

  /** Takes the world's lock for evaluation E; 'busy' while another evaluation's live lock holds it. */
  async acquire(worldId: string, evaluationKey: string, owner: string): Promise<'locked' | 'busy'> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const nowMs = Date.now();
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: {
              ...this.key(worldId),
              world_id: worldId,
              state: 'locked',
              evaluation_key: evaluationKey,
              owner,
              lease_until: nowMs + LOCK_LEASE_MS,
            },
            ConditionExpression:
              'attribute_not_exists(pk) OR (#state = :locked AND (lease_until < :now OR evaluation_key = :e))',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: { ':locked': 'locked', ':now': nowMs, ':e': evaluationKey },
          }),
        );
        return 'locked';
      } catch (error) {
        if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
        // A committed lock is finished by whoever finds it; a live one belongs to someone else.
        if (!(await this.rollForwardIfCommitted(worldId))) return 'busy';
      }
    }
    return 'busy';
  }

  /** True when every episode is still at the version the evaluation read it at. */
  async verify(worldId: string, episodes: readonly EpisodeState[]): Promise<boolean> {
    const expected = new Map(episodes.map((e) => [episodeSk(e), e.version]));
    const found = new Map<string, number>();
    const keys = [...expected.keys()].map((sk) => ({ pk: worldPk(worldId), sk }));
    for (let i = 0; i < keys.length; i += 100) {
      let pending: Record<string, unknown>[] | undefined = keys.slice(i, i + 100);
      while (pending && pending.length > 0) {
        const out: BatchGetOutput = await this.doc.send(
          new BatchGetCommand({
            RequestItems: {
              [this.table]: { Keys: pending, ConsistentRead: true, ProjectionExpression: 'sk, version' },
            },
          }),
        );
        for (const item of out.Responses?.[this.table] ?? [])
          found.set(String(item.sk), Number(item.version));
        pending = out.UnprocessedKeys?.[this.table]?.Keys;
      }
    }
    for (const [sk, version] of expected) {
      if (version === 0 ? found.has(sk) : found.get(sk) !== version) return false;
    }
    return true;
  }

  /** Writes the new episode states where no reader looks; returns how many chunk items hold them. */
  async stage(
    worldId: string,
    evaluationKey: string,
    owner: string,
    episodes: readonly EpisodeState[],
    expiresAt: number,
  ): Promise<number> {
    const chunks: string[][] = [];
    let bytes = 0;
    for (const e of episodes) {
      const json = JSON.stringify(toStorable(e));
      const size = Buffer.byteLength(json) + 1;
      if (chunks.length === 0 || bytes + size > MAX_STAGED_CHUNK_BYTES) {
        chunks.push([]);
        bytes = 0;
      }
      chunks.at(-1)!.push(json);
      bytes += size;
    }
    await Promise.all(
      chunks.map((chunk, n) =>
        this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: {
              pk: worldPk(worldId),
              sk: `${stagedPrefix(evaluationKey, owner)}${String(n).padStart(4, '0')}`,
              world_id: worldId,
              episodes_json: `[${chunk.join(',')}]`,
              expires_at: expiresAt,
            },
          }),
        ),
      ),
    );
    return chunks.length;
  }

  /** The commit point's lock transition: ours, still `locked`, becomes `committed`. */
  commitItem(worldId: string, evaluationKey: string, owner: string, chunks: number): TransactItem {
    return {
      Update: {
        TableName: this.table,
        Key: this.key(worldId),
        UpdateExpression: 'SET #state = :committed, chunks = :n',
        ConditionExpression: '#state = :locked AND #owner = :owner AND evaluation_key = :e',
        ExpressionAttributeNames: { '#state': 'state', '#owner': 'owner' },
        ExpressionAttributeValues: {
          ':committed': 'committed',
          ':locked': 'locked',
          ':owner': owner,
          ':e': evaluationKey,
          ':n': chunks,
        },
      },
    };
  }

  /** Gives up our uncommitted lock (the commit was refused or failed). */
  async release(worldId: string, evaluationKey: string, owner: string): Promise<void> {
    await ignoringConditionFailure(() =>
      this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: this.key(worldId),
          ConditionExpression: '#state = :locked AND #owner = :owner AND evaluation_key = :e',
          ExpressionAttributeNames: { '#state': 'state', '#owner': 'owner' },
          ExpressionAttributeValues: { ':locked': 'locked', ':owner': owner, ':e': evaluationKey },
        }),
      ),
    );
  }

  /** Finishes a committed lock if there is one; false when the lock is held but not committed. */
  async rollForwardIfCommitted(worldId: string): Promise<boolean> {
    const got = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: this.key(worldId), ConsistentRead: true }),
    );
    const lock = got.Item;
    if (!lock) return true;
    if (lock.state !== 'committed') return false;
    await this.rollForward(worldId, {
      evaluation_key: String(lock.evaluation_key),
      owner: String(lock.owner),
      chunks: Number(lock.chunks),
    });
    return true;
  }

  /** Applies a committed evaluation's staged episodes (idempotent), then ends the lock. */
  async rollForward(worldId: string, lock: CommittedLock): Promise<void> {
    const prefix = stagedPrefix(lock.evaluation_key, lock.owner);
    const rows = await queryAll(this.doc, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': worldPk(worldId), ':prefix': prefix },
      ConsistentRead: true,
    });
    if (rows.length !== lock.chunks) {
      // Someone finished it and deleted the chunks after ending the lock: nothing left to do.
      const now = await this.doc.send(
        new GetCommand({ TableName: this.table, Key: this.key(worldId), ConsistentRead: true }),
      );
      if (now.Item?.state === 'committed' && now.Item.evaluation_key === lock.evaluation_key) {
        throw new Error(
          `episode log of evaluation ${lock.evaluation_key.slice(0, 16)} has ${rows.length} of ${lock.chunks} chunks`,
        );
      }
      return;
    }
    const episodes = rows.flatMap((r) => JSON.parse(String(r.episodes_json)) as EpisodeState[]);
    for (let i = 0; i < episodes.length; i += ROLL_FORWARD_CONCURRENCY) {
      await Promise.all(
        episodes.slice(i, i + ROLL_FORWARD_CONCURRENCY).map((e) =>
          // While the lock is committed only this roll-forward writes episodes: a refused put was applied.
          ignoringConditionFailure(() =>
            this.doc.send(new PutCommand(episodePut(this.table, worldId, e).Put!)),
          ),
        ),
      );
    }
    await ignoringConditionFailure(() =>
      this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: this.key(worldId),
          ConditionExpression: '#state = :committed AND evaluation_key = :e AND #owner = :owner',
          ExpressionAttributeNames: { '#state': 'state', '#owner': 'owner' },
          ExpressionAttributeValues: {
            ':committed': 'committed',
            ':e': lock.evaluation_key,
            ':owner': lock.owner,
          },
        }),
      ),
    );
    await Promise.all(
      rows.map((r) =>
        this.doc.send(new DeleteCommand({ TableName: this.table, Key: { pk: r.pk, sk: r.sk } })),
      ),
    );
  }
}
