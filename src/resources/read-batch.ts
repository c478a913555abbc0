import type { ResourceContext } from "./types.js";

/**
 * How one kind of read is shared: which keys one call can take together, and the call. `batchedRead` turns it into a
 * per-key reader whose reads, asked for within a few milliseconds of each other, share calls.
 */
export interface SharedRead<K, V> {
  /** Most keys one call takes (the API's limit). */
  size: number;
  /** Keys that may share a call (e.g. services of one cluster); by default every key may. */
  group?(key: K): string;
  /** Tells keys apart, so a key asked for twice is read once; by default String(key). */
  id?(key: K): string;
  /**
   * One call (or one call's pages) for these distinct keys of one group, at most `size`: what was found, by id. A key the
   * map lacks is not found (its read answers undefined); an Error in the map fails that key's read alone.
   */
  read(ctx: ResourceContext, keys: K[]): Promise<Map<string, V | Error>>;
}

/**
 * How long a read waits for others to share its call: the observe sweep starts its finders, and `status` its details,
 * within a few milliseconds of each other, while a lone read (a read-back after a create) pays this once.
 */
export const SHARE_WINDOW_MS = 10;

type Waiter<K, V> = { key: K; resolve: (value: V | undefined) => void; reject: (err: unknown) => void };

/**
 * A reader that answers reads made together with shared calls: N alarms cost one DescribeAlarms instead of N. Reads are
 * shared only within one run (one set of clients, `ctx.aws`) and one group; a failed call fails the reads it carried, as
 * their own calls would have.
 */
export function batchedRead<K, V>(how: SharedRead<K, V>): (ctx: ResourceContext, key: K) => Promise<V | undefined> {
  const idOf = how.id ?? ((key: K) => String(key));
  const groupOf = how.group ?? (() => "");
  const pending = new WeakMap<object, Map<string, Waiter<K, V>[]>>();

  const flush = (ctx: ResourceContext, waiters: Waiter<K, V>[]) => {
    const keys = [...new Map(waiters.map((w) => [idOf(w.key), w.key])).values()];
    for (let i = 0; i < keys.length; i += how.size) {
      const chunk = keys.slice(i, i + how.size);
      const ids = new Set(chunk.map(idOf));
      const carried = waiters.filter((w) => ids.has(idOf(w.key)));
      Promise.resolve()
        .then(() => how.read(ctx, chunk))
        .then(
          (found) => {
            for (const w of carried) {
              const value = found.get(idOf(w.key));
              if (value instanceof Error) w.reject(value);
              else w.resolve(value);
            }
          },
          (err: unknown) => {
            for (const w of carried) w.reject(err);
          },
        );
    }
  };

  return (ctx, key) =>
    new Promise<V | undefined>((resolve, reject) => {
      let groups = pending.get(ctx.aws);
      if (!groups) {
        const collecting = new Map<string, Waiter<K, V>[]>();
        groups = collecting;
        pending.set(ctx.aws, collecting);
        setTimeout(() => {
          pending.delete(ctx.aws);
          for (const waiters of collecting.values()) flush(ctx, waiters);
        }, SHARE_WINDOW_MS);
      }
      const group = groupOf(key);
      const waiters = groups.get(group) ?? [];
      groups.set(group, waiters);
      waiters.push({ key, resolve, reject });
    });
}
