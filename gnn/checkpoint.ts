import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

import { z } from 'zod';

import { dataDirectoryPath } from '../base/data-directory.ts';
import { writeFileDurably } from '../base/durable-file.ts';
import { CheckpointError, OutdatedCheckpointError } from '../base/errors.ts';
import type { ModelVocabulary } from './graph-training-input.ts';
import { type GatHyperparameters, InterestGAT } from './interest-gat.ts';

/**
 * Trained models on disk, in the data directory: `model/gat-<version>.json` (hyperparameters, vocabulary,
 * parameter shapes, training summary), `model/gat-<version>.bin` (float32 little-endian values), for a model
 * with co-liked features `model/gat-<version>.co-liked.bin` (its co-liked lists, int32), and
 * `model/manifest.json` listing the current checkpoint and the previous one, newest first, with the size
 * and SHA-256 of each of their files.
 *
 * Saving writes the new files (each to a temporary name, flushed, renamed), then replaces the manifest the
 * same way, then removes every file the manifest no longer lists: a crash leaves the previous manifest and
 * its files in place, never half of a new model. Loading verifies every file against the manifest and
 * takes the newest checkpoint that passes; each one refused is reported (a flipped block in a `.bin` of the
 * right size would otherwise load, and serve, garbage).
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

/** A checkpoint (or the manifest) that was not used, and why: the file it failed on is `error.path`. */
export type RefusedCheckpoint = CheckpointError | OutdatedCheckpointError;

export interface LoadCheckpointOptions {
  /** Called for each checkpoint refused, newest first, before an older one is tried. */
  readonly onRefused?: (error: RefusedCheckpoint) => void;
}

/** 2: item features are unit vectors and subjects have length `hyper.scale` (cosine scoring). */
const FORMAT = 2;
/** The current checkpoint and the previous one. */
const KEEP = 2;
const MANIFEST = 'manifest.json';
/** The pointer engines before checksums wrote instead of a manifest: its checkpoint cannot be verified. */
const LEGACY_POINTER = 'CURRENT';

const versionSchema = z.string().regex(/^[A-Za-z0-9._-]+$/);

const descriptionSchema = z.strictObject({
  format: z.literal(FORMAT),
  version: versionSchema,
  trainedAt: z.string(),
  backend: z.string(),
  hyper: z.strictObject({
    dims: z.number().int().positive(),
    heads: z.number().int().positive(),
    fanout: z.number().int().positive(),
    history: z.number().int().nonnegative(),
    scale: z.number().positive(),
    seed: z.number().int(),
    coLiked: z.number().int().nonnegative().optional(),
  }),
  training: z.record(z.string(), z.unknown()),
  // coLiked: how many neighbours the co-liked lists hold, in `gat-<version>.co-liked.bin` (see saveCheckpoint).
  vocabulary: z.strictObject({
    items: z.array(z.string()),
    tags: z.array(z.string()),
    coLiked: z.strictObject({ neighbours: z.number().int().nonnegative() }).optional(),
  }),
  parameters: z.array(z.strictObject({ name: z.string(), shape: z.array(z.number().int().nonnegative()), offset: z.number().int().nonnegative() })),
});

const fileSchema = z.strictObject({
  name: z.string().regex(/^gat-[A-Za-z0-9._-]+\.(?:json|bin)$/),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
type ManifestFile = z.infer<typeof fileSchema>;

const entrySchema = z.strictObject({ version: versionSchema, files: z.array(fileSchema).min(1) });
type ManifestEntry = z.infer<typeof entrySchema>;

const manifestSchema = z.strictObject({ format: z.literal(1), checkpoints: z.array(entrySchema) });

export function modelDirectory(dataDir: string): string {
  return dataDirectoryPath(dataDir, 'model');
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
  const { coLiked } = vocabulary;
  const description = {
    format: FORMAT,
    ...summary,
    hyper: { ...summary.hyper },
    vocabulary: { items: vocabulary.items, tags: vocabulary.tags, ...(coLiked ? { coLiked: { neighbours: coLiked.neighbour.length } } : {}) },
    parameters,
  };
  const base = `gat-${summary.version}`;
  const contents: Array<[name: string, data: Uint8Array]> = [
    [`${base}.bin`, new Uint8Array(values.buffer, values.byteOffset, values.byteLength)],
    [`${base}.json`, Buffer.from(JSON.stringify(description))],
  ];
  if (coLiked) {
    // The lists the model was trained with, int32: the items' start offsets, then the neighbours.
    const lists = new Int32Array(coLiked.start.length + coLiked.neighbour.length);
    lists.set(coLiked.start);
    lists.set(coLiked.neighbour, coLiked.start.length);
    contents.push([`${base}.co-liked.bin`, new Uint8Array(lists.buffer)]);
  }
  for (const [name, data] of contents) writeDurably(path.join(dir, name), data);
  const entry: ManifestEntry = { version: summary.version, files: contents.map(([name, data]) => ({ name, bytes: data.length, sha256: sha256Of(data) })) };
  // The previous checkpoint kept is the newest one that still verifies: after a damaged one was refused at
  // start-up, the fallback is kept rather than the damage.
  const previous = (readManifest(dir)?.checkpoints ?? []).filter((c) => c.version !== summary.version && intact(dir, c)).slice(0, KEEP - 1);
  const manifest = { format: 1, checkpoints: [entry, ...previous] };
  writeDurably(path.join(dir, MANIFEST), Buffer.from(JSON.stringify(manifest)));
  syncDirectory(dir);
  removeUnlisted(dir, manifest.checkpoints);
  return path.join(dir, base);
}

/**
 * The newest saved checkpoint whose files all match the manifest and read back, or null when there is none
 * (then a new model is trained). Each checkpoint refused on the way (damaged, truncated, missing, or of an
 * older format) goes to `onRefused`; loading never throws for what is on disk.
 */
export function loadCheckpoint(dataDir: string, options: LoadCheckpointOptions = {}): LoadedCheckpoint | null {
  const refuse = options.onRefused ?? (() => undefined);
  const dir = modelDirectory(dataDir);
  const manifestPath = path.join(dir, MANIFEST);
  if (!existsSync(manifestPath)) {
    const legacy = legacyCheckpoint(dir);
    if (legacy) refuse(legacy);
    return null;
  }
  let manifest: z.infer<typeof manifestSchema>;
  try {
    manifest = parseWith(manifestSchema, JSON.parse(readFileSync(manifestPath, 'utf8')), manifestPath);
  } catch (error) {
    refuse(error instanceof CheckpointError ? error : new CheckpointError(manifestPath, `cannot be read (${(error as Error).message})`, { cause: error }));
    return null;
  }
  for (const entry of manifest.checkpoints) {
    try {
      return loadEntry(dir, entry);
    } catch (error) {
      if (error instanceof CheckpointError || error instanceof OutdatedCheckpointError) refuse(error);
      else refuse(new CheckpointError(path.join(dir, `gat-${entry.version}`), (error as Error).message, { cause: error }));
    }
  }
  return null;
}

function loadEntry(dir: string, entry: ManifestEntry): LoadedCheckpoint {
  const listed = (suffix: string): ManifestFile => {
    const file = entry.files.find((f) => f.name === `gat-${entry.version}${suffix}`);
    if (!file) throw new CheckpointError(path.join(dir, MANIFEST), `lists no gat-${entry.version}${suffix}`);
    return file;
  };
  const descriptionFile = listed('.json');
  const valuesFile = listed('.bin');
  const descriptionPath = path.join(dir, descriptionFile.name);
  const descriptionBytes = readListed(dir, descriptionFile);
  // An older format is refused as outdated before the checksum: it cannot be used however intact it is.
  const format = formatOf(descriptionBytes);
  if (format !== undefined && format < FORMAT) throw new OutdatedCheckpointError(descriptionPath, format, FORMAT);
  verify(dir, descriptionFile, descriptionBytes);
  const bytes = readListed(dir, valuesFile);
  verify(dir, valuesFile, bytes);
  for (const file of entry.files) if (file !== descriptionFile && file !== valuesFile) verify(dir, file, readListed(dir, file));

  const description = parseWith(descriptionSchema, JSON.parse(descriptionBytes.toString('utf8')), descriptionPath);
  const binPath = path.join(dir, valuesFile.name);
  if (bytes.byteLength % 4 !== 0) throw new CheckpointError(binPath, `holds ${bytes.byteLength} bytes, not whole float32 values`);
  const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const model = new InterestGAT(description.hyper, description.vocabulary.items.length, description.vocabulary.tags.length);
  try {
    model.params.restore(
      description.parameters.map((p) => {
        const size = p.shape.reduce((a, b) => a * b, 1);
        if (p.offset + size > values.length) throw new CheckpointError(binPath, `holds ${values.length} values, ${p.name} needs ${p.offset + size}`);
        return { name: p.name, shape: p.shape, values: values.subarray(p.offset, p.offset + size) };
      }),
    );
  } catch (error) {
    model.dispose();
    if (error instanceof CheckpointError) throw error;
    throw new CheckpointError(binPath, (error as Error).message, { cause: error });
  }
  const { vocabulary: described, parameters: _parameters, format: _format, ...summary } = description;
  const vocabulary: ModelVocabulary = { items: described.items, tags: described.tags };
  if (described.coLiked) {
    const file = listed('.co-liked.bin');
    const listsPath = path.join(dir, file.name);
    const listBytes = readListed(dir, file);
    verify(dir, file, listBytes);
    const starts = described.items.length + 1;
    if (listBytes.byteLength !== 4 * (starts + described.coLiked.neighbours)) {
      model.dispose();
      throw new CheckpointError(listsPath, `holds ${listBytes.byteLength} bytes, not ${starts} offsets and ${described.coLiked.neighbours} neighbours`);
    }
    const lists = new Int32Array(listBytes.buffer.slice(listBytes.byteOffset, listBytes.byteOffset + listBytes.byteLength));
    return { summary, vocabulary: { ...vocabulary, coLiked: { start: lists.subarray(0, starts), neighbour: lists.subarray(starts) } }, model };
  }
  return { summary, vocabulary, model };
}

/** A file's bytes as the manifest lists it: missing and unreadable files are CheckpointErrors naming it. */
function readListed(dir: string, file: ManifestFile): Buffer {
  const where = path.join(dir, file.name);
  try {
    return readFileSync(where);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CheckpointError(where, code === 'ENOENT' ? 'is missing' : `cannot be read (${(error as Error).message})`, { cause: error });
  }
}

function verify(dir: string, file: ManifestFile, bytes: Uint8Array): void {
  const where = path.join(dir, file.name);
  if (bytes.byteLength !== file.bytes)
    throw new CheckpointError(where, `has ${bytes.byteLength} bytes, the manifest says ${file.bytes} (truncated or overwritten)`);
  const actual = sha256Of(bytes);
  if (actual !== file.sha256) throw new CheckpointError(where, `failed its checksum (SHA-256 ${actual}, the manifest says ${file.sha256})`);
}

/** Whether every file of the checkpoint is there and matches the manifest. */
function intact(dir: string, entry: ManifestEntry): boolean {
  try {
    for (const file of entry.files) verify(dir, file, readListed(dir, file));
    return true;
  } catch {
    return false;
  }
}

/** The manifest, or null when there is none or it cannot be read (then nothing it listed is kept). */
function readManifest(dir: string): z.infer<typeof manifestSchema> | null {
  try {
    return manifestSchema.parse(JSON.parse(readFileSync(path.join(dir, MANIFEST), 'utf8')));
  } catch {
    return null;
  }
}

/** A checkpoint saved before manifests (a `CURRENT` pointer): outdated, or unverifiable; null when none. */
function legacyCheckpoint(dir: string): RefusedCheckpoint | null {
  const pointer = path.join(dir, LEGACY_POINTER);
  if (!existsSync(pointer)) return null;
  try {
    const description = path.join(dir, `gat-${readFileSync(pointer, 'utf8').trim()}.json`);
    const format = formatOf(readFileSync(description));
    if (format !== undefined && format < FORMAT) return new OutdatedCheckpointError(description, format, FORMAT);
  } catch {
    // Unreadable as well as unverifiable: reported as the latter below.
  }
  return new CheckpointError(pointer, 'names a model saved without checksums (by an older engine), which cannot be verified; a new one is trained');
}

/** The `format` a checkpoint description declares, if it parses at all (the checksum judges the rest). */
function formatOf(bytes: Uint8Array): number | undefined {
  try {
    const format = (JSON.parse(Buffer.from(bytes).toString('utf8')) as { format?: unknown } | null)?.format;
    return typeof format === 'number' ? format : undefined;
  } catch {
    return undefined;
  }
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new CheckpointError(where, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return parsed.data;
}

function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A full disk leaves no temporary file behind and is reported as StorageFullError. */
function writeDurably(file: string, data: Uint8Array): void {
  writeFileDurably(file, data);
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Removes the checkpoint files the manifest does not list: older checkpoints, refused ones, temporary
 * files a crash left, and the pointer of engines before manifests.
 */
function removeUnlisted(dir: string, checkpoints: readonly ManifestEntry[]): void {
  const listed = new Set(checkpoints.flatMap((c) => c.files.map((f) => f.name)));
  for (const name of readdirSync(dir)) {
    const unlisted = name.startsWith('gat-') ? !listed.has(name) : name === LEGACY_POINTER || name.startsWith(`${MANIFEST}.tmp-`);
    if (unlisted) rmSync(path.join(dir, name), { force: true });
  }
}
