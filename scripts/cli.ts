import { type Command, CommanderError, InvalidArgumentError } from 'commander';

import { EngineError } from '../base/errors.ts';

/** What the CLIs print for a failure: our typed errors by their message, anything else with its stack. */
export function describeFailure(error: unknown): string {
  if (error instanceof EngineError) return error.message;
  return String((error as Error)?.stack ?? error);
}

/** Commander option parser for counts; Commander names the option in its error. */
export function positiveInteger(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`must be a positive integer, got '${raw}'`);
  return n;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/**
 * Parses a CLI's arguments; on a usage error (Commander has already printed the message naming the
 * option) exits with `usageExitCode`, and with 0 after --help. The program must use `exitOverride()`.
 */
export function parseOrExit(program: Command, argv: readonly string[], usageExitCode: number): void {
  try {
    program.parse(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      const helpOrVersion = error.code === 'commander.helpDisplayed' || error.code === 'commander.version';
      process.exit(helpOrVersion ? 0 : usageExitCode);
    }
    throw error;
  }
}
