import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { pino } from 'pino';

import { loadConfig } from '../../src/config.ts';
import { InterestEngine } from '../../src/engine.ts';

const writer = fileURLToPath(new URL('./crash-writer.ts', import.meta.url));
const BATCH = 200;

/** Starts the writer, waits for `acksBeforeKill` acknowledgements, SIGKILLs it at once, returns the acked batches. */
function runAndKill(dataDir: string, round: number, acksBeforeKill: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, dataDir, String(round), String(BATCH)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const acked: number[] = [];
    let killed = false;
    createInterface({ input: child.stdout }).on('line', (line) => {
      const [word, , batch] = line.split(' ');
      if (word !== 'ACK' || killed) return;
      acked.push(Number(batch));
      if (acked.length >= acksBeforeKill) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer exited on its own: code ${code}, signal ${signal}`));
      else resolve(acked);
    });
  });
}

describe('crash safety of the embedded store', function () {
  this.timeout(120_000);
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'crash-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('keeps every acknowledged event when the process is SIGKILLed mid-stream, round after round', async () => {
    const config = loadConfig({ env: { DATA_DIR: dataDir } });
    const acknowledged: Array<{ round: number; batch: number }> = [];
    // Kill points vary so the kill lands in different phases of a write (seeded, so a failure reproduces).
    const killAfter = [7, 23, 2, 41];
    for (const [round, acks] of killAfter.entries()) {
      const acked = await runAndKill(dataDir, round, acks);
      assert.ok(acked.length >= acks);
      for (const batch of acked) acknowledged.push({ round, batch });

      const engine = await InterestEngine.open(config, { logger: pino({ level: 'silent' }) });
      try {
        // Re-sending every acknowledged event must find each one already stored.
        let missing = 0;
        for (const { round: r, batch } of acknowledged) {
          const ids = Array.from({ length: BATCH }, (_, k) => ({
            id: `r${r}-b${batch}-${k}`,
            type: 'view',
            userId: 'probe',
            itemId: 'probe',
            timestamp: 1,
          }));
          const receipt = await engine.ingestEvents(ids);
          missing += receipt.accepted;
          assert.equal(receipt.accepted, 0, `round ${r} batch ${batch}: ${receipt.accepted} acknowledged events lost`);
        }
        assert.equal(missing, 0);
        // The graph rebuilt from the store holds at least every acknowledged event (an unacknowledged
        // batch in flight at the kill may also have committed).
        assert.ok(engine.stats().interactions >= acknowledged.length * BATCH);
        await engine.eraseSubject('user', 'probe');
      } finally {
        await engine.close();
      }
    }
  });
});
