import { ConflictError, InsufficientTrainingDataError, OutdatedCheckpointError } from '../../base/errors.ts';
import type { Logger } from '../../base/logger.ts';
import {
  type BackendInfo,
  type BackendPreference,
  DEFAULT_TRAINING,
  type EpochReport,
  type GatHyperparameters,
  IncrementalUpdater,
  initialiseBackend,
  InterestEmbeddings,
  loadCheckpoint,
  newVersion,
  saveCheckpoint,
  type TrainingOptions,
  trainOnGraph,
} from '../../gnn/index.ts';
import type { WeightPolicy } from '../../graph/edge-weight.ts';
import type { InterestGraph } from '../../graph/interest-graph.ts';
import type { GraphChangeListener } from '../engine.ts';

/**
 * The GNN in service: picks the backend, loads the saved model (or, when there is none and the graph has
 * enough data, trains one in the background: serving does not wait for it), keeps embeddings in step with
 * the graph through the incremental updater, and fine-tunes periodically, swapping each new model in
 * atomically. No training run, failed or not, stops the service: its outcome is reported in `status()`.
 * The API and the query layer read embeddings through here and never touch tensors.
 */
export interface EmbeddingSettings {
  readonly backend: BackendPreference;
  readonly model: GatHyperparameters;
  /** Training from scratch. */
  readonly epochs: number;
  /** Train at start-up when no model is saved. */
  readonly trainOnStart: boolean;
  /** Below this many interactions there is too little to learn from: no model until there is. */
  readonly minInteractions: number;
  /** Minutes between fine-tuning runs; 0 turns them off. */
  readonly refreshMinutes: number;
  /** A fine-tuning run is skipped unless this many interactions arrived since the last training. */
  readonly refreshMinNewInteractions: number;
  readonly fineTuneEpochs: number;
}

export interface EmbeddingHost {
  readonly graph: InterestGraph;
  readonly weightPolicy: WeightPolicy;
  readonly dataDir: string;
  subscribe(listener: GraphChangeListener): () => void;
}

/** How the latest training run went: `running` until it ends. */
export interface TrainingRunStatus {
  readonly status: 'running' | 'succeeded' | 'failed' | 'skipped';
  /** Why it failed or was skipped. */
  readonly error?: string;
  /** When it started (running) or ended. */
  readonly at: string;
  readonly fineTune: boolean;
}

/** What the service reports for each epoch; `epochsShown`: the caller draws them itself (a progress bar), so the log keeps them at debug. */
export interface TrainingHooks {
  readonly onEpoch?: (report: EpochReport) => void;
  readonly epochsShown?: boolean;
}

export interface ModelStatus {
  readonly backend: BackendInfo;
  readonly loaded: boolean;
  readonly version: string | null;
  readonly trainedAt: string | null;
  readonly training: Record<string, unknown> | null;
  /** A training run is in progress (the model above stays in service until it ends). */
  readonly trainingInProgress: boolean;
  /** The latest training run since the service started; null when there was none. */
  readonly lastTraining: TrainingRunStatus | null;
  /** Saved checkpoints refused at start-up (damaged, missing files, older format): the previous one or a new model was used. */
  readonly refusedCheckpoints: readonly RefusedCheckpointNote[];
  readonly subjectsUpdated: number;
}

export interface RefusedCheckpointNote {
  readonly path: string;
  readonly problem: string;
}

/** Trains on behalf of a service that does not (see `EmbeddingService.start`). */
export interface TrainingDelegate {
  startTraining(options: { fineTune: boolean }): Promise<{ fineTune: boolean }>;
  trainingState(): Promise<TrainingState>;
}

/** Whether a run is in progress and how the last one ended, wherever the model trains. */
export interface TrainingState {
  readonly trainingInProgress: boolean;
  readonly lastTraining: TrainingRunStatus | null;
}

export class EmbeddingService {
  readonly updater: IncrementalUpdater;
  private current: InterestEmbeddings | null = null;
  private training: Record<string, unknown> | null = null;
  private lastTraining: TrainingRunStatus | null = null;
  private refusedCheckpoints: readonly RefusedCheckpointNote[] = [];
  private closing = false;
  private interactionsAtTraining = 0;
  /** Graph size at the scheduled job's last run, so a graph that taught nothing is not retried until it grows. */
  private interactionsAtLastTry = 0;
  private timer: NodeJS.Timeout | null = null;
  private retraining: Promise<boolean> | null = null;
  private readonly unsubscribe: () => void;
  private readonly installListeners = new Set<(embeddings: InterestEmbeddings) => void>();

  private constructor(
    private readonly host: EmbeddingHost,
    private readonly settings: EmbeddingSettings,
    readonly backend: BackendInfo,
    private readonly logger: Logger,
    private readonly delegate: TrainingDelegate | null,
  ) {
    this.updater = new IncrementalUpdater(
      () => this.current,
      () => host.graph,
    );
    this.unsubscribe = host.subscribe({
      interactionsApplied: (subjects) => this.updater.interactionsAdded(subjects),
      itemsChanged: (items) => this.updater.itemsChanged(items),
      nodeRemoved: (node) => this.updater.nodeRemoved(node),
    });
  }

  /**
   * Ready once the backend is up and the saved model (if any) is loaded. With no saved model, training
   * starts in the background; `trainingSettled()` tells when it ends.
   */
  static async start(
    host: EmbeddingHost,
    settings: EmbeddingSettings,
    logger: Logger,
    hooks: TrainingHooks = {},
    /** Where "train now" goes when this service does not train itself (a server's workers but one). */
    delegate?: TrainingDelegate,
  ): Promise<EmbeddingService> {
    const backend = await initialiseBackend(settings.backend, logger);
    const service = new EmbeddingService(host, settings, backend, logger, delegate ?? null);
    const { saved, refused } = loadSavedModel(host.dataDir, logger);
    service.refusedCheckpoints = refused;
    if (saved) {
      service.install(new InterestEmbeddings(saved.model, saved.vocabulary, saved.summary, () => host.graph), saved.summary.training);
      service.interactionsAtTraining = Number(saved.summary.training.interactions ?? 0);
      logger.info({ version: saved.summary.version, trainedAt: saved.summary.trainedAt }, 'GNN model loaded');
    } else if (settings.trainOnStart) {
      // Outcome and errors go to lastTraining and the log: serving goes on from the other sources meanwhile.
      service.retrain({ fineTune: false, ...hooks }).catch(() => undefined);
    }
    if (settings.refreshMinutes > 0) {
      service.timer = setInterval(() => void service.refreshIfDue(), settings.refreshMinutes * 60_000);
      service.timer.unref();
    }
    return service;
  }

  /** Calls `listener` each time a newly trained or loaded model goes into service. */
  onInstalled(listener: (embeddings: InterestEmbeddings) => void): () => void {
    this.installListeners.add(listener);
    return () => this.installListeners.delete(listener);
  }

  /** The embeddings in service, or null when no model is trained yet. */
  embeddings(): InterestEmbeddings | null {
    return this.current;
  }

  status(): ModelStatus {
    const info = this.current?.info;
    return {
      backend: this.backend,
      loaded: this.current !== null,
      version: info?.version ?? null,
      trainedAt: info?.trainedAt ?? null,
      training: this.training,
      trainingInProgress: this.retraining !== null,
      lastTraining: this.lastTraining,
      refusedCheckpoints: this.refusedCheckpoints,
      subjectsUpdated: this.updater.updated,
    };
  }

  /**
   * Trains (from scratch, or fine-tuning the model in service), saves the checkpoint and swaps the new
   * model in. Resolves false when the graph has too little to learn from (the run is `skipped`); rejects
   * when the run fails (`failed`). One run at a time.
   */
  retrain(options: { fineTune: boolean } & TrainingHooks): Promise<boolean> {
    this.retraining ??= this.recordedTraining(options).finally(() => {
      this.retraining = null;
    });
    return this.retraining;
  }

  /** Resolves when no training run is in progress (whatever its outcome). */
  async trainingSettled(): Promise<void> {
    while (this.retraining) await this.retraining.catch(() => undefined);
  }

  /**
   * Starts a training run in the background (the HTTP API's "train now"). Refused with a ConflictError
   * while a run is in progress or while the graph has too few interactions to learn from.
   */
  startTraining(options: { fineTune: boolean }): Promise<{ fineTune: boolean }> {
    if (this.delegate) return this.delegate.startTraining(options);
    try {
      return Promise.resolve(this.startTrainingHere(options));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** The training state of the trainer: this service's own, or the delegate's. */
  trainingState(): Promise<TrainingState> {
    if (this.delegate) return this.delegate.trainingState();
    return Promise.resolve({ trainingInProgress: this.retraining !== null, lastTraining: this.lastTraining });
  }

  /**
   * Puts the newest saved model in service if it is not the one in service already (a worker that does not
   * train, told that the trainer saved one); returns its version, or null when there is none to load.
   */
  reloadSaved(): string | null {
    const { saved } = loadSavedModel(this.host.dataDir, this.logger);
    if (!saved) return null;
    if (saved.summary.version === this.current?.info.version) return saved.summary.version;
    this.install(new InterestEmbeddings(saved.model, saved.vocabulary, saved.summary, () => this.host.graph), saved.summary.training);
    this.interactionsAtTraining = Number(saved.summary.training.interactions ?? 0);
    this.logger.info({ version: saved.summary.version, trainedAt: saved.summary.trainedAt }, 'GNN model loaded');
    return saved.summary.version;
  }

  private startTrainingHere(options: { fineTune: boolean }): { fineTune: boolean } {
    if (this.retraining) throw new ConflictError('a training run is already in progress');
    const interactions = this.host.graph.counts().interactions;
    if (interactions < this.settings.minInteractions) {
      throw new ConflictError(`the graph has ${interactions} interactions; training needs at least ${this.settings.minInteractions}`);
    }
    const fineTune = options.fineTune && this.current !== null;
    // A failure is reported in lastTraining and logged by the run itself.
    this.retrain({ fineTune }).catch(() => undefined);
    return { fineTune };
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.unsubscribe();
    // A run in progress stops at its next batch rather than holding shutdown for minutes.
    this.closing = true;
    await this.retraining?.catch(() => undefined);
    await this.updater.settled().catch(() => undefined);
    this.current?.dispose();
    this.current = null;
  }

  /**
   * The scheduled job's check (every `refreshMinutes`): fine-tunes once enough interactions arrived since
   * the last training; with no model yet, trains the first one as soon as the graph has enough to learn
   * from and grew since the last try, so an engine started empty gets its model without a restart.
   */
  async refreshIfDue(): Promise<void> {
    if (this.retraining || this.closing) return;
    const interactions = this.host.graph.counts().interactions;
    const due =
      this.current === null
        ? interactions >= this.settings.minInteractions && interactions > this.interactionsAtLastTry
        : interactions - this.interactionsAtTraining >= this.settings.refreshMinNewInteractions;
    if (!due) return;
    this.interactionsAtLastTry = interactions;
    // A failure is reported in lastTraining and logged by the run itself.
    await this.retrain({ fineTune: this.current !== null }).catch(() => undefined);
  }

  /** One run, its outcome kept in `lastTraining` and logged. */
  private async recordedTraining(options: { fineTune: boolean } & TrainingHooks): Promise<boolean> {
    const fineTune = options.fineTune && this.current !== null;
    const ended = (status: TrainingRunStatus['status'], error?: string): void => {
      this.lastTraining = { status, ...(error === undefined ? {} : { error }), at: new Date().toISOString(), fineTune };
    };
    ended('running');
    try {
      // The caller (start-up, a request) goes on before the run's synchronous preparation.
      await new Promise((resolve) => setImmediate(resolve));
      await this.runTraining({ ...options, fineTune });
      ended('succeeded');
      return true;
    } catch (error) {
      if (error instanceof TrainingStopped) {
        this.logger.info('GNN training stopped: the service is closing');
        ended('failed', error.message);
        throw error;
      }
      if (error instanceof InsufficientTrainingDataError) {
        this.logger.warn({ reason: error.message }, 'GNN training skipped: recommendations come from graph walks, tags and trending items');
        ended('skipped', error.message);
        return false;
      }
      this.logger.error(
        { err: error },
        this.current
          ? 'GNN training failed; the current model stays in service'
          : 'GNN training failed; recommendations come from graph walks, tags and trending items',
      );
      ended('failed', error instanceof Error ? error.message : String(error));
      throw error;
    }
  }

  private async runTraining(options: { fineTune: boolean } & TrainingHooks): Promise<void> {
    const graph = this.host.graph;
    const interactions = graph.counts().interactions;
    if (interactions < this.settings.minInteractions) {
      throw new InsufficientTrainingDataError(`the graph has ${interactions} interactions; training needs at least ${this.settings.minInteractions}`);
    }
    const warm = options.fineTune && this.current ? { model: this.current.model, vocabulary: this.current.vocabulary } : undefined;
    const trainingOptions: TrainingOptions = {
      ...DEFAULT_TRAINING,
      epochs: warm ? this.settings.fineTuneEpochs : this.settings.epochs,
      seed: this.settings.model.seed,
    };
    this.logger.info({ interactions, fineTune: Boolean(warm), epochs: trainingOptions.epochs, backend: this.backend.name }, 'GNN training started');
    const result = await trainOnGraph(graph, this.host.weightPolicy, this.settings.model, trainingOptions, {
      warmStart: warm,
      onEpoch: (report) => {
        // One line an epoch where no progress bar shows it (output piped, background runs).
        const line = {
          epoch: report.epoch,
          of: trainingOptions.epochs,
          loss: round(report.loss, 4),
          validationRecall: round(report.validationRecall, 4),
          seconds: round(report.seconds, 1),
        };
        if (options.epochsShown) this.logger.debug(line, 'GNN epoch');
        else this.logger.info(line, 'GNN epoch');
        options.onEpoch?.(report);
      },
      // Let requests through between batches: training shares the event loop with the server.
      onBatch: () =>
        new Promise((resolve, reject) => {
          setImmediate(() => (this.closing ? reject(new TrainingStopped()) : resolve()));
        }),
    });
    const summary = {
      version: newVersion(),
      trainedAt: new Date().toISOString(),
      backend: this.backend.name,
      hyper: this.settings.model,
      training: {
        interactions,
        fineTuned: Boolean(warm),
        epochs: result.report.epochs.length,
        bestEpoch: result.report.bestEpoch,
        validationRecall: result.report.bestValidationRecall,
        examples: result.report.examples,
        seconds: result.report.seconds,
      },
    };
    saveCheckpoint(this.host.dataDir, result.model, result.vocabulary, summary);
    const next = new InterestEmbeddings(result.model, result.vocabulary, summary, () => this.host.graph);
    const counts = next.recomputeAll();
    this.install(next, summary.training);
    this.interactionsAtTraining = interactions;
    this.logger.info({ version: summary.version, ...summary.training, ...counts }, 'GNN model trained and in service');
  }

  /** Swaps the model in service in one assignment; pending incremental updates then run on the new one. */
  private install(next: InterestEmbeddings, training: Record<string, unknown>): void {
    if (next !== this.current && next.subjects.size === 0) next.recomputeAll();
    const previous = this.current;
    this.current = next;
    this.training = training;
    previous?.dispose();
    for (const listener of this.installListeners) listener(next);
  }
}

/**
 * The newest saved model that passes its checksums and reads back, or null when none does (then a new one is
 * trained). Each checkpoint refused is logged with the file that failed, and which model is used instead.
 */
function loadSavedModel(dataDir: string, logger: Logger): { saved: ReturnType<typeof loadCheckpoint>; refused: RefusedCheckpointNote[] } {
  const refused: RefusedCheckpointNote[] = [];
  const saved = loadCheckpoint(dataDir, {
    onRefused: (error) => {
      refused.push({ path: error.path, problem: error.message });
      if (error instanceof OutdatedCheckpointError) {
        logger.warn({ path: error.path, format: error.format }, 'saved GNN model is of an older format and is not used');
      } else logger.error({ path: error.path, err: error }, `saved GNN model is damaged and is not used: ${error.message}`);
    },
  });
  if (refused.length > 0 && saved) logger.warn({ version: saved.summary.version }, 'using the previous saved GNN model instead');
  else if (refused.length > 0) logger.warn('no usable saved GNN model is left: a new one will be trained (see README, "Recovering from a damaged model")');
  return { saved, refused };
}

/** Ends a training run when the service closes (never seen outside this module). */
class TrainingStopped extends Error {
  constructor() {
    super('stopped: the service closed');
    this.name = 'TrainingStopped';
  }
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

/** The service's settings from the validated configuration. */
export function embeddingSettingsOf(gnn: {
  backend: BackendPreference;
  dims: number;
  heads: number;
  fanout: number;
  history: number;
  scale: number;
  coLiked: number;
  seed: number;
  epochs: number;
  trainOnStart: boolean;
  minInteractions: number;
  refreshMinutes: number;
  refreshMinNewInteractions: number;
  fineTuneEpochs: number;
}): EmbeddingSettings {
  const { dims, heads, fanout, history, scale, coLiked, seed, ...rest } = gnn;
  return { ...rest, model: { dims, heads, fanout, history, scale, coLiked, seed } };
}
