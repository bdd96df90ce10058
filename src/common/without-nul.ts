/**
 * NUL characters removed from every string of a value (recursively through arrays and plain
 * objects): PostgreSQL text cannot hold them, and no e-mail or answer means them. Applied where
 * outside text enters (inbound e-mail, the AI's answer), so SQLite and PostgreSQL store the same.
 */
export function withoutNul<T>(value: T): T {
  if (typeof value === 'string') return (value.includes('\0') ? value.replaceAll('\0', '') : value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => withoutNul(item)) as T;
  if (value instanceof Date || value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [withoutNul(key), withoutNul(item)])) as T;
}
