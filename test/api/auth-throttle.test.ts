import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { pino } from 'pino';

import { ConfigError } from '../../base/errors.ts';
import { ApiServer } from '../../src/api/api-server.ts';
import { AuthFailureThrottle } from '../../src/api/auth-throttle.ts';
import { type EngineConfig, loadConfig } from '../../src/config.ts';
import { InterestEngine } from '../../src/engine.ts';
import { type EngineServices, startEngineServices } from '../../src/engine-services.ts';

/**
 * Failed API keys are throttled per client address before any key is checked: a real server on loopback,
 * with clients on two loopback addresses (127.0.0.1 and 127.0.0.2), on a real engine.
 */
const quiet = pino({ level: 'silent' });
const KEY = 'throttle-test-key-0123456789';
const LIMIT = 5;

interface Answer {
  status: number;
  retryAfter: string | undefined;
}

describe('throttling failed API keys per client address', function () {
  this.timeout(60_000);
  let dataDir: string;
  let config: EngineConfig;
  let engine: InterestEngine;
  let services: EngineServices;
  const servers: ApiServer[] = [];

  /** A GET from `localAddress`, on a new connection each time. */
  const get = (url: string, headers: Record<string, string>, localAddress = '127.0.0.1'): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = request(url, { headers, localAddress, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'] }));
      });
      req.on('error', reject);
      req.end();
    });

  async function serve(overrides: Partial<EngineConfig['api']> = {}): Promise<string> {
    const api = new ApiServer({ ...config, api: { ...config.api, ...overrides } }, quiet);
    servers.push(api);
    const url = await api.listen(0, '127.0.0.1');
    api.attach({ engine, ...services, lastEvaluation: () => null });
    return `${url}/v1/items?limit=1`;
  }

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'auth-throttle-'));
    config = loadConfig({
      env: {
        DATA_DIR: dataDir,
        API_KEYS: `app:${KEY}:read`,
        API_AUTH_FAILURES_PER_MINUTE: String(LIMIT),
        GNN_TRAIN_ON_START: 'false',
        GNN_REFRESH_MINUTES: '0',
        COMMUNITIES_REFRESH_MINUTES: '0',
      },
    });
    engine = await InterestEngine.open(config, { logger: quiet });
    services = await startEngineServices(engine, quiet);
  });
  after(async () => {
    for (const api of servers) await api.close({ idleGraceMs: 0 });
    await services?.close();
    await engine?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 401 to the first invalid keys, then 429 with Retry-After to that address, a correct key included', async () => {
    const url = await serve();
    for (let i = 0; i < LIMIT; i++) assert.equal((await get(url, { authorization: `Bearer wrong-key-${i}-0123456789` })).status, 401);
    for (let i = 0; i < 7; i++) {
      const refused = await get(url, { 'x-api-key': `wrong-key-again-${i}-0123456789` });
      assert.equal(refused.status, 429, `guess ${LIMIT + i + 1}`);
      const seconds = Number(refused.retryAfter);
      assert.ok(Number.isInteger(seconds) && seconds >= 1 && seconds <= 60, `Retry-After ${refused.retryAfter}`);
    }
    // Were the right key let through, its answer alone would not be 429: the guesser would know it.
    const right = await get(url, { authorization: `Bearer ${KEY}` });
    assert.equal(right.status, 429);
    // Another address is not affected.
    assert.equal((await get(url, { authorization: `Bearer ${KEY}` }, '127.0.0.2')).status, 200);
    assert.equal((await get(url, { authorization: 'Bearer wrong-key-elsewhere-0123456789' }, '127.0.0.2')).status, 401);
  });

  it('does not count requests without a key, valid keys, or keys lacking a role', async () => {
    const url = await serve({ rateLimitPerMinute: 1_000 });
    for (let i = 0; i < LIMIT * 2; i++) assert.equal((await get(url, {})).status, 401);
    for (let i = 0; i < LIMIT * 2; i++) assert.equal((await get(url, { authorization: `Bearer ${KEY}` })).status, 200);
    const admin = url.replace('/v1/items?limit=1', '/v1/users/someone/export');
    for (let i = 0; i < LIMIT * 2; i++) assert.equal((await get(admin, { authorization: `Bearer ${KEY}` })).status, 403);
    for (let i = 0; i < LIMIT - 1; i++) assert.equal((await get(url, { authorization: `Bearer wrong-${i}-0123456789abc` })).status, 401);
    assert.equal((await get(url, { authorization: `Bearer ${KEY}` })).status, 200, 'one failure short of the limit');
  });

  it('keeps the per-key rate limit for valid keys', async () => {
    const url = await serve({ rateLimitPerMinute: 2 });
    assert.equal((await get(url, { authorization: `Bearer ${KEY}` })).status, 200);
    assert.equal((await get(url, { authorization: `Bearer ${KEY}` })).status, 200);
    assert.equal((await get(url, { authorization: `Bearer ${KEY}` })).status, 429);
  });
});

describe('AuthFailureThrottle', () => {
  it('blocks an address after `limit` failures until its minute is over, then counts afresh', () => {
    let now = 1_000_000;
    const throttle = new AuthFailureThrottle(3, 60_000, () => now);
    assert.equal(throttle.recordFailure('a'), false);
    assert.equal(throttle.recordFailure('a'), false);
    assert.equal(throttle.retryAfterSeconds('a'), 0);
    assert.equal(throttle.recordFailure('a'), true, 'the third failure uses up the allowance');
    assert.equal(throttle.retryAfterSeconds('a'), 60);
    assert.equal(throttle.retryAfterSeconds('b'), 0);
    now += 59_500;
    assert.equal(throttle.retryAfterSeconds('a'), 1);
    now += 500;
    assert.equal(throttle.retryAfterSeconds('a'), 0, 'the window is over');
    assert.equal(throttle.recordFailure('a'), false, 'a new window starts');
  });

  it('forgets addresses whose window is over', () => {
    let now = 0;
    const throttle = new AuthFailureThrottle(3, 60_000, () => now);
    for (let i = 0; i < 1_000; i++) throttle.recordFailure(`10.0.${i >> 8}.${i & 255}`);
    assert.equal(throttle.size, 1_000);
    now += 60_000;
    throttle.recordFailure('10.9.9.9');
    assert.equal(throttle.size, 1);
  });
});

describe('API_AUTH_FAILURES_PER_MINUTE', () => {
  it('defaults to 20 and must be a whole number of at least 1', () => {
    assert.equal(loadConfig({ env: {} }).api.authFailuresPerMinute, 20);
    assert.equal(loadConfig({ env: { API_AUTH_FAILURES_PER_MINUTE: '3' } }).api.authFailuresPerMinute, 3);
    for (const bad of ['0', '-1', '2.5', 'many']) {
      assert.throws(
        () => loadConfig({ env: { API_AUTH_FAILURES_PER_MINUTE: bad } }),
        (e: unknown) => e instanceof ConfigError && e.issues.length === 1 && e.issues[0]!.path === 'API_AUTH_FAILURES_PER_MINUTE',
        bad,
      );
    }
  });
});
