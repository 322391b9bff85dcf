/**
 * Child process of the crash test: streams batches into an engine and prints `ACK <first> <last>` for each
 * batch once `ingestEvents` has resolved (that is, once the batch is durable). The parent kills it with
 * SIGKILL at a moment of its choosing.
 */
import { pino } from 'pino';

import { loadConfig } from '../../src/config.ts';
import { InterestEngine } from '../../src/engine.ts';

const [dataDir, round, batchSize] = process.argv.slice(2);
const size = Number(batchSize);
const engine = await InterestEngine.open(loadConfig({ env: { DATA_DIR: dataDir } }), { logger: pino({ level: 'silent' }) });
process.stdout.write('READY\n');
for (let batch = 0; ; batch++) {
  const events = Array.from({ length: size }, (_, k) => ({
    id: `r${round}-b${batch}-${k}`,
    type: k % 5 === 0 ? 'rating' : 'view',
    userId: `u${(batch * 31 + k) % 97}`,
    itemId: `i${(batch * 7 + k * 13) % 251}`,
    ...(k % 5 === 0 ? { value: 1 + (k % 5) } : {}),
    timestamp: 1_700_000_000_000 + batch * 1000 + k,
  }));
  await engine.ingestEvents(events);
  process.stdout.write(`ACK ${round} ${batch}\n`);
}
