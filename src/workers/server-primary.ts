import cluster, { type Worker } from 'node:cluster';

import type { Logger } from '../../base/logger.ts';
import type { EngineConfig } from '../config.ts';
import type { GraphStore } from '../store/graph-store.ts';
import { ipcLink } from '../store/shared/message-links.ts';
import { StoreHost } from '../store/shared/store-host.ts';
import { controlOf, sendControl, type WorkerRole } from './worker-control.ts';

/** A worker that died is started again after this long (not in a tight loop if it dies at once). */
const RESTART_DELAY_MS = 1_000;

/**
 * The primary process of a server with several workers (`WORKERS` > 1). It owns the store (the only
 * process that opens it) and shares it with the workers through a `StoreHost`; the workers listen on the
 * one port (Node's cluster hands each new connection to the next worker) and each holds its own projection,
 * which the host keeps in step: a write is in every worker's graph before its answer leaves. One worker is
 * the trainer (it loads the demo data, trains the GNN and saves it; the others load what it saved), and a
 * worker that dies is started again, in its role.
 */
export class ServerPrimary {
  private readonly host: StoreHost;
  private readonly roles = new Map<Worker, WorkerRole>();
  /** Questions forwarded to the trainer: their id there → the asking worker and its own id. */
  private readonly trainRequests = new Map<number, { worker: Worker; id: number }>();
  private nextTrainId = 1;
  private stopping = false;

  constructor(
    private readonly config: EngineConfig,
    private readonly store: GraphStore,
    private readonly logger: Logger,
  ) {
    this.host = new StoreHost(store, logger);
    // Typed arrays (snapshots) cross as they are, not as JSON.
    cluster.setupPrimary({ serialization: 'advanced' });
  }

  /**
   * Starts the trainer, then, once it serves, the other workers; resolves when all of them serve, with the
   * trainer's start-up summary.
   */
  async start(): Promise<{ url: string; summary: string }> {
    const trainer = await this.ready(this.fork('trainer'));
    await Promise.all(Array.from({ length: this.config.workers - 1 }, () => this.ready(this.fork('follower'))));
    return { url: trainer.url, summary: trainer.summary ?? '' };
  }

  /** Stops every worker (each answers its requests in flight), then the store. */
  async stop(): Promise<void> {
    this.stopping = true;
    const exits = [...this.roles.keys()].map((worker) => new Promise<void>((resolve) => (worker.isDead() ? resolve() : worker.once('exit', () => resolve()))));
    for (const worker of this.roles.keys()) worker.process.kill('SIGTERM');
    await Promise.all(exits);
    await this.host.drain();
    await this.store.close();
  }

  private fork(role: WorkerRole): Worker {
    const worker = cluster.fork({ WORKER_ROLE: role });
    this.roles.set(worker, role);
    const disconnect = this.host.connect(ipcLink(worker));
    worker.on('message', (message: unknown) => this.onControl(worker, message));
    worker.once('exit', (code, signal) => {
      disconnect();
      this.roles.delete(worker);
      if (this.stopping) return;
      this.logger.error({ pid: worker.process.pid, role, code, signal }, 'a worker exited: starting another');
      setTimeout(() => {
        if (!this.stopping) this.fork(role);
      }, RESTART_DELAY_MS).unref();
    });
    return worker;
  }

  private ready(worker: Worker): Promise<{ url: string; summary?: string }> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: unknown): void => {
        const control = controlOf(message);
        if (control?.kind !== 'ready') return;
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        resolve(control);
      };
      const onExit = (code: number): void => reject(new Error(`a worker exited with code ${code} before it served`));
      worker.on('message', onMessage);
      worker.once('exit', onExit);
    });
  }

  private onControl(from: Worker, message: unknown): void {
    const control = controlOf(message);
    if (!control) return;
    switch (control.kind) {
      case 'model-saved':
        for (const [worker, role] of this.roles) if (worker !== from && role === 'follower' && worker.isConnected()) sendControl(worker, control);
        return;
      case 'ask': {
        const trainer = [...this.roles].find(([worker, role]) => role === 'trainer' && worker.isConnected())?.[0];
        if (!trainer) {
          sendControl(from, {
            kind: 'answer',
            id: control.id,
            error: { name: 'StoreError', code: 'store_failure', retriable: true, message: 'the trainer is restarting; try again' },
          });
          return;
        }
        const id = this.nextTrainId++;
        this.trainRequests.set(id, { worker: from, id: control.id });
        sendControl(trainer, { ...control, id });
        return;
      }
      case 'answer': {
        const asked = this.trainRequests.get(control.id);
        if (!asked) return;
        this.trainRequests.delete(control.id);
        if (asked.worker.isConnected()) sendControl(asked.worker, { ...control, id: asked.id });
        return;
      }
      default:
        return;
    }
  }
}
