import assert from 'node:assert/strict';

import { ValidationError } from '../../base/errors.ts';
import { checkInteractionEvent, parseInteractionEvent } from '../../src/events/interaction-event.ts';

const now = Date.parse('2025-06-01T00:00:00Z');
const options = { now, maxClockSkewMs: 60_000 };
const good = { id: 'e1', type: 'rating', userId: 'u1', itemId: 'i1', value: 4, timestamp: '2025-05-01T10:00:00Z' };

function issuesOf(raw: unknown): Array<[string, string]> {
  const check = checkInteractionEvent(raw, options);
  assert.equal(check.ok, false, 'expected the event to be rejected');
  return check.ok ? [] : check.issues.map((i) => [i.path, i.message]);
}

describe('interaction event validation', () => {
  it('accepts a valid event and normalises it', () => {
    assert.deepEqual(parseInteractionEvent(good, options), {
      eventId: 'e1',
      subjectKind: 'user',
      subjectId: 'u1',
      itemId: 'i1',
      type: 'rating',
      value: 4,
      ts: Date.parse('2025-05-01T10:00:00Z'),
      context: null,
    });
    const session = parseInteractionEvent({ id: 'e2', type: 'click', sessionId: 's', itemId: 'i', timestamp: 1000 }, options);
    assert.equal(session.subjectKind, 'session');
    assert.equal(session.ts, 1000);
    assert.equal(session.value, null);
  });

  it('stamps events without a timestamp with the receipt time', () => {
    assert.equal(parseInteractionEvent({ id: 'e', type: 'view', userId: 'u', itemId: 'i' }, options).ts, now);
  });

  it('names each bad field and says what is wrong', () => {
    const issues = issuesOf({ id: '', type: 'watch', userId: 'u', itemId: 3 });
    const paths = issues.map(([p]) => p);
    assert.deepEqual(paths.sort(), ['id', 'itemId', 'type']);
    const byPath = Object.fromEntries(issues);
    assert.match(byPath.id!, /empty/);
    assert.match(byPath.type!, /view/, 'lists the allowed types');
    assert.match(byPath.itemId!, /string/);
  });

  it('requires exactly one of userId and sessionId', () => {
    assert.match(issuesOf({ id: 'e', type: 'view', itemId: 'i' })[0]![1], /exactly one of userId and sessionId/);
    assert.match(issuesOf({ id: 'e', type: 'view', itemId: 'i', userId: 'u', sessionId: 's' })[0]![1], /exactly one/);
  });

  it('checks rating values and refuses values on other types', () => {
    assert.deepEqual(issuesOf({ ...good, value: 7 }), [['value', 'must be between 0.5 and 5 stars']]);
    assert.deepEqual(issuesOf({ ...good, value: undefined }), [['value', 'is required for rating events']]);
    assert.deepEqual(issuesOf({ ...good, type: 'view' }), [['value', 'is only allowed for rating events, not view']]);
  });

  it('rejects unreadable and future timestamps', () => {
    assert.match(issuesOf({ ...good, timestamp: 'yesterday' })[0]![1], /ISO 8601/);
    assert.match(issuesOf({ ...good, timestamp: -5 })[0]![1], /non-negative/);
    assert.deepEqual(issuesOf({ ...good, timestamp: now + 120_000 }), [['timestamp', 'is in the future']]);
    assert.ok(checkInteractionEvent({ ...good, timestamp: now + 30_000 }, options).ok, 'within the allowed clock skew');
  });

  it('rejects unknown fields by name', () => {
    assert.deepEqual(issuesOf({ ...good, rating: 4 }), [['rating', 'unknown field']]);
  });

  it('prefixes paths for events in a batch, and throws a typed error', () => {
    const check = checkInteractionEvent({ ...good, value: 9 }, options, 'events[3]');
    assert.ok(!check.ok && check.issues[0]!.path === 'events[3].value');
    assert.throws(() => parseInteractionEvent('nope', options), ValidationError);
  });
});
