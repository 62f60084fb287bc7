import type { TestApp } from './app.js';

/**
 * Row count and a hash of every row of User, Team, Membership and OutboxEvent: any INSERT, UPDATE or
 * DELETE changes it, so a refusal that wrote anything shows.
 */
export function snapshot(app: TestApp) {
  return app.db.prisma.$queryRawUnsafe<{ t: string; n: number; h: string }[]>(
    ['User', 'Team', 'Membership', 'OutboxEvent']
      .map((table) => `SELECT '${table}' AS t, count(*)::int AS n, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM "${table}" x`)
      .join(' UNION ALL '),
  );
}
