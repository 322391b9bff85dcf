import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { pino } from 'pino';

import { loadConfig } from '../../src/config.ts';
import { InterestEngine } from '../../src/engine.ts';
import { Recommender } from '../../src/recommendations/recommender.ts';
import { generateSyntheticDataset, type SyntheticDatasetOptions } from '../../src/synthetic/synthetic-dataset.ts';

/**
 * The demo as `npm start` loads it (a synthetic year of events, DECAY_CLOCK=event) and then the first live
 * event. Data that ended in the past had the live event move the decay clock past all of it: every walk and
 * tag term fell to ~0 and recommendations became "popular right now" for everyone.
 */
const quiet = pino({ level: 'silent' });
const DATA: SyntheticDatasetOptions = { seed: 7, edges: 12_000, users: 200, items: 300, topics: 6 };
const USERS = 20;

interface Terms {
  readonly walk: number;
  readonly tags: number;
}

/** Mean walk and tag terms of the top 10 for the first users, before and after one live event at `now`. */
async function termsAroundLiveEvent(options: SyntheticDatasetOptions, now: number): Promise<{ before: Terms; after: Terms; clockMoved: number }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'demo-timeline-'));
  const config = loadConfig({ env: { DATA_DIR: dataDir, DECAY_CLOCK: 'event' } });
  const engine = await InterestEngine.open(config, { logger: quiet });
  const recommender = new Recommender(engine, null, config.recommend);
  try {
    const data = generateSyntheticDataset(options);
    await engine.upsertItems(data.catalogue());
    for (const batch of data.eventBatches(4_000)) await engine.ingestEvents(batch);
    const measure = (): Terms => {
      let walk = 0;
      let tags = 0;
      let count = 0;
      for (let u = 0; u < USERS; u++) {
        for (const item of recommender.recommend({ kind: 'user', id: data.userId(u) }, { count: 10, explain: false }).items) {
          walk += item.sources.walk;
          tags += item.sources.tags;
          count++;
        }
      }
      return { walk: walk / count, tags: tags / count };
    };
    const before = measure();
    const clockBefore = engine.decayReference();
    await engine.ingestEvents([{ id: 'live-1', type: 'view', userId: 'first-visitor', itemId: data.itemId(0), timestamp: now }]);
    return { before, after: measure(), clockMoved: engine.decayReference() - clockBefore };
  } finally {
    recommender.close();
    await engine.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

describe('demo timeline', function () {
  this.timeout(120_000);

  it('keeps demo users’ walk and tag terms when the first live event arrives, with the data ending now', async () => {
    const now = Date.now();
    const data = generateSyntheticDataset({ ...DATA, endAt: now });
    assert.equal(
      data.interactions.ts.reduce((a, b) => Math.max(a, b), 0),
      now,
      'the newest demo event is now',
    );

    const { before, after, clockMoved } = await termsAroundLiveEvent({ ...DATA, endAt: now }, now);
    assert.ok(before.walk > 0.02 && before.tags > 0.02, `terms before the live event: ${JSON.stringify(before)}`);
    assert.ok(clockMoved >= 0 && clockMoved < 60_000, `the decay clock moved ${clockMoved} ms`);
    // Same order as before: the live event is seconds, not years, after the demo's newest one.
    assert.ok(after.walk > 0.9 * before.walk, `walk ${before.walk.toFixed(3)} → ${after.walk.toFixed(3)}`);
    assert.ok(after.tags > 0.9 * before.tags, `tags ${before.tags.toFixed(3)} → ${after.tags.toFixed(3)}`);
  });

  it('is what went wrong before: the same data ending on 2024-12-31 collapses at the first live event', async () => {
    const { before, after } = await termsAroundLiveEvent(DATA, Date.now());
    assert.ok(before.walk > 0.02 && before.tags > 0.02, `terms before the live event: ${JSON.stringify(before)}`);
    assert.ok(after.walk < 0.1 * before.walk, `walk ${before.walk.toFixed(3)} → ${after.walk.toFixed(3)}`);
    assert.ok(after.tags < 0.1 * before.tags, `tags ${before.tags.toFixed(3)} → ${after.tags.toFixed(3)}`);
  });
});
