// Teams themselves: createTeam (validation, slug uniqueness, a race for one slug) and the lookups by ID,
// slug and node. Memberships: team-members.test.ts; connections: teams-connections.test.ts; races between
// membership writes: teams-concurrency.test.ts.
import { describe, expect, it } from 'vitest';
import { toGlobalId } from '../src/ids.js';
import { useTestApp } from './helpers/app.js';
import { expectNoLeak, fixtures, ISO_MS, NO_UUID, unique } from './helpers/fixtures.js';
import { countOf, CREATE_TEAM, kinds, TEAM_FIELDS, teamCalls } from './helpers/teams.js';

const t = useTestApp();
const { ok, createTeam } = teamCalls(t);
const { makeUser, expectNoWrite } = fixtures(t);

// ---- createTeam -------------------------------------------------------------------------------

describe('createTeam', () => {
  it('creates a team with slug, name, ms-precision createdAt and a Team global ID', async () => {
    const slug = unique('acme');
    const before = Date.now();
    const result = await createTeam({ slug, name: '  Acme Corp  ' });
    expect(result.__typename).toBe('CreateTeamSuccess');
    const team = result.team;
    expect(team).toMatchObject({ slug, name: 'Acme Corp' });
    expect(team.createdAt).toMatch(ISO_MS);
    expect(Date.parse(team.createdAt)).toBeGreaterThanOrEqual(before - 5_000);
    expect(Date.parse(team.createdAt)).toBeLessThanOrEqual(Date.now() + 5_000);
    expect(Buffer.from(team.id, 'base64').toString()).toMatch(/^Team:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const row = await t.db.prisma.team.findUniqueOrThrow({ where: { slug } });
    expect(toGlobalId('Team', row.id)).toBe(team.id);
    expect(row).toMatchObject({ slug, name: 'Acme Corp' });
    expect(row.createdAt.toISOString()).toBe(team.createdAt);
    expect(await t.db.prisma.membership.count({ where: { teamId: row.id } })).toBe(0);
  });

  it('returns SlugTakenError for a slug in use, and writes nothing', async () => {
    const slug = unique('dup');
    expect((await createTeam({ slug, name: 'First' })).__typename).toBe('CreateTeamSuccess');
    const result = await expectNoWrite(() => createTeam({ slug, name: 'Second' }));
    expect(result).toEqual({ __typename: 'SlugTakenError', slug, message: expect.stringContaining(slug) });
    expect((await t.db.prisma.team.findUniqueOrThrow({ where: { slug } })).name).toBe('First');
  });

  it.each([
    ['A', 'one upper-case character'],
    ['a', 'one character'],
    ['UPPER', 'upper case'],
    ['double--hyphen', 'a double hyphen'],
    ['-lead', 'a leading hyphen'],
    ['trail-', 'a trailing hyphen'],
    ['x'.repeat(65), '65 characters'],
    ['sp ace', 'a space'],
    ['nul\u0000byte', 'a NUL byte'],
    ['under_score', 'an underscore'],
    ['', 'empty'],
  ])('rejects the slug %j (%s) with one FieldError on ["input","slug"], writing nothing', async (slug) => {
    const result = await expectNoWrite(() => createTeam({ slug, name: 'Valid Name' }));
    expect(result.__typename).toBe('ValidationError');
    expect(result.message).toEqual(expect.any(String));
    expect(result.fieldErrors).toEqual([{ path: ['input', 'slug'], message: expect.any(String) }]);
  });

  it.each([
    ['', 'empty'],
    ['   ', 'blank after trimming'],
    ['n'.repeat(101), '101 characters'],
    ['Nul\u0000Byte', 'a NUL byte'],
  ])('rejects the name %j (%s) with one FieldError on ["input","name"], writing nothing', async (name) => {
    const result = await expectNoWrite(() => createTeam({ slug: unique('named'), name }));
    expect(result.__typename).toBe('ValidationError');
    expect(result.fieldErrors).toEqual([{ path: ['input', 'name'], message: expect.any(String) }]);
  });

  it('reports one FieldError per bad field', async () => {
    const result = await expectNoWrite(() => createTeam({ slug: '--', name: '' }));
    expect(result.__typename).toBe('ValidationError');
    expect(result.fieldErrors.map((e: { path: string[] }) => e.path)).toEqual([
      ['input', 'slug'],
      ['input', 'name'],
    ]);
  });

  it('accepts a 100-character name (the boundary)', async () => {
    const slug = unique('long-name');
    const result = await createTeam({ slug, name: 'n'.repeat(100) });
    expect(result.__typename).toBe('CreateTeamSuccess');
    expect((await t.db.prisma.team.findUniqueOrThrow({ where: { slug } })).name).toHaveLength(100);
  });

  it.each([
    ['2', () => 'q7'],
    ['64', () => `${unique('b')}-`.padEnd(64, '9')],
  ])('accepts a slug of exactly %s characters (the boundary)', async (length, makeSlug) => {
    const slug = makeSlug();
    expect(slug).toHaveLength(Number(length));
    const result = await createTeam({ slug, name: 'Boundary' });
    expect(result).toMatchObject({ __typename: 'CreateTeamSuccess', team: { slug } });
    expect(await t.db.prisma.team.count({ where: { slug } })).toBe(1);
  });

  it('lets exactly one of 20 concurrent creates of one slug win', async () => {
    const slug = unique('race');
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => t.gql(CREATE_TEAM, { input: { slug, name: `Racer ${i}` } })));
    for (const r of results) {
      expect(r.errors).toBeUndefined();
      expectNoLeak(r);
    }
    const list = kinds(results.map((r) => r.data!.createTeam));
    expect(countOf(list, 'CreateTeamSuccess')).toBe(1);
    expect(countOf(list, 'SlugTakenError')).toBe(19);
    expect(await t.db.prisma.team.count({ where: { slug } })).toBe(1);
  });
});

// ---- lookups ----------------------------------------------------------------------------------

describe('team lookups', () => {
  it('team, teamBySlug, node and nodes find a team', async () => {
    const created = (await createTeam({ slug: unique('find'), name: 'Findable' })).team;
    const data = await ok(
      `query ($id: ID!, $slug: String!) {
        team(id: $id) { ${TEAM_FIELDS} }
        teamBySlug(slug: $slug) { id slug }
        node(id: $id) { __typename id ... on Team { slug name } }
        nodes(ids: [$id, "garbage", $id]) { __typename id }
      }`,
      { id: created.id, slug: created.slug },
    );
    expect(data).toEqual({
      team: created,
      teamBySlug: { id: created.id, slug: created.slug },
      node: { __typename: 'Team', id: created.id, slug: created.slug, name: 'Findable' },
      nodes: [{ __typename: 'Team', id: created.id }, null, { __typename: 'Team', id: created.id }],
    });
  });

  it.each([
    ['garbage', 'not base64 at all ***'],
    ['empty', ''],
    ['User (wrong type)', toGlobalId('User', NO_UUID)],
    ['unknown type', Buffer.from(`Widget:${NO_UUID}`).toString('base64')],
    ['non-UUID', Buffer.from("Team:1' OR 1=1 --").toString('base64')],
    ['unknown team', toGlobalId('Team', NO_UUID)],
  ])('team/node/nodes return null, not an error, for a %s ID', async (_label, id) => {
    const data = await ok(`query ($id: ID!) { team(id: $id) { id } node(id: $id) { id } nodes(ids: [$id]) { id } }`, { id });
    expect(data).toEqual({ team: null, node: null, nodes: [null] });
  });

  it('team returns null for the global ID of an existing user', async () => {
    const user = await makeUser('not-a-team');
    const data = await ok(`query ($id: ID!) { team(id: $id) { id } node(id: $id) { __typename } }`, { id: user.gid });
    expect(data).toEqual({ team: null, node: { __typename: 'User' } });
  });

  it.each([
    ['unknown', 'no-such-team-anywhere'],
    ['empty', ''],
    ['upper case', 'NOT-A-SLUG'],
    // A slug over 64 characters is refused before the lookup (BAD_USER_INPUT): test/bounded-inputs.test.ts.
    ['a NUL byte', 'nul\u0000byte'],
    ['SQL', "x' OR '1'='1"],
  ])('teamBySlug returns null, not an error, for an %s slug', async (_label, slug) => {
    expect(await ok(`query ($slug: String!) { teamBySlug(slug: $slug) { id } }`, { slug })).toEqual({ teamBySlug: null });
  });
});
