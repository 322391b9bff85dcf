/**
 * What the request log may not contain: credentials. Keys belong in headers, which are never logged; a
 * client that puts one in the query string instead (`?api_key=…`, which is refused) still must not leave
 * it in the log, nor may a token, password or session id in any URL or error message.
 */
export const REDACTED = '[REDACTED]';

/** Parts of a lower-cased, alphanumerics-only parameter name that mark its value as a credential. */
const SECRET_NAME_PARTS = ['key', 'token', 'secret', 'passw', 'pwd', 'auth', 'session', 'sig', 'credential', 'cookie'];

export function isCredentialName(raw: string): boolean {
  let name = raw;
  try {
    name = decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    // Malformed percent-encoding: judge the raw name.
  }
  const normalised = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  return SECRET_NAME_PARTS.some((part) => normalised.includes(part));
}

/**
 * The URL with the value of every credential-like query parameter replaced; a parameter without `=` whose
 * name looks like a credential (`?api_key%3D…`) is replaced whole.
 */
export function redactUrl(url: string): string {
  const start = url.indexOf('?');
  if (start < 0) return url;
  const query = url
    .slice(start + 1)
    .split(/([&;])/)
    .map((part, i) => {
      if (i % 2 === 1 || part === '') return part; // a separator
      const equals = part.indexOf('=');
      if (equals < 0) return isCredentialName(part) ? REDACTED : part;
      return isCredentialName(part.slice(0, equals)) ? `${part.slice(0, equals)}=${REDACTED}` : part;
    })
    .join('');
  return `${url.slice(0, start + 1)}${query}`;
}

/** Free text (an error's message or stack) with credential-like `name=value` pairs and bearer tokens replaced. */
export function redactText(text: string): string {
  return text
    .replace(/([?&;\s])([^=&;\s?#"'<>]+)=([^&;\s#"'<>]*)/g, (match, separator: string, name: string) =>
      isCredentialName(name) ? `${separator}${name}=${REDACTED}` : match,
    )
    .replace(/\b(Bearer|Basic)\s+[^\s"',;]+/gi, `$1 ${REDACTED}`);
}

/** A serialized error (pino's `err`) with its message and stack redacted. */
export function redactSerializedError<T>(error: T): T {
  if (error === null || typeof error !== 'object') return error;
  const copy: Record<string, unknown> = { ...(error as Record<string, unknown>) };
  for (const [field, value] of Object.entries(copy)) {
    if (typeof value === 'string') copy[field] = isCredentialName(field) ? REDACTED : redactText(value);
  }
  return copy as T;
}
