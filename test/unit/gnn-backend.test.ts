import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import * as tf from '@tensorflow/tfjs';
import { type Logger, pino } from 'pino';

import { BackendUnavailableError, initialiseBackend, type PackageImporter, selectBackend } from '../../gnn/backend.ts';
import { isFused } from '../../gnn/kernels/registry.ts';
import { captureTfjsState, type TfjsState } from '../tfjs-state.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const GPU = '@tensorflow/tfjs-node-gpu';
const NATIVE = '@tensorflow/tfjs-node';

interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** A real pino logger whose JSON lines are kept for the test to read. */
function recordingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return { logger, lines };
}

/** What Node throws for `import('<package>')` when the package is not installed. */
function packageNotFound(packageName: string): Error {
  return Object.assign(new Error(`Cannot find package '${packageName}' imported from ${ROOT}/gnn/backend.ts`), { code: 'ERR_MODULE_NOT_FOUND' });
}

/** Stands in for `import()`: each package either throws what `outcomes` says or loads (and registers nothing). */
function standInImporter(outcomes: Record<string, Error | 'loads'>): { importer: PackageImporter; asked: string[] } {
  const asked: string[] = [];
  const importer: PackageImporter = async (packageName) => {
    asked.push(packageName);
    const outcome = outcomes[packageName] ?? packageNotFound(packageName);
    if (outcome === 'loads') return {};
    throw outcome;
  };
  return { importer, asked };
}

const bothMissing = () => standInImporter({ [GPU]: packageNotFound(GPU), [NATIVE]: packageNotFound(NATIVE) });

async function rejectsUnavailable(promise: Promise<unknown>): Promise<BackendUnavailableError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof BackendUnavailableError, `expected a BackendUnavailableError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a BackendUnavailableError');
}

describe('GNN backend selection', function () {
  let state: TfjsState;
  before(async () => {
    state = await captureTfjsState();
  });
  after(async () => {
    await state.restore();
  });

  describe('auto', () => {
    it('falls through missing native packages to wasm, and logs why', async () => {
      const { importer, asked } = bothMissing();
      const { logger, lines } = recordingLogger();
      const info = await selectBackend('auto', logger, importer);

      assert.deepEqual(asked, [GPU, NATIVE], 'tries the GPU package, then the CPU one');
      assert.equal(info.name, 'wasm');
      assert.equal(tf.getBackend(), 'wasm');
      assert.equal(info.package, '@tensorflow/tfjs-backend-wasm');
      assert.match(info.reason, /tensorflow-gpu: @tensorflow\/tfjs-node-gpu is not installed/);
      assert.match(info.reason, /tensorflow: @tensorflow\/tfjs-node is not installed/);
      assert.ok(info.fusedKernels.includes(tf.UnsortedSegmentSum), 'wasm trains only with our segment sum');
      assert.ok(isFused(tf.UnsortedSegmentSum, 'wasm'));

      const skipped = lines.filter((l) => l.level === 20).map((l) => [l.backend, l.why]);
      assert.deepEqual(skipped, [
        ['tensorflow-gpu', `${GPU} is not installed`],
        ['tensorflow', `${NATIVE} is not installed`],
      ]);
      const chosen = lines.filter((l) => l.level === 30);
      assert.equal(chosen.length, 1, 'one info line says which backend runs');
      assert.equal(chosen[0]!.backend, 'wasm');
      assert.match(chosen[0]!.msg, /^GNN backend: wasm from @tensorflow\/tfjs-backend-wasm \(SIMD (on|off), \d+ threads?\), because .*not installed/);
    });

    it('reports a package that fails to load for another reason as failing to load, and goes on', async () => {
      const broken = new Error('libcudart.so.11.0: cannot open shared object file: No such file or directory');
      const { importer } = standInImporter({ [GPU]: broken, [NATIVE]: packageNotFound(NATIVE) });
      const { logger, lines } = recordingLogger();
      const info = await selectBackend('auto', logger, importer);
      assert.equal(info.name, 'wasm');
      assert.match(info.reason, /tensorflow-gpu: @tensorflow\/tfjs-node-gpu is installed but failed to load \(libcudart\.so\.11\.0/);
      assert.ok(lines.some((l) => l.backend === 'tensorflow-gpu' && /failed to load/.test(String(l.why))));
    });

    it('reports a file missing inside an installed package (its native binding) as failing to load, not as not installed', async () => {
      const binding = `${ROOT}/node_modules/${NATIVE}/lib/napi-v8/tfjs_binding.node`;
      const missingBinding = Object.assign(new Error(`Cannot find module '${binding}'`), { code: 'MODULE_NOT_FOUND' });
      const { importer } = standInImporter({ [GPU]: packageNotFound(GPU), [NATIVE]: missingBinding });
      const info = await selectBackend('auto', pino({ level: 'silent' }), importer);
      assert.match(info.reason, /tensorflow: @tensorflow\/tfjs-node is installed but failed to load/);
    });
  });

  describe('an explicit GNN_BACKEND', () => {
    for (const [preference, packageName] of [
      ['tensorflow', NATIVE],
      ['tensorflow-gpu', GPU],
    ] as const) {
      it(`${preference}: a missing ${packageName} is a BackendUnavailableError that says how to install it`, async () => {
        const { importer } = bothMissing();
        const before = tf.getBackend();
        const error = await rejectsUnavailable(selectBackend(preference, pino({ level: 'silent' }), importer));
        assert.equal(error.code, 'backend_unavailable');
        assert.equal(error.preference, preference);
        assert.equal(error.packageName, packageName);
        assert.ok(error.message.includes(`GNN_BACKEND=${preference}`), error.message);
        assert.ok(error.message.includes(`${packageName} is not installed`), error.message);
        assert.ok(error.message.includes(`npm install ${packageName}`), error.message);
        assert.equal(tf.getBackend(), before, 'the running backend is left alone');
      });
    }

    it('does not fall back to another backend when the one asked for fails to load', async () => {
      const { importer, asked } = standInImporter({ [NATIVE]: new Error('undefined symbol: TF_Version') });
      const error = await rejectsUnavailable(selectBackend('tensorflow', pino({ level: 'silent' }), importer));
      assert.deepEqual(asked, [NATIVE]);
      assert.match(
        error.message,
        /GNN_BACKEND=tensorflow needs @tensorflow\/tfjs-node, but .* is installed but failed to load \(undefined symbol: TF_Version\)/,
      );
      assert.ok(error.cause instanceof Error && /TF_Version/.test(error.cause.message), 'keeps the original error as the cause');
    });

    it('refuses a package that loads but registers no backend with our copy of tfjs', async () => {
      const { importer } = standInImporter({ [NATIVE]: 'loads' });
      const error = await rejectsUnavailable(selectBackend('tensorflow', pino({ level: 'silent' }), importer));
      assert.match(error.message, /registered no 'tensorflow' backend/);
    });

    it('cpu: runs the cpu backend with our segment sum', async () => {
      const { logger, lines } = recordingLogger();
      const info = await selectBackend('cpu', logger, bothMissing().importer);
      assert.equal(info.name, 'cpu');
      assert.equal(tf.getBackend(), 'cpu');
      assert.ok(isFused(tf.UnsortedSegmentSum, 'cpu'));
      assert.match(lines.find((l) => l.level === 30)!.msg, /GNN backend: cpu from @tensorflow\/tfjs, because GNN_BACKEND=cpu was asked for/);
    });
  });

  it('initialiseBackend returns the same choice again, switching back to it if something else switched', async () => {
    const silent = pino({ level: 'silent' });
    const first = await initialiseBackend('wasm', silent);
    await tf.setBackend('cpu');
    const again = await initialiseBackend('wasm', silent);
    assert.equal(again, first);
    assert.equal(tf.getBackend(), 'wasm');
  });

  describe('in a command (a child process)', function () {
    this.timeout(60_000);
    const run = promisify(execFile);
    for (const backend of ['cpu', 'wasm']) {
      it(`${backend}: keeps stdout to the command's JSON and stderr to our JSON logs, one naming the backend`, async () => {
        const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'test/fixtures/gnn-backend-cli.ts'], {
          cwd: ROOT,
          env: { ...process.env, GNN_BACKEND: backend, LOG_LEVEL: 'info' },
        });
        const out = stdout.split('\n').filter((l) => l !== '');
        assert.equal(out.length, 1, `stdout holds only the result:\n${stdout}`);
        assert.deepEqual(JSON.parse(out[0]!), { backend, gradient: [1, 1, 0, 0, 2, 2] });
        const logs = stderr.split('\n').filter((l) => l !== '');
        for (const line of logs) assert.doesNotThrow(() => JSON.parse(line), `stderr holds only our JSON logs, not: ${line}`);
        const parsed = logs.map((l) => JSON.parse(l) as LogLine);
        assert.ok(
          parsed.some((l) => l.backend === backend && /^GNN backend: /.test(l.msg)),
          stderr,
        );
      });
    }
  });
});
