/**
 * The GNN's whole public surface: code outside `gnn/` imports from here and nowhere else (checked by
 * test/unit/architecture.test.ts; the unit tests of the kernels and the trainer's parts may reach inside).
 *
 * What it offers, by layer:
 * - the TensorFlow.js backend: which one runs, chosen once per process;
 * - the interest GAT and its training, from the live graph (`trainOnGraph`) or from plain timelines
 *   (`trainGat`, what the offline evaluation uses);
 * - `InterestEmbeddings` and `IncrementalUpdater`: the trained model's embeddings as plain vectors, kept
 *   in step with the graph. Above this line (the embedding service, the query layer) nothing sees a tensor;
 * - checkpoints of trained models in the data directory.
 */
export type { BackendInfo, BackendPreference, PackageImporter } from './backend.ts';
export { BACKEND_PREFERENCES, BackendUnavailableError, initialiseBackend, selectBackend } from './backend.ts';
export type { CheckpointSummary, LoadCheckpointOptions, LoadedCheckpoint, RefusedCheckpoint } from './checkpoint.ts';
export { loadCheckpoint, modelDirectory, newVersion, saveCheckpoint } from './checkpoint.ts';
export type { GraphTrainingResult, WarmStart } from './graph-model-training.ts';
export { trainOnGraph } from './graph-model-training.ts';
export type { GraphTrainingInput, ModelVocabulary } from './graph-training-input.ts';
export { trainingInputFromGraph, vocabularyOf } from './graph-training-input.ts';
export type { UpdateLatency } from './incremental-updater.ts';
export { IncrementalUpdater } from './incremental-updater.ts';
export type { InteractionTimelines, TimelineColumns } from './interaction-timelines.ts';
export { buildTimelines } from './interaction-timelines.ts';
export type { ModelInfo } from './interest-embeddings.ts';
export { InterestEmbeddings } from './interest-embeddings.ts';
export type { GatHyperparameters } from './interest-gat.ts';
export { DEFAULT_GAT, InterestGAT } from './interest-gat.ts';
export { NodeVectors } from './node-vectors.ts';
export { TimelineModel } from './timeline-model.ts';
export type { EpochReport, TrainingInput, TrainingOptions, TrainingReport } from './training/gat-trainer.ts';
export { DEFAULT_TRAINING, trainGat } from './training/gat-trainer.ts';
