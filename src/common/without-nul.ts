/**
 * NUL characters removed from every string of a value (recursively through arrays and plain
 * objects): PostgreSQL text cannot hold them, and no e-mail or answer means them. Applied where
 * outside text enters (inbound e-mail, the AI's answer), so SQLite and PostgreSQL store the same.
 */
export function withoutNul<T>(value: T): T {
  // Almost nothing carries one: answer the value itself then, instead of rebuilding every object.
  return hasNul(value) ? stripped(value) : value;
}

function hasNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\0');
  if (Array.isArray(value)) return value.some(hasNul);
  if (value instanceof Date || value === null || typeof value !== 'object') return false;
  for (const key in value) if (key.includes('\0') || hasNul((value as Record<string, unknown>)[key])) return true;
  return false;
}

function stripped<T>(value: T): T {
  if (typeof value === 'string') return (value.includes('\0') ? value.replaceAll('\0', '') : value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => stripped(item)) as T;
  if (value instanceof Date || value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [stripped(key), stripped(item)])) as T;
}
