import { readFileSync } from 'node:fs';
import path from 'node:path';

import { z } from 'zod';

import { ConfigError, type FieldIssue } from '../base/errors.ts';
import type { BackendPreference } from '../gnn/index.ts';
import type { WeightPolicy } from '../graph/edge-weight.ts';
import { INTERACTION_TYPES, type InteractionType } from '../graph/model.ts';
import { fieldIssues } from './validation.ts';

/**
 * All configuration is read here, once, and validated: defaults ← JSON file (CONFIG_FILE) ← environment
 * ← explicit overrides (CLI flags). Nothing else reads process.env.
 */

const DAY_MS = 86_400_000;
/** setInterval takes at most 2^31 − 1 ms (about 24.8 days); a longer one fires at once, over and over. */
const MAX_TIMER_MINUTES = 35_791;

const typeWeightsSchema = z.strictObject(Object.fromEntries(INTERACTION_TYPES.map((t) => [t, z.number().finite()])) as Record<InteractionType, z.ZodNumber>);

/**
 * TensorFlow.js backends for the GNN (gnn/backend.ts says what each is). Listed here rather than imported,
 * so that reading the configuration does not load tfjs; the check below keeps the two lists the same.
 */
export const GNN_BACKENDS = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;

/** What an API key may do: ingest (events, feedback, catalogue), read (recommendations), analyst, admin (everything). */
export const API_ROLES = ['ingest', 'read', 'analyst', 'admin'] as const;
export type ApiRole = (typeof API_ROLES)[number];
type SameMembers<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _gnnBackendsMatch: SameMembers<(typeof GNN_BACKENDS)[number], BackendPreference> = true;

/** API keys: a name (logged, never the key), the key, and its roles. */
export const ApiKeyListSchema = z.array(
  z.strictObject({
    name: z.string().min(1).max(100),
    key: z.string().min(16, 'must be at least 16 characters').max(512),
    roles: z.array(z.enum(API_ROLES)).min(1, 'must grant at least one role'),
  }),
);

const ConfigSchema = z
  .strictObject({
    dataDir: z.string().min(1, 'must not be empty'),
    /** embedded: SQLite in dataDir (the default, no server); neo4j: a Neo4j 5 server (the `neo4j` settings). */
    store: z.enum(['embedded', 'neo4j']),
    neo4j: z.strictObject({
      /** bolt:// or neo4j:// address; required when store is neo4j. */
      uri: z.string(),
      user: z.string(),
      password: z.string(),
      /** Empty: the server's default database. */
      database: z.string(),
      /** Rows per page when loading the projection at start-up. */
      pageSize: z.number().int().min(100).max(1_000_000),
      /** Rows per UNWIND statement in writes. */
      writeBatchSize: z.number().int().min(1).max(100_000),
      /** Retries of a transaction that failed with a transient error (deadlock, leader switch, lost connection). */
      maxRetries: z.number().int().min(0).max(20),
      /** Minutes between writing changed embeddings back (after training they are written at once); 0: only after training. */
      writeBackMinutes: z.number().min(0).max(MAX_TIMER_MINUTES, `must be at most ${MAX_TIMER_MINUTES} (a timer's limit)`),
    }),
    /** full: fsync at every commit (survives power loss); normal: survives process crashes only. */
    durability: z.enum(['full', 'normal']),
    /** MiB of disk kept free for erasures in the embedded store's data directory (released when the disk is full); 0: none. */
    erasureReserveMb: z.number().int().min(0).max(4096),
    weights: z.strictObject({
      types: typeWeightsSchema,
      ratingStars: z.tuple([z.number(), z.number(), z.number(), z.number(), z.number()]),
      halfLifeDays: z.number().positive('must be a positive number of days'),
      /** event: decay relative to the latest event seen (replayed or historical data); wall: to the wall clock. */
      clock: z.enum(['event', 'wall']),
    }),
    ingest: z.strictObject({
      maxBatchSize: z.number().int().min(1).max(100_000),
      maxClockSkewMs: z.number().int().min(0),
    }),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    api: z.strictObject({
      port: z.number().int().min(0).max(65_535),
      host: z.string().min(1),
      /** keys: every /v1 request needs an API key; disabled: development only, every caller is admin. */
      auth: z.enum(['keys', 'disabled']),
      keys: ApiKeyListSchema,
      /** Largest request body accepted (413 beyond). */
      maxBodyBytes: z.number().int().min(1_024),
      /** Requests per key (per address without auth) per minute (429 beyond). */
      rateLimitPerMinute: z.number().int().min(1),
      /** Invalid keys one client address may present per minute; beyond, all its /v1 requests get 429 until the minute is over. */
      authFailuresPerMinute: z.number().int().min(1).max(1_000_000),
    }),
    /** What `npm start` loads into an empty data directory. */
    demoData: z.enum(['synthetic', 'none']),
    /**
     * Processes `npm start` serves from: 1, one process; more, a primary that owns the store and that many
     * workers, each with its own copy of the graph (src/workers/). 1 by default while workers ingest more
     * slowly than one process (each write waits until every worker has applied it).
     */
    workers: z.number().int().min(1).max(256),
    gnn: z
      .strictObject({
        /** auto: the first that loads of tensorflow-gpu, tensorflow, wasm, cpu. */
        backend: z.enum(GNN_BACKENDS),
        /** Embedding width; a multiple of `heads`. */
        dims: z.number().int().min(4).max(1024),
        heads: z.number().int().min(1).max(32),
        /** Most recent interactions a user's or session's embedding is computed from. */
        fanout: z.number().int().min(1).max(200),
        /** … plus this many older ones, spread evenly over the rest of their history. */
        history: z.number().int().min(0).max(200),
        /** Length of a subject embedding: scores are scale · cosine + item bias (the softmax's inverse temperature). */
        scale: z.number().positive().max(1000),
        /** Co-liked items whose feature rows each item shares (0: none): an item seen a few times leans on them. */
        coLiked: z.number().int().min(0).max(500),
        seed: z.number().int(),
        epochs: z.number().int().min(1).max(1000),
        /** Train at start-up when the data directory holds no saved model. */
        trainOnStart: z.boolean(),
        minInteractions: z.number().int().min(1),
        /** Minutes between fine-tuning runs; 0 turns them off. */
        refreshMinutes: z.number().min(0).max(MAX_TIMER_MINUTES, `must be at most ${MAX_TIMER_MINUTES} (a timer's limit)`),
        refreshMinNewInteractions: z.number().int().min(1),
        fineTuneEpochs: z.number().int().min(1).max(1000),
      })
      .refine((g) => g.dims % g.heads === 0, { message: 'dims must be a multiple of heads', path: ['dims'] }),
    communities: z.strictObject({
      /** Minutes between Louvain runs (they also run at start-up and on request); 0: only those. */
      refreshMinutes: z.number().min(0).max(MAX_TIMER_MINUTES, `must be at most ${MAX_TIMER_MINUTES} (a timer's limit)`),
      /** Louvain resolution: above 1, more and smaller communities. */
      resolution: z.number().positive('must be above 0'),
    }),
    recommend: z
      .strictObject({
        /** Items per response unless the request asks otherwise, and the most a request may ask for. */
        defaultCount: z.number().int().min(1).max(1000),
        maxCount: z.number().int().min(1).max(1000),
        /** How each candidate source's normalised score counts in the final one. */
        weights: z.strictObject({
          embedding: z.number().min(0),
          walk: z.number().min(0),
          tags: z.number().min(0),
          trending: z.number().min(0),
        }),
        /** MMR diversity (0: by relevance only, 1: as different as possible) unless the request sets it. */
        diversity: z.number().min(0).max(1),
        /** A subject's most recent positive interactions the walks and tag profile start from. */
        seeds: z.number().int().min(1).max(200),
        /** The most likers of one seed item its walk goes through (an even spread of them): bounds a request's cost. */
        walkLikersPerSeed: z.number().int().min(1).max(100_000),
        /** The most items of one liker the walk reads (an even spread of them, each standing for its share of the rest). */
        walkItemsPerLiker: z.number().int().min(1).max(100_000),
        /** The most items the walks of one request read (the likers of its largest seeds are thinned to fit). */
        walkItemsPerRequest: z.number().int().min(1).max(100_000_000),
        /** Catalogues above this many items are searched with the approximate (HNSW) index, not scanned. */
        annThreshold: z.number().int().min(0),
        /** Candidates each source contributes before ranking. */
        candidatesPerSource: z.number().int().min(1).max(10_000),
        /** Paths per recommended item in explanations. */
        maxPaths: z.number().int().min(1).max(10),
      })
      .refine((r) => r.defaultCount <= r.maxCount, { message: 'must not exceed maxCount', path: ['defaultCount'] }),
  })
  .refine((c) => c.store !== 'neo4j' || c.neo4j.uri !== '', { message: 'must be set (NEO4J_URI) when the store is neo4j', path: ['neo4j', 'uri'] });
type ConfigShape = z.infer<typeof ConfigSchema>;

export interface EngineConfig extends ConfigShape {
  readonly weightPolicy: WeightPolicy;
}

export const DEFAULT_CONFIG: ConfigShape = {
  dataDir: './data',
  store: 'embedded',
  neo4j: { uri: '', user: 'neo4j', password: '', database: '', pageSize: 10_000, writeBatchSize: 1_000, maxRetries: 5, writeBackMinutes: 5 },
  durability: 'full',
  erasureReserveMb: 32,
  weights: {
    types: {
      view: 0.1,
      click: 0.3,
      add_to_cart: 0.6,
      purchase: 1.0,
      rating: 1.0,
      like: 0.8,
      dislike: -0.8,
      dismiss: -0.5,
    },
    ratingStars: [-0.6, -0.2, 0.2, 0.6, 1.0],
    halfLifeDays: 90,
    clock: 'event',
  },
  ingest: { maxBatchSize: 10_000, maxClockSkewMs: 5 * 60_000 },
  logLevel: 'info',
  api: { port: 8080, host: '0.0.0.0', auth: 'keys', keys: [], maxBodyBytes: 5 * 1024 * 1024, rateLimitPerMinute: 60_000, authFailuresPerMinute: 20 },
  demoData: 'synthetic',
  workers: 1,
  gnn: {
    backend: 'auto',
    dims: 64,
    heads: 4,
    fanout: 20,
    history: 0,
    scale: 8,
    coLiked: 0,
    seed: 1,
    epochs: 30,
    trainOnStart: true,
    minInteractions: 100,
    refreshMinutes: 60,
    refreshMinNewInteractions: 10_000,
    fineTuneEpochs: 3,
  },
  communities: { refreshMinutes: 60, resolution: 1 },
  recommend: {
    defaultCount: 20,
    maxCount: 200,
    weights: { embedding: 0.45, walk: 0.3, tags: 0.15, trending: 0.1 },
    diversity: 0.2,
    seeds: 20,
    walkLikersPerSeed: 200,
    walkItemsPerLiker: 500,
    walkItemsPerRequest: 10_000,
    annThreshold: 10_000,
    candidatesPerSource: 60,
    maxPaths: 3,
  },
};

/** Environment variables and the config path each one sets. */
const ENV_FIELDS: Record<string, { path: string[]; type: 'string' | 'number' | 'boolean' | 'keys' | 'userPassword' }> = {
  PORT: { path: ['api', 'port'], type: 'number' },
  HOST: { path: ['api', 'host'], type: 'string' },
  API_AUTH: { path: ['api', 'auth'], type: 'string' },
  API_KEYS: { path: ['api', 'keys'], type: 'keys' },
  API_RATE_LIMIT_PER_MINUTE: { path: ['api', 'rateLimitPerMinute'], type: 'number' },
  API_AUTH_FAILURES_PER_MINUTE: { path: ['api', 'authFailuresPerMinute'], type: 'number' },
  DATA_DIR: { path: ['dataDir'], type: 'string' },
  STORE: { path: ['store'], type: 'string' },
  NEO4J_URI: { path: ['neo4j', 'uri'], type: 'string' },
  /** user/password, as the Neo4j container reads it (docker-compose passes one env file to both). */
  NEO4J_AUTH: { path: ['neo4j'], type: 'userPassword' },
  NEO4J_USER: { path: ['neo4j', 'user'], type: 'string' },
  NEO4J_PASSWORD: { path: ['neo4j', 'password'], type: 'string' },
  NEO4J_DATABASE: { path: ['neo4j', 'database'], type: 'string' },
  NEO4J_WRITE_BACK_MINUTES: { path: ['neo4j', 'writeBackMinutes'], type: 'number' },
  DURABILITY: { path: ['durability'], type: 'string' },
  ERASURE_RESERVE_MB: { path: ['erasureReserveMb'], type: 'number' },
  HALF_LIFE_DAYS: { path: ['weights', 'halfLifeDays'], type: 'number' },
  DECAY_CLOCK: { path: ['weights', 'clock'], type: 'string' },
  MAX_BATCH_SIZE: { path: ['ingest', 'maxBatchSize'], type: 'number' },
  MAX_CLOCK_SKEW_MS: { path: ['ingest', 'maxClockSkewMs'], type: 'number' },
  LOG_LEVEL: { path: ['logLevel'], type: 'string' },
  DEMO_DATA: { path: ['demoData'], type: 'string' },
  WORKERS: { path: ['workers'], type: 'number' },
  GNN_BACKEND: { path: ['gnn', 'backend'], type: 'string' },
  GNN_DIMS: { path: ['gnn', 'dims'], type: 'number' },
  GNN_HEADS: { path: ['gnn', 'heads'], type: 'number' },
  GNN_FANOUT: { path: ['gnn', 'fanout'], type: 'number' },
  GNN_HISTORY: { path: ['gnn', 'history'], type: 'number' },
  GNN_SCALE: { path: ['gnn', 'scale'], type: 'number' },
  GNN_CO_LIKED: { path: ['gnn', 'coLiked'], type: 'number' },
  GNN_EPOCHS: { path: ['gnn', 'epochs'], type: 'number' },
  GNN_TRAIN_ON_START: { path: ['gnn', 'trainOnStart'], type: 'boolean' },
  GNN_REFRESH_MINUTES: { path: ['gnn', 'refreshMinutes'], type: 'number' },
  COMMUNITIES_REFRESH_MINUTES: { path: ['communities', 'refreshMinutes'], type: 'number' },
  COMMUNITIES_RESOLUTION: { path: ['communities', 'resolution'], type: 'number' },
  RECOMMEND_DIVERSITY: { path: ['recommend', 'diversity'], type: 'number' },
  RECOMMEND_ANN_THRESHOLD: { path: ['recommend', 'annThreshold'], type: 'number' },
  RECOMMEND_WALK_LIKERS_PER_SEED: { path: ['recommend', 'walkLikersPerSeed'], type: 'number' },
  RECOMMEND_WALK_ITEMS_PER_LIKER: { path: ['recommend', 'walkItemsPerLiker'], type: 'number' },
  RECOMMEND_WALK_ITEMS_PER_REQUEST: { path: ['recommend', 'walkItemsPerRequest'], type: 'number' },
};

/** The environment variables the configuration reads (besides CONFIG_FILE). */
export function configEnvironmentVariables(): string[] {
  return Object.keys(ENV_FIELDS);
}

export interface ConfigOverrides {
  dataDir?: string;
  durability?: 'full' | 'normal';
  logLevel?: ConfigShape['logLevel'];
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  overrides?: ConfigOverrides;
}

export function loadConfig(options: LoadConfigOptions = {}): EngineConfig {
  const env = options.env ?? process.env;
  const merged: Record<string, unknown> = structuredClone(DEFAULT_CONFIG);
  const issues: FieldIssue[] = [];
  const sourceOf = new Map<string, string>();

  if (env.CONFIG_FILE) {
    const file = readConfigFile(env.CONFIG_FILE, issues);
    if (file) deepMerge(merged, file);
  }
  for (const [name, field] of Object.entries(ENV_FIELDS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const dotted = field.path.join('.');
    sourceOf.set(dotted, name);
    let value: unknown = raw;
    if (field.type === 'boolean') {
      if (!['true', 'false', '1', '0'].includes(raw)) {
        issues.push({ path: name, message: `must be true or false, got '${raw}'` });
        continue;
      }
      value = raw === 'true' || raw === '1';
    } else if (field.type === 'keys') {
      // name:key:role+role, comma separated
      value = raw.split(',').map((entry) => {
        const [name = '', key = '', roles = ''] = entry.trim().split(':');
        return { name, key, roles: roles.split('+').filter(Boolean) };
      });
    } else if (field.type === 'userPassword') {
      const slash = raw.indexOf('/');
      if (slash <= 0) {
        issues.push({ path: name, message: 'must be user/password' });
        continue;
      }
      sourceOf.delete(dotted);
      for (const [key, part] of [
        ['user', raw.slice(0, slash)],
        ['password', raw.slice(slash + 1)],
      ] as const) {
        setPath(merged, [...field.path, key], part);
        sourceOf.set(`${dotted}.${key}`, name);
      }
      continue;
    } else if (field.type === 'number') {
      value = Number(raw);
      if (!Number.isFinite(value)) {
        issues.push({ path: name, message: `must be a number, got '${raw}'` });
        continue;
      }
    }
    setPath(merged, field.path, value);
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    if (value !== undefined) merged[key] = value;
  }

  const parsed = ConfigSchema.safeParse(merged);
  if (!parsed.success) {
    // Name the environment variable when that is where the bad value came from.
    for (const issue of fieldIssues(parsed.error)) {
      const source = [...sourceOf].find(([dotted]) => issue.path === dotted || issue.path.startsWith(`${dotted}[`) || issue.path.startsWith(`${dotted}.`));
      issues.push({ path: source ? source[1] + issue.path.slice(source[0].length) : issue.path, message: issue.message });
    }
  }
  if (issues.length > 0 || !parsed.success) throw new ConfigError(issues);

  const shape = parsed.data;
  return {
    ...shape,
    dataDir: path.resolve(shape.dataDir),
    weightPolicy: {
      typeWeights: shape.weights.types,
      ratingStars: shape.weights.ratingStars,
      halfLifeMs: shape.weights.halfLifeDays * DAY_MS,
    },
  };
}

function readConfigFile(file: string, issues: FieldIssue[]): Record<string, unknown> | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    issues.push({ path: 'CONFIG_FILE', message: `cannot read ${file}: ${(error as Error).message}` });
    return null;
  }
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      issues.push({ path: 'CONFIG_FILE', message: `${file} must hold a JSON object` });
      return null;
    }
    return value as Record<string, unknown>;
  } catch (error) {
    issues.push({ path: 'CONFIG_FILE', message: `${file} is not valid JSON: ${(error as Error).message}` });
    return null;
  }
}

function deepMerge(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(source)) {
    const current = target[key];
    if (isPlainObject(current) && isPlainObject(value)) deepMerge(current, value);
    else target[key] = value;
  }
}

function setPath(target: Record<string, unknown>, keys: string[], value: unknown): void {
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (!isPlainObject(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
