import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import * as tf from '@tensorflow/tfjs';
import type * as TfjsWasm from '@tensorflow/tfjs-backend-wasm';

import { EngineError } from '../base/errors.ts';
import type { Logger } from '../base/logger.ts';
import { registerFusedKernels } from './kernels/registry.ts';

/**
 * Chooses the TensorFlow.js backend the GNN runs on, in one place, and puts our fused kernels in for it.
 *
 * - `tensorflow-gpu`: `@tensorflow/tfjs-node-gpu` (libtensorflow with CUDA), an optional peer dependency.
 * - `tensorflow`: `@tensorflow/tfjs-node` (libtensorflow on the CPU), an optional peer dependency.
 * - `wasm`: `@tensorflow/tfjs-backend-wasm` (XNNPACK, SIMD). Single-threaded under Node: tfjs turns wasm
 *   threads off there (tfjs#3830), and forcing them on fails, because the threaded build starts its workers
 *   from blob: URLs, which Node's Worker refuses.
 * - `cpu`: the plain JavaScript backend inside `@tensorflow/tfjs`.
 * - `auto`: the first of those that loads, in that order. wasm comes before cpu because it is measured
 *   faster on GAT-shaped work. One attention layer over 50K centre nodes × 10 neighbours × 4 heads × 16
 *   (gather, project, attend, pool), with our kernels: forward wasm 0.42 s against cpu 22 s, forward +
 *   gradient step 2.3 s against 50 s; the [256×64]·[64×10000] scoring product 16 ms against 426 ms
 *   (medians of 3; 2-core machine, Node 20, tfjs 4.22, 2026-11-23; `npm run bench:backends`). With our
 *   segment sum alone on wasm (stock GatherV2 and BatchMatMul) wasm still took 1.6 s and 6.5 s.
 *
 * tfjs backends are process-global: this sets the backend for everything in the process that uses tfjs.
 */

export type BackendPreference = 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

export const BACKEND_PREFERENCES: readonly BackendPreference[] = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

export interface BackendInfo {
  /** The tfjs backend name (`tf.getBackend()`): `tensorflow`, `wasm` or `cpu`. */
  readonly name: string;
  /** What was asked for. */
  readonly preference: BackendPreference;
  /** The npm package that provides the backend. */
  readonly package: string;
  /** wasm only: whether the SIMD build runs. */
  readonly simd?: boolean;
  /** wasm only: XNNPACK threads (1 under Node: tfjs has no wasm threads there). */
  readonly threads?: number;
  /** Why this backend runs, including why any better one in the `auto` order did not. */
  readonly reason: string;
  /** Kernels of ours that replace (or add to) the backend's stock ones, e.g. `UnsortedSegmentSum`. */
  readonly fusedKernels: readonly string[];
}

/** The backend asked for cannot run here; the message says what is missing and how to install it. */
export class BackendUnavailableError extends EngineError {
  readonly code = 'backend_unavailable';
  constructor(
    readonly preference: BackendPreference,
    readonly packageName: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

type ConcreteBackend = Exclude<BackendPreference, 'auto'>;

interface Candidate {
  readonly preference: ConcreteBackend;
  /** The name the package registers with tfjs. */
  readonly backendName: string;
  readonly packageName: string;
  /** Optional packages must not be required by TypeScript or bundlers: imported by a name held in a variable. */
  readonly optional: boolean;
}

const CANDIDATES: Readonly<Record<ConcreteBackend, Candidate>> = {
  'tensorflow-gpu': { preference: 'tensorflow-gpu', backendName: 'tensorflow', packageName: '@tensorflow/tfjs-node-gpu', optional: true },
  tensorflow: { preference: 'tensorflow', backendName: 'tensorflow', packageName: '@tensorflow/tfjs-node', optional: true },
  wasm: { preference: 'wasm', backendName: 'wasm', packageName: '@tensorflow/tfjs-backend-wasm', optional: false },
  cpu: { preference: 'cpu', backendName: 'cpu', packageName: '@tensorflow/tfjs', optional: false },
};

/** Native first; then the offline backends, fastest first (see the figures above). */
const AUTO_ORDER: readonly ConcreteBackend[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

/** Imports a package by name; injectable so tests can stand in for packages that are not installed. */
export type PackageImporter = (packageName: string) => Promise<unknown>;

const importPackage: PackageImporter = (packageName) => {
  // A variable, not a literal: TypeScript and bundlers then do not try to resolve the optional packages.
  const specifier: string = packageName;
  return import(specifier);
};

class Unavailable extends Error {
  constructor(
    readonly candidate: Candidate,
    readonly why: string,
    readonly remedy: string,
    options?: ErrorOptions,
  ) {
    super(why, options);
  }
}

/**
 * Whether the package itself is missing. Node names the missing specifier in quotes ("Cannot find package
 * '@tensorflow/tfjs-node' imported from …"); a file missing inside an installed package (tfjs-node's native
 * binding, after an install without its scripts) names a path instead, and is a failure to load.
 */
function isModuleNotFound(error: unknown, packageName: string): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = e?.code;
  const message = typeof e?.message === 'string' ? e.message : '';
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(`'${packageName}'`);
}

/**
 * Keeps tfjs from writing to the console: its Node.js banner ("Hi, looks like you are running TensorFlow.js
 * in Node.js…", on the cpu backend's first tensor) and its backend, platform and kernel re-registration
 * warnings all go through tfjs's logger, which production mode silences (`tf.enableProdMode()`; in tfjs 4.22
 * the `PROD` flag changes nothing else). Our CLIs print JSON on stdout and JSON logs on stderr, so the
 * backend choice is logged by us instead. libtensorflow (the native backends) logs from C++ and reads its
 * own variable before it loads: we default it to errors only, unless it is set.
 */
function quietTensorFlow(): void {
  if (!tf.env().getBool('PROD')) tf.enableProdMode();
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function activate(backendName: string): Promise<boolean> {
  if (tf.findBackendFactory(backendName) == null) return false;
  return tf.setBackend(backendName);
}

/** Points the wasm backend at the binaries in node_modules, so they load from disk, never from a URL. */
function locateWasmBinaries(wasm: typeof TfjsWasm): void {
  if (tf.engine().registry.wasm != null) return; // already running: the paths no longer matter
  try {
    const require = createRequire(import.meta.url);
    const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
    if (existsSync(path.join(dir, 'tfjs-backend-wasm-simd.wasm'))) wasm.setWasmPaths(dir + path.sep);
  } catch {
    // The package finds its binaries next to its own script by default; leave that in place.
  }
}

async function load(candidate: Candidate, importer: PackageImporter): Promise<Omit<BackendInfo, 'preference' | 'reason' | 'fusedKernels'>> {
  const { packageName, backendName } = candidate;
  const install = `npm install ${packageName}`;
  if (candidate.optional) {
    try {
      await importer(packageName);
    } catch (error) {
      if (isModuleNotFound(error, packageName)) throw new Unavailable(candidate, `${packageName} is not installed`, install, { cause: error });
      throw new Unavailable(
        candidate,
        `${packageName} is installed but failed to load (${messageOf(error)})`,
        `reinstall it (npm rebuild ${packageName}) or choose another backend`,
        { cause: error },
      );
    }
    if (tf.findBackendFactory(backendName) == null) {
      throw new Unavailable(
        candidate,
        `${packageName} loaded but registered no '${backendName}' backend with this copy of @tensorflow/tfjs (two copies installed?)`,
        `install versions that share one @tensorflow/tfjs (npm ls @tensorflow/tfjs-core)`,
      );
    }
    if (!(await activate(backendName))) {
      throw new Unavailable(candidate, `${packageName} loaded but its '${backendName}' backend failed to initialise`, 'see the tfjs warning above');
    }
    // A first op proves the native library really runs (a missing CUDA shows up here or at load).
    try {
      tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(1)).dataSync());
    } catch (error) {
      throw new Unavailable(candidate, `${packageName} loaded but cannot run an op (${messageOf(error)})`, 'choose another backend', { cause: error });
    }
    return { name: backendName, package: packageName };
  }
  if (candidate.preference === 'wasm') {
    let wasm: typeof TfjsWasm;
    try {
      wasm = await import('@tensorflow/tfjs-backend-wasm');
    } catch (error) {
      throw new Unavailable(candidate, `${packageName} failed to load (${messageOf(error)})`, install, { cause: error });
    }
    locateWasmBinaries(wasm);
    if (!(await activate(backendName))) {
      throw new Unavailable(candidate, `the wasm backend failed to initialise (its .wasm binary did not load)`, `reinstall ${packageName}`);
    }
    return {
      name: backendName,
      package: packageName,
      simd: (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true,
      threads: wasm.getThreadsCount(),
    };
  }
  if (!(await activate(backendName))) throw new Unavailable(candidate, 'the cpu backend failed to initialise', 'reinstall @tensorflow/tfjs');
  return { name: backendName, package: packageName };
}

function describe(info: Omit<BackendInfo, 'reason' | 'fusedKernels'>): string {
  const extras = info.simd === undefined ? '' : ` (SIMD ${info.simd ? 'on' : 'off'}, ${info.threads ?? 1} thread${info.threads === 1 ? '' : 's'})`;
  return `${info.name} from ${info.package}${extras}`;
}

/**
 * Chooses and starts a backend without caching: `initialiseBackend` is the entry point. Exported so that
 * tests can pass a stand-in importer for the optional native packages.
 */
export async function selectBackend(preference: BackendPreference, logger: Logger, importer: PackageImporter = importPackage): Promise<BackendInfo> {
  quietTensorFlow();
  const order = preference === 'auto' ? AUTO_ORDER : [preference];
  const skipped: string[] = [];
  for (const choice of order) {
    const candidate = CANDIDATES[choice];
    try {
      const loaded = await load(candidate, importer);
      const fusedKernels = registerFusedKernels(loaded.name);
      const reason =
        preference === 'auto'
          ? [
              ...skipped,
              `${choice === 'wasm' ? 'wasm is the fastest backend that installs offline (measured against cpu)' : `${choice} is the best backend that loads`}`,
            ].join('; ')
          : `GNN_BACKEND=${preference} was asked for`;
      const info: BackendInfo = { ...loaded, preference, reason, fusedKernels };
      logger.info(
        { backend: info.name, package: info.package, preference, simd: info.simd, threads: info.threads, fusedKernels },
        `GNN backend: ${describe(info)}, because ${reason}`,
      );
      return info;
    } catch (error) {
      if (!(error instanceof Unavailable)) throw error;
      if (preference !== 'auto') {
        throw new BackendUnavailableError(
          preference,
          candidate.packageName,
          `GNN_BACKEND=${preference} needs ${candidate.packageName}, but ${error.why}: ${error.remedy}`,
          { cause: error.cause ?? error },
        );
      }
      logger.debug({ backend: choice, package: candidate.packageName, why: error.why }, `GNN backend ${choice} unavailable`);
      skipped.push(`${choice}: ${error.why}`);
    }
  }
  // cpu ships inside @tensorflow/tfjs, so this means tfjs itself is broken.
  throw new BackendUnavailableError(preference, '@tensorflow/tfjs', `no tfjs backend could start (${skipped.join('; ')}): reinstall @tensorflow/tfjs`);
}

const initialised = new Map<BackendPreference, Promise<BackendInfo>>();

/**
 * Starts the backend for `preference` (see the order above), registers our fused kernels for it and logs
 * (info) which backend runs and why. Idempotent: a later call with the same preference returns the same
 * info, switching tfjs back to that backend if something else switched it meanwhile. A failed call is not
 * remembered, so it can be retried.
 */
export function initialiseBackend(preference: BackendPreference, logger: Logger): Promise<BackendInfo> {
  const pending = initialised.get(preference);
  if (pending) return pending.then((info) => resume(info, logger));
  const started = selectBackend(preference, logger);
  initialised.set(preference, started);
  started.catch(() => initialised.delete(preference));
  return started;
}

async function resume(info: BackendInfo, logger: Logger): Promise<BackendInfo> {
  if (tf.getBackend() !== info.name) {
    await tf.setBackend(info.name);
    logger.info({ backend: info.name, package: info.package, preference: info.preference }, `GNN backend: back to ${describe(info)}, because ${info.reason}`);
  }
  registerFusedKernels(info.name);
  return info;
}
