import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';

import { pino } from 'pino';

import { ApiServer } from '../../src/api/api-server.ts';
import { redactText, redactUrl } from '../../src/api/log-redaction.ts';
import { type EngineConfig, loadConfig } from '../../src/config.ts';
import { InterestEngine } from '../../src/engine.ts';
import { type EngineServices, startEngineServices } from '../../src/engine-services.ts';

/**
 * The request log of a real server, captured line by line: no API key ever appears in it, wherever the
 * client put the key; while the server is starting its 503s are info lines without a stack; an unexpected
 * failure is an error line with its stack.
 */
const KEY = 'log-test-key-0123456789abcdef';
const quiet = pino({ level: 'silent' });

interface LogLine {
  level: number;
  msg: string;
  err?: { message: string; stack: string };
  req?: { id: string; method: string; url: string };
  res?: { statusCode: number };
}

describe('the request log', function () {
  this.timeout(60_000);
  let dataDir: string;
  let config: EngineConfig;
  let engine: InterestEngine;
  let services: EngineServices;
  let api: ApiServer;
  let url: string;
  const lines: string[] = [];
  const parsed = (): LogLine[] => lines.map((l) => JSON.parse(l) as LogLine);
  const linesOf = (id: string): LogLine[] => parsed().filter((l) => l.req?.id === id);
  let n = 0;

  /** A request with its own request id, so that its log lines can be picked out. */
  async function send(route: string, init: RequestInit = {}): Promise<{ id: string; status: number }> {
    const id = `req-${++n}`;
    const response = await fetch(url + route, { ...init, headers: { 'x-request-id': id, ...(init.headers as Record<string, string>) } });
    await response.arrayBuffer();
    return { id, status: response.status };
  }

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'request-log-'));
    config = loadConfig({
      env: { DATA_DIR: dataDir, API_KEYS: `app:${KEY}:admin`, GNN_TRAIN_ON_START: 'false', GNN_REFRESH_MINUTES: '0', COMMUNITIES_REFRESH_MINUTES: '0' },
    });
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    api = new ApiServer(config, pino({ level: 'info' }, sink));
    url = await api.listen(0, '127.0.0.1');
  });
  after(async () => {
    await api?.close({ idleGraceMs: 0 });
    await services?.close();
    await engine?.close().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('logs the 503s of a server that is still starting as one info line each, without a stack', async () => {
    const polls = [await send('/health/ready'), await send('/health/ready'), await send('/v1/model', { headers: { authorization: `Bearer ${KEY}` } })];
    for (const poll of polls) {
      assert.equal(poll.status, 503);
      const logged = linesOf(poll.id);
      assert.equal(logged.length, 1, JSON.stringify(logged));
      assert.equal(logged[0]!.level, 30, 'info');
      assert.equal(logged[0]!.err, undefined);
      assert.equal(logged[0]!.res?.statusCode, 503);
    }
    engine = await InterestEngine.open(config, { logger: quiet });
    services = await startEngineServices(engine, quiet);
    api.attach({ engine, ...services, lastEvaluation: () => null });
    const ready = await send('/health/ready');
    assert.equal(ready.status, 200);
    assert.equal(linesOf(ready.id)[0]!.level, 30);
  });

  it('never writes a key, wherever the client put it', async () => {
    const auth = { authorization: `Bearer ${KEY}` };
    const sent = [
      await send(`/v1/items?api_key=${KEY}`),
      await send(`/v1/items?limit=1&api_key=${KEY}`, { headers: auth }),
      await send(`/v1/items?key=${KEY}&limit=1`),
      await send(`/v1/items?token=${KEY}`),
      await send(`/v1/items?access_token=${KEY}`),
      await send(`/v1/items?password=${KEY}`),
      await send(`/v1/items?apiKey=${KEY};limit=2`),
      await send(`/v1/items?API-KEY=${KEY}`),
      await send(`/v1/items?api%5Fkey=${KEY}`),
      await send(`/v1/items?api_key%3D${KEY}`),
      await send(`/v1/items?x-api-key=${encodeURIComponent(KEY)}#frag`),
      await send(`/v1/no-such-route?token=${KEY}`),
      await send('/v1/items?limit=1', { headers: auth }),
      await send('/v1/items?limit=1', { headers: { 'x-api-key': KEY } }),
      await send('/v1/items?limit=1', { headers: { cookie: `session=${KEY}`, authorization: `Bearer ${KEY}x` } }),
      await send('/v1/events', {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'e1', userId: 'u1', itemId: 'i1', type: 'view' }),
      }),
    ];
    for (const request of sent) assert.ok(linesOf(request.id).length >= 1, `request ${request.id} is logged`);
    const redacted = linesOf(sent[1]!.id)[0]!.req!.url;
    assert.equal(redacted, '/v1/items?limit=1&api_key=[REDACTED]', 'the rest of the URL stays readable');
    const leaks = lines.filter((line) => line.includes(KEY) || line.includes(KEY.slice(0, 16)));
    assert.deepEqual(leaks, []);
  });

  it('logs an unexpected failure at error level with its stack, and without the key in its URL', async () => {
    // The engine closed under a running server: a real failure the server did not plan for.
    await services.close();
    await engine.close();
    const failed = await send(`/v1/events?access_token=${KEY}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'e2', userId: 'u1', itemId: 'i1', type: 'view' }),
    });
    assert.equal(failed.status, 500);
    const logged = linesOf(failed.id);
    assert.equal(logged.length, 1, 'one line per request');
    assert.equal(logged[0]!.level, 50, 'error');
    assert.match(logged[0]!.err!.stack, /the engine is closed\n\s+at /);
    assert.equal(logged[0]!.req!.url, '/v1/events?access_token=[REDACTED]');
    assert.deepEqual(
      lines.filter((line) => line.includes(KEY)),
      [],
    );
  });
});

describe('redaction', () => {
  it('replaces credential-like query values and nothing else', () => {
    assert.equal(redactUrl('/v1/items'), '/v1/items');
    assert.equal(redactUrl('/v1/users/u1/recommendations?count=3&includeTags=a,b'), '/v1/users/u1/recommendations?count=3&includeTags=a,b');
    assert.equal(
      redactUrl('/x?a=1&Api_Key=s&b=2&client_secret=s&sig=s&session_id=s'),
      '/x?a=1&Api_Key=[REDACTED]&b=2&client_secret=[REDACTED]&sig=[REDACTED]&session_id=[REDACTED]',
    );
    assert.equal(redactUrl('/x?token'), '/x?[REDACTED]');
    assert.equal(redactUrl('/x?%E0%A4%A=1&pass%77ord=s'), '/x?%E0%A4%A=1&pass%77ord=[REDACTED]');
  });

  it('replaces credentials in free text', () => {
    assert.equal(redactText('GET /v1/items?limit=1&api_key=abc failed'), 'GET /v1/items?limit=1&api_key=[REDACTED] failed');
    assert.equal(redactText('sent Authorization: Bearer abc.def'), 'sent Authorization: Bearer [REDACTED]');
    assert.equal(redactText('count=3 and limit=2'), 'count=3 and limit=2');
  });
});
