import path from 'node:path';

/**
 * Everything the engine keeps in its data directory (`DATA_DIR`), named in one place. One process owns a
 * data directory at a time (the embedded store holds a lock on its database).
 */
export const DATA_DIRECTORY = {
  /** The embedded store's SQLite database (beside it SQLite's `-wal` and `-shm` files). */
  store: 'interest-graph.sqlite',
  /** Present while an erasure's rewrite of the database waits for disk space (embedded store). */
  compactionMarker: 'erasure-rewrite-pending',
  /** Disk space kept back so that an erasure can run on a full disk (`ERASURE_RESERVE_MB`). */
  erasureReserve: 'erasure-reserve.bin',
  /** Trained GNN checkpoints (`gat-<version>.bin` and `.json`) and the manifest naming the one in service. */
  model: 'model',
  /** The API keys made at first start (mode 0600), unless `API_KEYS_FILE` names another file. */
  apiKeys: 'api-keys.json',
  /** The summary `npm run evaluate -- --out <dir>` leaves; `GET /v1/model` shows the one in the data directory. */
  evaluationSummary: 'evaluation-summary.json',
} as const;

export type DataDirectoryEntry = keyof typeof DATA_DIRECTORY;

/** Where `entry` lives in the data directory `dataDir`. */
export function dataDirectoryPath(dataDir: string, entry: DataDirectoryEntry): string {
  return path.join(dataDir, DATA_DIRECTORY[entry]);
}
