import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { lastEvaluationIn, SUMMARY_FILE } from '../../src/evaluation/evaluation-report.ts';

describe('the last evaluation in a data directory', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'last-evaluation-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is null until a summary is saved, then follows the file as it changes', () => {
    const last = lastEvaluationIn(dir);
    assert.equal(last(), null);
    const file = path.join(dir, SUMMARY_FILE);
    writeFileSync(file, JSON.stringify({ dataset: 'a', k: 20, split: 'temporal', seed: 1, models: {}, evaluatedAt: '2026-01-01T00:00:00Z' }));
    assert.equal((last() as { dataset: string }).dataset, 'a');
    writeFileSync(file, JSON.stringify({ dataset: 'b', k: 10, split: 'random', seed: 2, models: {}, evaluatedAt: '2026-01-02T00:00:00Z' }));
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    assert.equal((last() as { dataset: string }).dataset, 'b');
  });

  it('is null for a file that is not JSON', () => {
    writeFileSync(path.join(dir, SUMMARY_FILE), '{"dataset": ');
    assert.equal(lastEvaluationIn(dir)(), null);
  });
});
