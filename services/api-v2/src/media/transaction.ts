import type { Sql } from '@marquee/service-kit';

/**
 * postgres.js's transaction handle lacks the pool-only methods (begin, reserve, end) but runs the
 * same queries; helpers here take `Sql` so one signature serves both pool and transaction.
 */
export function inTransaction<T>(sql: Sql, fn: (tx: Sql) => Promise<T>): Promise<T> {
  return sql.begin((tx) => fn(tx as unknown as Sql)) as Promise<T>;
}
