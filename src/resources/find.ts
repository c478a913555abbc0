/** Helpers shared by finders: zero results is "not found", more than one is an error, never a silent pick. */
export function single<T>(items: T[] | undefined, what: string): T | undefined {
  if (!items || items.length === 0) return undefined;
  if (items.length > 1) throw new Error(`found ${items.length} ${what}; expected one. Delete the duplicates (they carry the same platform:logical-id tag) and run again`);
  return items[0];
}
