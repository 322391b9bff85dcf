import type { z } from 'zod';

import type { FieldIssue } from '../base/errors.ts';

/** Turns zod's issues into our field issues, with paths written the way users write them (`events[3].value`). */
export function fieldIssues(error: z.ZodError, prefix = ''): FieldIssue[] {
  return error.issues.map((issue) => {
    let path = prefix;
    for (const key of issue.path) {
      if (typeof key === 'number') path += `[${key}]`;
      else path += path ? `.${String(key)}` : String(key);
    }
    if (issue.code === 'unrecognized_keys') {
      const keys = (issue as { keys?: string[] }).keys ?? [];
      return keys.length === 1
        ? { path: path ? `${path}.${keys[0]}` : keys[0]!, message: 'unknown field' }
        : { path, message: `unknown fields: ${keys.join(', ')}` };
    }
    return { path, message: issue.message };
  });
}
