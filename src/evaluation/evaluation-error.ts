import { EngineError } from '../../base/errors.ts';

/** Data that cannot be evaluated as asked (no timestamps for a temporal split, no user to evaluate). */
export class EvaluationDataError extends EngineError {
  readonly code = 'evaluation_data';
}

/** A model name that is not in the registry; the message lists the names that are. */
export class UnknownModelError extends EngineError {
  readonly code = 'unknown_model';
  constructor(
    readonly model: string,
    readonly available: readonly string[],
  ) {
    super(`unknown model '${model}'; available: ${available.join(', ')}`);
  }
}
