import assert from 'node:assert/strict';

import { baseWeight, decayedWeight, decayFactor, type WeightPolicy } from '../../graph/edge-weight.ts';
import { DEFAULT_CONFIG } from '../../src/config.ts';

const DAY = 86_400_000;
const policy: WeightPolicy = {
  typeWeights: DEFAULT_CONFIG.weights.types,
  ratingStars: DEFAULT_CONFIG.weights.ratingStars,
  halfLifeMs: 30 * DAY,
};

describe('edge weights', () => {
  it('halve every half-life', () => {
    const now = 1_700_000_000_000;
    assert.equal(decayFactor(now, now, policy.halfLifeMs), 1);
    assert.ok(Math.abs(decayFactor(now - 30 * DAY, now, policy.halfLifeMs) - 0.5) < 1e-12);
    assert.ok(Math.abs(decayFactor(now - 60 * DAY, now, policy.halfLifeMs) - 0.25) < 1e-12);
    assert.ok(Math.abs(decayFactor(now - 15 * DAY, now, policy.halfLifeMs) - Math.SQRT1_2) < 1e-12);
  });

  it('do not boost events stamped after the reference time', () => {
    assert.equal(decayFactor(2000, 1000, policy.halfLifeMs), 1);
  });

  it('depend on the event time, not on the order events arrive in', () => {
    const now = 100 * DAY;
    const events = [90 * DAY, 10 * DAY, 50 * DAY];
    const inOrder = [...events].sort().map((ts) => decayedWeight(1, ts, now, policy.halfLifeMs));
    const asArrived = events.map((ts) => decayedWeight(1, ts, now, policy.halfLifeMs)).sort();
    assert.deepEqual(asArrived.sort(), inOrder.sort());
    assert.ok(Math.abs(decayedWeight(1, 90 * DAY, now, policy.halfLifeMs) / decayedWeight(1, 60 * DAY, now, policy.halfLifeMs) - 2) < 1e-12);
  });

  it('weigh types by the configured table, negative for dislike and dismiss', () => {
    assert.equal(baseWeight(policy, 'purchase', null), 1);
    assert.equal(baseWeight(policy, 'view', null), 0.1);
    assert.ok(baseWeight(policy, 'dislike', null) < 0);
    assert.ok(baseWeight(policy, 'dismiss', null) < 0);
  });

  it('weigh ratings by stars, interpolating half stars', () => {
    assert.equal(baseWeight(policy, 'rating', 5), 1);
    assert.equal(baseWeight(policy, 'rating', 1), -0.6);
    assert.ok(Math.abs(baseWeight(policy, 'rating', 4.5) - 0.8) < 1e-12);
    assert.equal(baseWeight(policy, 'rating', 0.5), -0.6, 'half a star counts as one');
    const scaled: WeightPolicy = { ...policy, typeWeights: { ...policy.typeWeights, rating: 2 } };
    assert.equal(baseWeight(scaled, 'rating', 5), 2);
  });
});
