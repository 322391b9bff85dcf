import type { Logger } from '../../base/logger.ts';
import type { EngineConfig } from '../config.ts';
import type { TrainingDelegate, TrainingState } from '../embeddings/embedding-service.ts';
import { type RunningServer, serve } from '../server.ts';
import { type IpcEnd, ipcLink } from '../store/shared/message-links.ts';
import { SharedStore } from '../store/shared/shared-store.ts';
import { deserializeError, serializeError } from '../store/shared/store-protocol.ts';
import { controlOf, sendControl, type TrainerQuestion, type WorkerRole } from './worker-control.ts';

/**
 * A worker of a server with several (see server-primary.ts): serves HTTP on the shared port from its own
 * projection, over the store the primary shares. The trainer loads the demo data, trains and saves the
 * GNN and tells the primary, which tells the others to load it; "train now" at another worker goes to the
 * trainer. Limits counted per process (requests and failed keys a minute) are shared out among the
 * workers, since each sees about its share of the traffic.
 */
export async function runWorker(
  config: EngineConfig,
  logger: Logger,
  role: WorkerRole,
  /** The trainer's start-up summary, sent to the primary with its `ready`. */
  summarise: (server: RunningServer) => string,
): Promise<RunningServer> {
  const channel = process as unknown as IpcEnd;
  const pending = new Map<number, { resolve: (result: unknown) => void; reject: (error: Error) => void }>();
  let nextQuestion = 1;
  const askTrainer = (question: TrainerQuestion): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextQuestion++;
      pending.set(id, { resolve, reject });
      sendControl(channel, { kind: 'ask', id, question });
    });
  const delegate: TrainingDelegate = {
    startTraining: ({ fineTune }) => askTrainer({ kind: 'train', fineTune }) as Promise<{ fineTune: boolean }>,
    trainingState: () => askTrainer({ kind: 'training-state' }) as Promise<TrainingState>,
  };
  const share = (perMinute: number): number => Math.max(1, Math.ceil(perMinute / config.workers));
  const workerConfig: EngineConfig = {
    ...config,
    api: { ...config.api, rateLimitPerMinute: share(config.api.rateLimitPerMinute), authFailuresPerMinute: share(config.api.authFailuresPerMinute) },
  };
  const server = await serve(workerConfig, {
    logger,
    store: new SharedStore(config.store, ipcLink(channel)),
    loadsDemoData: role === 'trainer',
    training: role === 'trainer' ? { trainsHere: true } : { trainsHere: false, delegate },
    // The cluster hands connections only to workers that listen: listening once loaded, a worker started
    // again after a crash takes no requests before it can answer them.
    listenOnceLoaded: true,
  });
  const embeddings = server.services.embeddings;
  channel.on('message', (message: unknown) => {
    const control = controlOf(message);
    if (!control) return;
    switch (control.kind) {
      case 'model-saved':
        embeddings.reloadSaved();
        return;
      case 'ask': {
        const { id, question } = control;
        const answer = question.kind === 'train' ? embeddings.startTraining({ fineTune: question.fineTune }) : embeddings.trainingState();
        answer.then(
          (result) => sendControl(channel, { kind: 'answer', id, result }),
          (error: unknown) => sendControl(channel, { kind: 'answer', id, error: serializeError(error) }),
        );
        return;
      }
      case 'answer': {
        const asked = pending.get(control.id);
        if (!asked) return;
        pending.delete(control.id);
        if (control.error) asked.reject(deserializeError(control.error));
        else asked.resolve(control.result);
        return;
      }
      default:
        return;
    }
  });
  if (role === 'trainer') embeddings.onInstalled((installed) => sendControl(channel, { kind: 'model-saved', version: installed.info.version }));
  sendControl(channel, { kind: 'ready', url: server.url, ...(role === 'trainer' ? { summary: summarise(server) } : {}) });
  return server;
}
