import { Worker } from 'node:worker_threads';

/**
 * Starts the module at `moduleUrl` in a worker thread. The engine runs its TypeScript through tsx, whose
 * loader worker threads do not inherit: a TypeScript module gets a boot script that registers tsx first.
 */
export function startModuleWorker(moduleUrl: string, workerData: unknown): Worker {
  if (!moduleUrl.endsWith('.ts')) return new Worker(new URL(moduleUrl), { workerData });
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(moduleUrl)}); })`;
  return new Worker(boot, { eval: true, workerData });
}
