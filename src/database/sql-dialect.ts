export type SqlDialect = 'sqlite' | 'postgres';

/** The two databases we support, from a TypeORM driver type. */
export function sqlDialect(driverType: string): SqlDialect {
  switch (driverType) {
    case 'better-sqlite3':
      return 'sqlite';
    case 'postgres':
      return 'postgres';
    default:
      throw new Error(`Unsupported database driver: ${driverType}`);
  }
}
