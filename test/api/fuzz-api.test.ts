import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * `npm run fuzz:api` with a smaller count: hostile and mutated requests against a real server in its own
 * process. Its last line says how many got a 5xx or no answer, whether the server died, and whether the
 * store holds anything a 2xx did not acknowledge (or lacks anything one did).
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('API fuzzing (npm run fuzz:api)', function () {
  this.timeout(90_000);

  it('150 malformed and hostile requests: no 5xx, no hang, no crash, no partial write', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/fuzz-api.ts', '--requests', '150', '--seconds', '60', '--seed', '7'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const last = stdout.trim().split('\n').at(-1) ?? '';
    let summary: Record<string, number>;
    try {
      summary = JSON.parse(last) as Record<string, number>;
    } catch {
      assert.fail(`the last line is not JSON: ${last}\n${stderr.slice(-3000)}`);
    }
    assert.deepEqual(summary, { requests: 150, status_5xx: 0, hangs: 0, crashes: 0, partial_writes: 0 }, `${stdout}\n${stderr.slice(-3000)}`);
    assert.equal(code, 0);
    // Every kind of hostile request was sent, and some writes were acknowledged (the ledger was exercised).
    for (const kind of [
      'auth',
      'bad-counts',
      'content-encoding',
      'deep-nesting',
      'odd-ids',
      'path-traversal',
      'percent-encoding',
      'prototype-keys',
      'surrogates',
      'unknown-keys',
      'vendor-prototype',
      'wrong-method',
    ]) {
      assert.match(stdout, new RegExp(`^${kind} `, 'm'), `no ${kind} requests were sent`);
    }
    assert.match(stdout, /acknowledged: [1-9]\d* events/);
  });
});
