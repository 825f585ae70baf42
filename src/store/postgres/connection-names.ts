/**
 * How a node's connections name themselves in `pg_stat_activity` (`application_name`), so an
 * operator can tell the API's from delivery's; one named in the database URL wins.
 */
export const CONNECTION_NAMES = {
  service: 'calpush',
  delivery: 'calpush delivery',
  listener: 'calpush listener',
  migrations: 'calpush migrations',
} as const;
