import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { CheckpointError, OutdatedCheckpointError } from '../src/errors.ts';
import type { ModelVocabulary } from './graph-training-input.ts';
import { InterestGAT, type GatHyperparameters } from './interest-gat.ts';

/**
 * Trained models on disk, in the data directory: `model/gat-<version>.json` (hyperparameters, vocabulary,
 * parameter shapes, training summary) and `model/gat-<version>.bin` (float32 little-endian values), and
 * `model/CURRENT` naming the version to load. Each file is written to a temporary name, flushed and
 * renamed, and CURRENT moves last: a crash leaves the previous model in place, never half of a new one.
 */

export interface CheckpointSummary {
  readonly version: string;
  readonly trainedAt: string;
  readonly backend: string;
  readonly hyper: GatHyperparameters;
  readonly training: Record<string, unknown>;
}

export interface LoadedCheckpoint {
  readonly summary: CheckpointSummary;
  readonly vocabulary: ModelVocabulary;
  readonly model: InterestGAT;
}

/** 2: item features are unit vectors and subjects have length `hyper.scale` (cosine scoring). */
const FORMAT = 2;
const KEEP = 2;

const manifestSchema = z.strictObject({
  format: z.literal(FORMAT),
  version: z.string().regex(/^[A-Za-z0-9._-]+$/),
  trainedAt: z.string(),
  backend: z.string(),
  hyper: z.strictObject({ dims: z.number().int().positive(), heads: z.number().int().positive(), fanout: z.number().int().positive(), history: z.number().int().nonnegative(), scale: z.number().positive(), seed: z.number().int() }),
  training: z.record(z.string(), z.unknown()),
  vocabulary: z.strictObject({ items: z.array(z.string()), tags: z.array(z.string()) }),
  parameters: z.array(z.strictObject({ name: z.string(), shape: z.array(z.number().int().nonnegative()), offset: z.number().int().nonnegative() })),
});

export function modelDirectory(dataDir: string): string {
  return path.join(dataDir, 'model');
}

/** A version name that sorts by time: `<ISO time without separators>-<n>`. */
export function newVersion(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace('.', '')}-${process.pid}`;
}

export function saveCheckpoint(dataDir: string, model: InterestGAT, vocabulary: ModelVocabulary, summary: CheckpointSummary): string {
  const dir = modelDirectory(dataDir);
  mkdirSync(dir, { recursive: true });
  const snapshot = model.params.snapshot();
  let offset = 0;
  const parameters = snapshot.map((p) => {
    const entry = { name: p.name, shape: [...p.shape], offset };
    offset += p.values.length;
    return entry;
  });
  const values = new Float32Array(offset);
  snapshot.forEach((p, i) => values.set(p.values, parameters[i]!.offset));
  const manifest = { format: FORMAT, ...summary, hyper: { ...summary.hyper }, vocabulary, parameters };
  const base = path.join(dir, `gat-${summary.version}`);
  writeDurably(`${base}.bin`, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  writeDurably(`${base}.json`, Buffer.from(JSON.stringify(manifest)));
  writeDurably(path.join(dir, 'CURRENT'), Buffer.from(`${summary.version}\n`));
  syncDirectory(dir);
  pruneOld(dir, summary.version);
  return base;
}

/** The current checkpoint, or null when none was saved; `OutdatedCheckpointError` for an older format. */
export function loadCheckpoint(dataDir: string): LoadedCheckpoint | null {
  const dir = modelDirectory(dataDir);
  const pointer = path.join(dir, 'CURRENT');
  if (!existsSync(pointer)) return null;
  const version = readFileSync(pointer, 'utf8').trim();
  const base = path.join(dir, `gat-${version}`);
  let manifest: z.infer<typeof manifestSchema>;
  try {
    const json: unknown = JSON.parse(readFileSync(`${base}.json`, 'utf8'));
    const format = (json as { format?: unknown } | null)?.format;
    if (typeof format === 'number' && format < FORMAT) throw new OutdatedCheckpointError(`${base}.json`, format, FORMAT);
    const parsed = manifestSchema.safeParse(json);
    if (!parsed.success) throw new CheckpointError(`${base}.json`, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    manifest = parsed.data;
  } catch (error) {
    if (error instanceof CheckpointError || error instanceof OutdatedCheckpointError) throw error;
    throw new CheckpointError(`${base}.json`, `cannot be read (${(error as Error).message})`, { cause: error });
  }
  const bytes = readFileSync(`${base}.bin`);
  const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const model = new InterestGAT(manifest.hyper, manifest.vocabulary.items.length, manifest.vocabulary.tags.length);
  try {
    model.params.restore(
      manifest.parameters.map((p) => {
        const size = p.shape.reduce((a, b) => a * b, 1);
        if (p.offset + size > values.length) throw new CheckpointError(`${base}.bin`, `holds ${values.length} values, ${p.name} needs ${p.offset + size}`);
        return { name: p.name, shape: p.shape, values: values.subarray(p.offset, p.offset + size) };
      }),
    );
  } catch (error) {
    model.dispose();
    if (error instanceof CheckpointError) throw error;
    throw new CheckpointError(base, (error as Error).message, { cause: error });
  }
  const { vocabulary, parameters: _parameters, format: _format, ...summary } = manifest;
  return { summary, vocabulary, model };
}

function writeDurably(file: string, data: Uint8Array): void {
  const temporary = `${file}.tmp-${process.pid}`;
  const fd = openSync(temporary, 'w');
  try {
    let written = 0;
    while (written < data.length) written += writeSync(fd, data, written, data.length - written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Keeps the newest `KEEP` checkpoints (the current one always). */
function pruneOld(dir: string, current: string): void {
  const versions = readdirSync(dir)
    .filter((f) => f.startsWith('gat-') && f.endsWith('.json'))
    .map((f) => f.slice(4, -5))
    .filter((v) => v !== current)
    .sort()
    .reverse();
  for (const version of versions.slice(KEEP - 1)) {
    rmSync(path.join(dir, `gat-${version}.json`), { force: true });
    rmSync(path.join(dir, `gat-${version}.bin`), { force: true });
  }
}
