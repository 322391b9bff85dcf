import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The repository root, where `npm start` and `scripts/start.ts` run. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ServerProcess {
  readonly child: ChildProcess;
  /** Where it serves, from its `Ready:` line, e.g. `http://127.0.0.1:40123` (no trailing slash). */
  readonly url: string;
  /** Everything it wrote to stderr (its JSON log) so far. */
  stderr(): string;
}

/**
 * Starts the real server (`node --import tsx scripts/start.ts`, or `npm start` when `viaNpm`) with `env`
 * added to ours (WORKERS=1 unless `env` says otherwise), and resolves once it prints that it is ready;
 * rejects if it exits first or takes over 60 s.
 */
export function startServerProcess(env: Record<string, string>, options: { viaNpm?: boolean } = {}): Promise<ServerProcess> {
  const [command, args] = options.viaNpm ? ['npm', ['start', '--silent']] : [process.execPath, ['--import', 'tsx', 'scripts/start.ts']];
  const child = spawn(command, args, {
    cwd: ROOT,
    // One process unless the test asks for workers: the tests of shutdown, start-up and the demo data are about what one process does.
    env: { ...process.env, WORKERS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so that a Ctrl-C can be sent to npm and the server together, as a terminal does.
    detached: options.viaNpm === true,
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not become ready in time:\n${stderr}`)), 60_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const ready = /^Ready: (http:\/\/[^/\s]+)\//.exec(line);
      if (ready) {
        clearTimeout(timer);
        resolve({ child, url: ready[1]!, stderr: () => stderr });
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the server exited before it was ready (code ${code}, signal ${signal}):\n${stderr}`));
    });
  });
}
