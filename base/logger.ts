import { type Logger, pino } from 'pino';

export type { Logger };

/**
 * Structured JSON logs on stderr, so that stdout stays free for what commands print as their result
 * (summaries, JSON figures).
 */
export function createLogger(level: string, name = 'interest-graph'): Logger {
  return pino({ name, level }, pino.destination({ fd: 2, sync: true }));
}
