import { z } from 'zod';

/**
 * What an id may be, in one place: events (event, user, session and item ids), catalogue items and their
 * tags, the API's path parameters and bodies, and feedback all take ids through this schema.
 *
 * An id is 1 to 256 bytes of UTF-8, well-formed Unicode (an unpaired surrogate cannot be written as UTF-8,
 * so it would come back from the store as a different id), with no control characters (U+0000–U+001F,
 * U+007F–U+009F: they break logs, CSV exports and headers), and not blank: not only white space or
 * invisible characters such as U+200B, which look like no id at all.
 */
export const IDENTIFIER_MAX_BYTES = 256;

const CONTROL = /\p{Cc}/u;
// With the u flag an unpaired surrogate is a code point of its own category (Cs); a proper pair is not.
const LONE_SURROGATE = /\p{Cs}/u;
const BLANK = /^[\p{White_Space}\p{Default_Ignorable_Code_Point}]+$/u;

/** Why `value` is not a valid id beyond its length, or null when it is one. */
export function identifierProblem(value: string): string | null {
  if (value.length === 0) return 'must not be empty';
  if (LONE_SURROGATE.test(value)) return 'must be well-formed Unicode (it holds an unpaired surrogate)';
  if (Buffer.byteLength(value, 'utf8') > IDENTIFIER_MAX_BYTES) return `must be at most ${IDENTIFIER_MAX_BYTES} bytes in UTF-8`;
  if (CONTROL.test(value)) return 'must not hold control characters (U+0000–U+001F, U+007F–U+009F)';
  if (BLANK.test(value)) return 'must not be blank (only white space or invisible characters)';
  return null;
}

/**
 * The id schema. min/max state the bounds in the OpenAPI document (a character count never exceeds the
 * byte count); the refinement checks the rest, and the byte length only when the character count passed.
 */
export const identifier = z
  .string()
  .min(1, 'must not be empty')
  .max(IDENTIFIER_MAX_BYTES, `must be at most ${IDENTIFIER_MAX_BYTES} bytes in UTF-8`)
  .superRefine((value, ctx) => {
    if (value.length === 0 || value.length > IDENTIFIER_MAX_BYTES) return;
    const problem = identifierProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
