import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { pino } from 'pino';

import { NotFoundError, type ValidationError } from '../../base/errors.ts';
import { EDGE_TYPES, type NodeKind } from '../../graph/model.ts';
import { type EngineConfig, loadConfig } from '../../src/config.ts';
import { EmbeddingService, embeddingSettingsOf } from '../../src/embeddings/embedding-service.ts';
import { InterestEngine } from '../../src/engine.ts';
import type { ExplanationPath } from '../../src/recommendations/explanation-path.ts';
import { parseRecommendationOptions } from '../../src/recommendations/recommendation-query.ts';
import { type RecommendationList, Recommender } from '../../src/recommendations/recommender.ts';
import { generateSyntheticDataset } from '../../src/synthetic/synthetic-dataset.ts';

/**
 * The query layer on a real engine (embedded store on disk) with a trained GAT, on synthetic data whose
 * users have planted favourite topics: 8 topics, 2 favourites each, so a random item is in a user's
 * favourites a quarter of the time.
 */
const quiet = pino({ level: 'silent' });
const EDGES = 24_000;

describe('Recommender (query layer)', function () {
  this.timeout(180_000);
  const data = generateSyntheticDataset({ seed: 7, edges: EDGES, users: 300, items: 480, topics: 8, interestsPerUser: 2, sessionShare: 0.05 });
  let dataDir: string;
  let config: EngineConfig;
  let engine: InterestEngine;
  let service: EmbeddingService;
  let recommender: Recommender;

  const topicOf = (itemId: string) => engine.catalogue.get(itemId)?.attributes.topic as string;
  const favouriteTopicNames = (user: number) => data.favouriteTopics(user, 1).map((t) => topicOf(data.itemId(data.itemsOfTopic(t)[0]!)));
  const itemNode = (id: string) => engine.graph.nodeIndex('item', id);

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'recommender-'));
    config = loadConfig({ env: { DATA_DIR: dataDir, GNN_DIMS: '32', GNN_HEADS: '2', GNN_FANOUT: '10', GNN_EPOCHS: '4', GNN_REFRESH_MINUTES: '0' } });
    engine = await InterestEngine.open(config, { logger: quiet });
    await engine.upsertItems(data.catalogue());
    for (let i = 0; i < EDGES; i += 6_000) await engine.ingestEvents(data.eventsAt(i, i + 6_000));
    service = await EmbeddingService.start(engine, embeddingSettingsOf(config.gnn), quiet);
    await service.trainingSettled();
    recommender = new Recommender(engine, service, config.recommend);
  });
  after(async () => {
    recommender.close();
    await service.close();
    await engine.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** The live graph edge a path edge names, or -1. */
  function graphEdgeOf(p: ExplanationPath, k: number): number {
    const edge = p.edges[k]!;
    const from = p.nodes[edge.from]!;
    const to = p.nodes[edge.to]!;
    const source = engine.graph.nodeIndex(from.kind, from.id);
    const target = engine.graph.nodeIndex(to.kind, to.id);
    if (source < 0 || target < 0) return -1;
    let found = -1;
    engine.graph.forEachOutEdge(source, (e, t) => {
      if (t === target && EDGE_TYPES[engine.graph.edgeTypeCode(e)] === edge.type && new Date(engine.graph.edgeTimestamp(e)).toISOString() === edge.timestamp) {
        found = e;
        return false;
      }
    });
    return found;
  }

  function assertWellFormed(list: RecommendationList, count: number, start?: { kind: NodeKind; id: string }): void {
    assert.equal(list.items.length, count);
    assert.equal(new Set(list.items.map((i) => i.itemId)).size, count, 'no item twice');
    for (const item of list.items) {
      const { embedding, walk, tags, trending } = item.sources;
      assert.ok(Math.abs(embedding + walk + tags + trending - item.score) < 1e-5, `${item.itemId}: sources add up to the score`);
      assert.ok(item.paths && item.paths.length >= 1 && item.paths.length <= 3, `${item.itemId}: 1–3 paths, got ${item.paths?.length}`);
      assert.equal(item.because, item.paths[0]!.sentence);
      for (const p of item.paths) {
        assert.equal(p.nodes[p.nodes.length - 1]!.id, item.itemId, 'a path ends at the item');
        if (start && p.kind !== 'trending') assert.deepEqual({ kind: p.nodes[0]!.kind, id: p.nodes[0]!.id }, start, 'a path starts at the subject');
        assert.ok(p.weight > 0 && p.weight <= 1);
        assert.ok(p.sentence.length > 10);
        p.edges.forEach((_, k) => assert.ok(graphEdgeOf(p, k) >= 0, `${item.itemId}: edge ${k} of a ${p.kind} path is a live graph edge`));
      }
    }
  }

  it('recommends a user unconsumed items from their favourite topics, each explained by real paths', () => {
    let inFavourites = 0;
    let total = 0;
    for (let user = 0; user < 40; user++) {
      const id = data.userId(user);
      const node = engine.graph.nodeIndex('user', id);
      if (node < 0) continue;
      const list = recommender.recommend({ kind: 'user', id }, { count: 10 });
      assertWellFormed(list, 10, { kind: 'user', id });
      const consumed = new Set<number>();
      engine.graph.forEachOutEdge(node, (_e, item) => void consumed.add(item));
      const favourites = favouriteTopicNames(user);
      for (const item of list.items) {
        assert.ok(!consumed.has(itemNode(item.itemId)), 'already consumed items are left out');
        if (favourites.includes(topicOf(item.itemId))) inFavourites++;
        total++;
      }
    }
    assert.ok(inFavourites / total > 0.6, `share in favourite topics ${(inFavourites / total).toFixed(2)} (random: 0.25)`);
  });

  it('recommends for an anonymous session from its items, with paths from the session', () => {
    const sessionId = data.sessionId(0);
    const node = engine.graph.nodeIndex('session', sessionId);
    assert.ok(node >= 0, 'the data has sessions');
    const list = recommender.recommend({ kind: 'session', id: sessionId }, { count: 5 });
    assertWellFormed(list, 5, { kind: 'session', id: sessionId });
    const consumed = new Set<number>();
    engine.graph.forEachOutEdge(node, (_e, item) => void consumed.add(item));
    for (const item of list.items) assert.ok(!consumed.has(itemNode(item.itemId)));
  });

  it('finds items similar to an item, and more like a list of items, mostly in the same topic', () => {
    const seed = data.itemsOfTopic(2)[0]!;
    const topic = topicOf(data.itemId(seed));
    const similar = recommender.recommend({ kind: 'similar', itemId: data.itemId(seed) }, { count: 10, diversity: 0 });
    assertWellFormed(similar, 10, { kind: 'item', id: data.itemId(seed) });
    assert.ok(!similar.items.some((i) => i.itemId === data.itemId(seed)), 'not the item itself');
    assert.ok(similar.items.filter((i) => topicOf(i.itemId) === topic).length >= 7, 'similar items share the topic');

    const given = Array.from(data.itemsOfTopic(5).slice(0, 3), (i) => data.itemId(i));
    const more = recommender.recommend({ kind: 'items', itemIds: given }, { count: 10, diversity: 0 });
    assert.equal(more.items.length, 10);
    assert.ok(!more.items.some((i) => given.includes(i.itemId)), 'not the given items');
    assert.ok(more.items.filter((i) => topicOf(i.itemId) === topicOf(given[0]!)).length >= 7, 'more of the same topic');
    assert.throws(() => recommender.recommend({ kind: 'similar', itemId: 'no-such-item' }), NotFoundError);
  });

  it('applies tag, attribute and item filters, and includes consumed items only when asked', () => {
    const id = data.userId(1);
    const tag = data.itemTags(data.itemsOfTopic(3)[0]!)[0]!;
    const withTag = recommender.recommend({ kind: 'user', id }, { count: 8, filters: { includeTags: [tag] } });
    assert.equal(withTag.items.length, 8);
    for (const item of withTag.items) assert.ok(engine.catalogue.get(item.itemId) && data.itemTags(Number(item.itemId.slice(5))).includes(tag));

    const plain = recommender.recommend({ kind: 'user', id }, { count: 8 });
    const avoided = data.itemTags(Number(plain.items[0]!.itemId.slice(5)))[0]!;
    const withoutTag = recommender.recommend({ kind: 'user', id }, { count: 8, filters: { excludeTags: [avoided] } });
    for (const item of withoutTag.items) assert.ok(!data.itemTags(Number(item.itemId.slice(5))).includes(avoided));

    const topic = topicOf(data.itemId(data.itemsOfTopic(6)[0]!));
    const byAttribute = recommender.recommend({ kind: 'user', id }, { count: 5, filters: { attributes: { topic } } });
    assert.equal(byAttribute.items.length, 5);
    for (const item of byAttribute.items) assert.equal(topicOf(item.itemId), topic);
    const none = recommender.recommend({ kind: 'user', id }, { count: 5, filters: { attributes: { topic: 'no such topic' } } });
    assert.equal(none.items.length, 0);

    const excluded = recommender.recommend({ kind: 'user', id }, { count: 8, filters: { excludeItems: [plain.items[0]!.itemId] } });
    assert.ok(!excluded.items.some((i) => i.itemId === plain.items[0]!.itemId));

    const node = engine.graph.nodeIndex('user', id);
    const consumed = new Set<string>();
    engine.graph.forEachOutEdge(node, (e, item) => {
      if (engine.graph.edgeBaseWeight(e) > 0.5) consumed.add(engine.graph.externalId(item));
    });
    const again = recommender.recommend({ kind: 'user', id }, { count: 30, filters: { includeConsumed: true } });
    assert.ok(
      again.items.some((i) => consumed.has(i.itemId)),
      'strongly liked items come back when consumed ones are included',
    );
  });

  it('trades relevance for variety as the diversity knob goes up', () => {
    const pairwiseTagOverlap = (list: RecommendationList) => {
      const tags = list.items.map((i) => new Set(data.itemTags(Number(i.itemId.slice(5)))));
      let sum = 0;
      let pairs = 0;
      for (let a = 0; a < tags.length; a++) {
        for (let b = a + 1; b < tags.length; b++) {
          const common = [...tags[a]!].filter((t) => tags[b]!.has(t)).length;
          sum += common / (tags[a]!.size + tags[b]!.size - common);
          pairs++;
        }
      }
      return sum / pairs;
    };
    let focused = 0;
    let varied = 0;
    for (let user = 0; user < 10; user++) {
      focused += pairwiseTagOverlap(recommender.recommend({ kind: 'user', id: data.userId(user) }, { count: 10, diversity: 0, explain: false }));
      varied += pairwiseTagOverlap(recommender.recommend({ kind: 'user', id: data.userId(user) }, { count: 10, diversity: 0.9, explain: false }));
    }
    assert.ok(varied < focused, `tag overlap ${varied.toFixed(3)} at 0.9 against ${focused.toFixed(3)} at 0`);
    const plain = recommender.recommend({ kind: 'user', id: data.userId(0) }, { count: 10, diversity: 0, explain: false });
    assert.ok(
      plain.items.every((item, k) => k === 0 || plain.items[k - 1]!.score >= item.score),
      'without diversity the order is by score',
    );
    assert.ok(
      plain.items.every((item) => item.paths === undefined),
      'no paths when explanations are off',
    );
  });

  it('drops a dismissed or disliked item from the very next response, and likes of its kind lose weight', async () => {
    const id = data.userId(2);
    const first = recommender.recommend({ kind: 'user', id }, { count: 10, diversity: 0 });
    const dismissed = first.items[0]!.itemId;
    const disliked = first.items[1]!.itemId;
    const sameTag = data.itemTags(Number(disliked.slice(5)));
    const probe = data.catalogue().find((c) => c.id !== disliked && c.tags.some((t) => sameTag.includes(t)) && !first.items.some((i) => i.itemId === c.id))!;
    const before = recommender.explain({ kind: 'user', id }, probe.id).item.sources.tags;
    const ts = Date.UTC(2025, 0, 1);
    await engine.ingestEvents([
      { id: 'dismiss-1', type: 'dismiss', userId: id, itemId: dismissed, timestamp: ts },
      { id: 'dislike-1', type: 'dislike', userId: id, itemId: disliked, timestamp: ts },
    ]);
    const next = recommender.recommend({ kind: 'user', id }, { count: 10, diversity: 0 });
    assert.ok(!next.items.some((i) => i.itemId === dismissed), 'dismissed item gone');
    assert.ok(!next.items.some((i) => i.itemId === disliked), 'disliked item gone');
    const after = recommender.explain({ kind: 'user', id }, disliked);
    assert.equal(after.rejected, true);
    assert.ok(recommender.explain({ kind: 'user', id }, probe.id).item.sources.tags < before, "items sharing the disliked item's tags score lower");
  });

  it('serves cold starts: a user never seen, a user with one interaction, an item with tags only', async () => {
    const stranger = recommender.recommend({ kind: 'user', id: 'never-seen' }, { count: 5 });
    assert.equal(stranger.items.length, 5);
    for (const item of stranger.items) assert.equal(item.paths![0]!.kind, 'trending', 'a stranger gets trending items');

    const liked = data.itemsOfTopic(4)[1]!;
    await engine.ingestEvents([{ id: 'cold-1', type: 'like', userId: 'newcomer', itemId: data.itemId(liked), timestamp: Date.UTC(2025, 0, 1) }]);
    const newcomer = recommender.recommend({ kind: 'user', id: 'newcomer' }, { count: 5, diversity: 0 });
    assertWellFormed(newcomer, 5, { kind: 'user', id: 'newcomer' });
    assert.ok(newcomer.items.filter((i) => topicOf(i.itemId) === topicOf(data.itemId(liked))).length >= 3, "mostly the liked item's topic");
    assert.ok(
      newcomer.items[0]!.paths!.some((p) => p.nodes[1]?.id === data.itemId(liked)),
      'explained through the one liked item',
    );

    const topicTags = data.itemTags(liked);
    await engine.upsertItems([
      { id: 'brand-new', title: 'Brand New', tags: [...topicTags, 'label:fresh'], attributes: { topic: topicOf(data.itemId(liked)) } },
    ]);
    const fresh = recommender.recommend({ kind: 'user', id: 'newcomer' }, { count: 3, filters: { includeTags: ['label:fresh'] } });
    assert.equal(fresh.items.length, 1);
    assert.equal(fresh.items[0]!.itemId, 'brand-new');
    assert.ok(fresh.items[0]!.sources.embedding > 0, 'its embedding comes from its tags');
    assert.ok(fresh.items[0]!.paths!.some((p) => p.kind === 'shared-tag'));
  });

  it('explains any (user, item) pair, recommended or not, and refuses unknown ones', () => {
    const id = data.userId(3);
    const node = engine.graph.nodeIndex('user', id);
    let consumedId = '';
    engine.graph.forEachOutEdge(node, (_e, item) => void (consumedId = engine.graph.externalId(item)));
    const consumed = recommender.explain({ kind: 'user', id }, consumedId);
    assert.equal(consumed.consumed, true);
    const other = recommender.explain({ kind: 'user', id }, data.itemId(data.itemsOfTopic(7)[3]!));
    assert.ok(other.item.score > 0);
    assert.ok(other.item.paths!.length >= 1);
    assert.throws(() => recommender.explain({ kind: 'user', id }, 'nope'), NotFoundError);
    assert.throws(() => recommender.explain({ kind: 'user', id: 'nobody' }, consumedId), NotFoundError);
  });

  it('gives an item the same score, sources and paths in every list, filtered or not, as in its explain call', () => {
    // Exact search (this catalogue is small) and an HNSW index over the same embeddings.
    const approximate = new Recommender(engine, service, { ...config.recommend, annThreshold: 100 });
    try {
      for (const r of [recommender, approximate]) {
        let compared = 0;
        for (let user = 4; user < 10; user++) {
          const id = data.userId(user);
          if (engine.graph.nodeIndex('user', id) < 0) continue;
          const plain = r.recommend({ kind: 'user', id }, { count: 40, diversity: 0 });
          const top = plain.items[0]!.itemId;
          const byTopic = topicOf(data.itemId(data.itemsOfTopic((user + 3) % 8)[0]!));
          const option = [
            {},
            { diversity: 0.9 },
            { filters: { includeTags: [data.itemTags(data.itemsOfTopic((user + 5) % 8)[0]!)[0]!] } },
            { filters: { excludeTags: [data.itemTags(Number(top.slice(5)))[0]!] } },
            { filters: { excludeItems: [top, plain.items[1]!.itemId] } },
            { filters: { includeConsumed: true } },
            { filters: { attributes: { topic: byTopic } } },
            { filters: { includeTags: data.itemTags(Number(top.slice(5))), includeConsumed: true, attributes: { topic: [byTopic, topicOf(top)] } } },
          ];
          const unfiltered = new Map(plain.items.map((i) => [i.itemId, i]));
          for (const options of option) {
            const list = r.recommend({ kind: 'user', id }, { count: 15, ...options });
            assert.ok(list.items.length > 0, `user ${id}, ${JSON.stringify(options)}: a list`);
            for (const item of list.items) {
              const explained = r.explain({ kind: 'user', id }, item.itemId).item;
              const where = `${id} ${item.itemId} with ${JSON.stringify(options)}`;
              assert.equal(item.score, explained.score, `${where}: the explain call's score`);
              assert.deepEqual(item.sources, explained.sources, `${where}: the explain call's sources`);
              assert.deepEqual(item.paths, explained.paths, `${where}: the explain call's paths`);
              const same = unfiltered.get(item.itemId);
              if (same) assert.deepEqual([item.score, item.sources], [same.score, same.sources], `${where}: as in the unfiltered list`);
              compared++;
            }
          }
        }
        assert.ok(compared > 200, `${compared} items compared`);
      }
    } finally {
      approximate.close();
    }
  });

  it("says where an item stands against the subject's default list: its rank, the last listed score, and what kept it out", async () => {
    const id = data.userId(2);
    const list = recommender.recommend({ kind: 'user', id }, { explain: false });
    const listed = new Map(list.items.map((i) => [i.itemId, i.score]));
    const lowest = Math.min(...listed.values());
    const byRank: Array<{ rank: number; score: number; itemId: string }> = [];
    const reasons = new Map<string | null, number>();
    for (const { id: itemId } of data.catalogue()) {
      const { item, consumed, rejected, standing } = recommender.explain({ kind: 'user', id }, itemId);
      const where = `${itemId} (${JSON.stringify(standing)})`;
      assert.equal(standing.listCount, config.recommend.defaultCount);
      assert.equal(standing.lastListedScore, lowest, `${where}: the default list's lowest score`);
      reasons.set(standing.keptOutBy, (reasons.get(standing.keptOutBy) ?? 0) + 1);
      if (listed.has(itemId)) {
        assert.equal(standing.keptOutBy, null, `${where}: listed, so nothing kept it out`);
        assert.equal(item.score, listed.get(itemId));
      } else if (rejected) assert.deepEqual([standing.keptOutBy, standing.rank], ['rejected', null], where);
      else if (consumed) assert.deepEqual([standing.keptOutBy, standing.rank], ['consumed', null], where);
      else if (standing.rank === null) assert.equal(standing.keptOutBy, 'not-reached', where);
      else assert.equal(standing.keptOutBy, item.score >= lowest ? 'diversity' : 'ranked-below', where);
      if (standing.rank !== null) byRank.push({ rank: standing.rank, score: item.score, itemId });
    }
    // The ranks are 1 … n, one item each, in the order of the scores.
    byRank.sort((a, b) => a.rank - b.rank);
    byRank.forEach(({ rank, score }, k) => {
      assert.equal(rank, k + 1, 'ranks are 1 … n, one item each');
      if (k > 0) assert.ok(byRank[k - 1]!.score >= score, `rank ${rank} scores no more than rank ${rank - 1}`);
    });
    for (const reason of ['rejected', 'consumed', 'not-reached', 'ranked-below', null])
      assert.ok(reasons.get(reason), `some item is kept out by ${reason}: ${JSON.stringify([...reasons])}`);
    // Without diversity the default list is the top of the same ranking, and the next item is ranked below it.
    const plain = new Recommender(engine, service, { ...config.recommend, diversity: 0 });
    try {
      const top = plain.recommend({ kind: 'user', id }, { explain: false }).items;
      assert.deepEqual(
        top.map((i) => i.itemId),
        byRank.slice(0, 20).map((r) => r.itemId),
      );
      top.forEach((item, k) => assert.equal(plain.explain({ kind: 'user', id }, item.itemId).standing.rank, k + 1));
      assert.deepEqual(plain.explain({ kind: 'user', id }, byRank[20]!.itemId).standing, {
        rank: 21,
        listCount: 20,
        lastListedScore: top[19]!.score,
        keptOutBy: 'ranked-below',
      });
    } finally {
      plain.close();
    }
  });

  it('validates options, naming the field', () => {
    assert.throws(
      () => parseRecommendationOptions({ count: 0 }, 100),
      (e: ValidationError) => e.issues[0]!.path === 'count',
    );
    assert.throws(
      () => parseRecommendationOptions({ count: 500 }, 100),
      (e: ValidationError) => /at most 100/.test(e.message),
    );
    assert.throws(
      () => parseRecommendationOptions({ diversity: 2 }, 100),
      (e: ValidationError) => e.issues[0]!.path === 'diversity',
    );
    assert.throws(
      () => parseRecommendationOptions({ filters: { attributes: { year: { min: 3, max: 1 } } } }, 100),
      (e: ValidationError) => e.issues[0]!.path === 'filters.attributes.year',
    );
    assert.throws(
      () => parseRecommendationOptions({ filters: { colour: 'red' } }, 100),
      (e: ValidationError) => e.issues[0]!.path === 'filters.colour',
    );
  });

  it('forgets an erased user: no paths through them, and they are a stranger afterwards', async () => {
    const erased = data.userId(30);
    const involved = () => {
      let seen = false;
      for (let user = 31; user < 45; user++) {
        const list = recommender.recommend({ kind: 'user', id: data.userId(user) }, { count: 10 });
        for (const item of list.items) for (const p of item.paths!) if (p.nodes.some((n) => n.kind === 'user' && n.id === erased)) seen = true;
      }
      return seen;
    };
    assert.ok(involved(), 'before erasure some path goes through the user (the check can fail)');
    await engine.eraseSubject('user', erased);
    assert.equal(involved(), false);
    assert.throws(() => recommender.explain({ kind: 'user', id: erased }, data.itemId(1)), NotFoundError);
    const stranger = recommender.recommend({ kind: 'user', id: erased }, { count: 3 });
    assert.ok(stranger.items.every((i) => i.paths![0]!.kind === 'trending'));
  });

  // Last: it takes edges out of the shared graph.
  it("is faithful: taking away a path's edge and recomputing lowers the item's score", async () => {
    let checked = 0;
    let lowered = 0;
    for (let user = 10; user < 25; user++) {
      const id = data.userId(user);
      const subject = engine.graph.nodeIndex('user', id);
      const list = recommender.recommend({ kind: 'user', id }, { count: 3, diversity: 0 });
      for (const item of list.items) {
        const path = item.paths!.find((p) => p.kind !== 'trending');
        if (!path) continue;
        // The path's first edge: the subject's own interaction with the seed (gone already when an
        // earlier item of the list was explained through the same seed).
        const edge = graphEdgeOf(path, 0);
        if (edge < 0) continue;
        const before = recommender.explain({ kind: 'user', id }, item.itemId).item;
        assert.ok(engine.graph.removeEdge(edge));
        service.updater.interactionsAdded([subject]);
        const after = recommender.explain({ kind: 'user', id }, item.itemId).item;
        // The graph evidence (walks, tags) that flowed along the edge is gone: always lower.
        const evidence = (i: typeof before) => i.sources.walk + i.sources.tags;
        assert.ok(evidence(after) < evidence(before), `${id} → ${item.itemId} (${path.kind}): walk + tags ${evidence(after)} < ${evidence(before)}`);
        checked++;
        if (after.score < before.score) lowered++;
      }
    }
    assert.ok(checked >= 20, `checked ${checked} edges`);
    // The embedding term is the GAT's learned function of the whole neighbourhood: losing one neighbour
    // can move it either way, so the total falls for nearly every edge rather than for every one.
    assert.ok(lowered / checked >= 0.9, `total score lowered for ${lowered} of ${checked} edges`);
  });
});
