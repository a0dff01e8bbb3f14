/**
 * Text PostgreSQL can store: it refuses the NUL character in `text` and `jsonb`, and a lone
 * UTF-16 surrogate cannot be encoded as UTF-8 at all. The API refuses both at the edge, before
 * any query (a 400 rather than a 500 from the database).
 */

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export type UnstorableText = { path: string; problem: 'a NUL character' | 'a lone UTF-16 surrogate' };

/** The first string (or object key) in `value` that cannot be stored, with where it is; null if none. */
export function findUnstorableText(value: unknown, path = ''): UnstorableText | null {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) return { path, problem: 'a NUL character' };
    if (loneSurrogate.test(value)) return { path, problem: 'a lone UTF-16 surrogate' };
    return null;
  }
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = findUnstorableText(item, `${path}[${index}]`);
      if (found) return found;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const here = path ? `${path}.${key}` : key;
      const found = findUnstorableText(key, here) ?? findUnstorableText(item, here);
      if (found) return found;
    }
  }
  return null;
}
