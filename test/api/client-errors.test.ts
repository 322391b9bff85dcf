import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { startServerProcess } from '../support/server-process.ts';

/**
 * Requests Node's HTTP parser refuses (here a 300 KB URL, over the 16 KiB header limit) must get their
 * answer, not a connection reset. The server runs in its own process: in one process the client has
 * finished writing before the server reads, and the reset does not show.
 */
function send(url: URL, requestPath: string): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = request({ host: url.hostname, port: url.port, method: 'GET', path: requestPath, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    req.end();
  });
}

describe('requests the HTTP parser refuses (real server process)', function () {
  this.timeout(120_000);
  let child: ChildProcess | undefined;
  let dataDir: string;
  after(() => {
    child?.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers an oversize request line with 431 and a problem document every time, never a reset', async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'client-errors-'));
    const server = await startServerProcess({
      DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      DEMO_DATA: 'none',
      API_AUTH: 'disabled',
      GNN_TRAIN_ON_START: 'false',
      GNN_REFRESH_MINUTES: '0',
      COMMUNITIES_REFRESH_MINUTES: '0',
      LOG_LEVEL: 'error',
    });
    child = server.child;
    const url = new URL(server.url);
    const outcomes = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      const answer = await send(url, `/v1/items/${'%78'.repeat(100_000)}`);
      const key = 'error' in answer ? answer.error : String(answer.status);
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      if (!('error' in answer) && i === 0) {
        const problem = JSON.parse(answer.body);
        assert.equal(problem.status, 431);
        assert.match(problem.detail, /16 KiB/);
      }
    }
    assert.deepEqual([...outcomes], [['431', 30]]);
    const live = await fetch(`${server.url}/health/live`);
    assert.equal(live.status, 200);
  });
});
