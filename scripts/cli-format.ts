import { EngineError } from '../src/errors.ts';

/** What the CLIs print for a failure: our typed errors by their message, anything else with its stack. */
export function describeFailure(error: unknown): string {
  if (error instanceof EngineError) return error.message;
  return String((error as Error)?.stack ?? error);
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
