import { z } from 'zod';
import { INTERACTION_TYPES, type InteractionType, type SubjectKind } from '../../graph/model.ts';
import { ValidationError, type FieldIssue } from '../errors.ts';
import { fieldIssues } from '../validation.ts';

/**
 * The one event schema: what applications send (HTTP, files) and what the loaders produce.
 * Validated at the edge; inside the engine an `Interaction` is trusted.
 */

const identifier = z
  .string()
  .min(1, 'must not be empty')
  .max(256, 'must be at most 256 characters');

export const RATING_MIN = 0.5;
export const RATING_MAX = 5;

export const InteractionEventSchema = z.strictObject({
  id: identifier.describe('Event id chosen by the sender; re-sending the same id changes nothing.'),
  type: z.enum(INTERACTION_TYPES),
  userId: identifier.optional().describe('The acting user; give exactly one of userId and sessionId.'),
  sessionId: identifier.optional().describe('An anonymous session; give exactly one of userId and sessionId.'),
  itemId: identifier,
  value: z.number().optional().describe(`Stars for a rating, ${RATING_MIN} to ${RATING_MAX}; only for ratings.`),
  timestamp: z
    .union([z.number(), z.string()])
    .optional()
    .describe('When it happened: epoch milliseconds or an ISO 8601 date-time; defaults to the time of receipt.'),
  context: z.record(z.string(), z.unknown()).optional().describe('Free data kept with the event (e.g. a recommendation id).'),
});
export type InteractionEventInput = z.input<typeof InteractionEventSchema>;

/** A validated interaction, as the store and the graph see it. */
export interface Interaction {
  readonly eventId: string;
  readonly subjectKind: SubjectKind;
  readonly subjectId: string;
  readonly itemId: string;
  readonly type: InteractionType;
  /** Stars for ratings; null for other types. */
  readonly value: number | null;
  /** Epoch milliseconds. */
  readonly ts: number;
  readonly context: Readonly<Record<string, unknown>> | null;
}

export interface EventValidationOptions {
  /** Receipt time, used for missing timestamps and the future check. */
  readonly now: number;
  /** How far in the future a timestamp may be (clock skew between senders and us). */
  readonly maxClockSkewMs: number;
}

export type EventCheck = { ok: true; interaction: Interaction } | { ok: false; issues: FieldIssue[] };

/** Validates one raw event; `path` prefixes issue paths (e.g. `events[3]`). */
export function checkInteractionEvent(raw: unknown, options: EventValidationOptions, path = ''): EventCheck {
  const parsed = InteractionEventSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, issues: fieldIssues(parsed.error, path) };
  const e = parsed.data;
  const at = (field: string) => (path ? `${path}.${field}` : field);
  const issues: FieldIssue[] = [];

  if ((e.userId === undefined) === (e.sessionId === undefined)) {
    issues.push({ path: path || 'userId', message: 'give exactly one of userId and sessionId' });
  }
  if (e.type === 'rating') {
    if (e.value === undefined) issues.push({ path: at('value'), message: 'is required for rating events' });
    else if (!Number.isFinite(e.value) || e.value < RATING_MIN || e.value > RATING_MAX) {
      issues.push({ path: at('value'), message: `must be between ${RATING_MIN} and ${RATING_MAX} stars` });
    }
  } else if (e.value !== undefined) {
    issues.push({ path: at('value'), message: `is only allowed for rating events, not ${e.type}` });
  }

  let ts = options.now;
  if (e.timestamp !== undefined) {
    const parsedTs = parseTimestamp(e.timestamp);
    if (typeof parsedTs === 'string') issues.push({ path: at('timestamp'), message: parsedTs });
    else if (parsedTs > options.now + options.maxClockSkewMs) {
      issues.push({ path: at('timestamp'), message: 'is in the future' });
    } else ts = parsedTs;
  }
  if (issues.length > 0) return { ok: false, issues };

  return {
    ok: true,
    interaction: {
      eventId: e.id,
      subjectKind: e.userId !== undefined ? 'user' : 'session',
      subjectId: (e.userId ?? e.sessionId)!,
      itemId: e.itemId,
      type: e.type,
      value: e.type === 'rating' ? e.value! : null,
      ts,
      context: e.context ?? null,
    },
  };
}

/** Validates one event or throws a ValidationError naming each bad field. */
export function parseInteractionEvent(raw: unknown, options: EventValidationOptions): Interaction {
  const result = checkInteractionEvent(raw, options);
  if (!result.ok) throw new ValidationError(result.issues);
  return result.interaction;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Epoch milliseconds, or a message saying why the value is not a timestamp. */
export function parseTimestamp(value: number | string): number | string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return 'must be a non-negative number of epoch milliseconds';
    return Math.floor(value);
  }
  if (!ISO_DATE.test(value)) return 'must be an ISO 8601 date-time such as 2024-05-01T12:00:00Z';
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return 'is not a valid date-time';
  return ms;
}
