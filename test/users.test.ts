import { describe, expect, it } from 'vitest';
import { toGlobalId } from '../src/ids.js';
import { useTestApp } from './helpers/app.js';

const t = useTestApp();

const USER_FIELDS = 'id email name role version createdAt updatedAt';

const CREATE = /* GraphQL */ `
  mutation ($input: CreateUserInput!) {
    createUser(input: $input) {
      __typename
      ... on CreateUserSuccess { user { ${USER_FIELDS} } }
      ... on ValidationError { message fieldErrors { path message } }
      ... on EmailTakenError { message email }
    }
  }
`;

const UPDATE = /* GraphQL */ `
  mutation ($input: UpdateUserInput!) {
    updateUser(input: $input) {
      __typename
      ... on UpdateUserSuccess { user { ${USER_FIELDS} } }
      ... on ValidationError { fieldErrors { path message } }
      ... on EmailTakenError { email }
      ... on NotFoundError { message id }
      ... on VersionConflictError { message currentVersion }
    }
  }
`;

const DELETE = /* GraphQL */ `
  mutation ($id: ID!) {
    deleteUser(input: { id: $id }) {
      __typename
      ... on DeleteUserSuccess { deletedUserId }
      ... on NotFoundError { id message }
    }
  }
`;

let counter = 0;
/** A unique email per call, so tests in this file don't depend on each other's rows. */
const freshEmail = (tag = 'user') => `${tag}.${Date.now().toString(36)}.${++counter}@example.com`;

async function createUser(input: Record<string, unknown>) {
  const res = await t.gql(CREATE, { input });
  expect(res.errors).toBeUndefined();
  return res.data!.createUser;
}

async function userCount(): Promise<number> {
  return t.db.prisma.user.count();
}

describe('createUser', () => {
  it('creates a user with defaults, a global ID, version 1 and ms-precision UTC timestamps', async () => {
    const result = await createUser({ email: '  Ada.Lovelace@Example.COM ', name: '  Ada Lovelace ' });
    expect(result.__typename).toBe('CreateUserSuccess');
    const user = result.user;
    expect(user).toMatchObject({ email: 'ada.lovelace@example.com', name: 'Ada Lovelace', role: 'USER', version: 1 });
    expect(user.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Buffer.from(user.id, 'base64').toString()).toMatch(/^User:[0-9a-f-]{36}$/);
    const row = await t.db.prisma.user.findUniqueOrThrow({ where: { email: 'ada.lovelace@example.com' } });
    expect(toGlobalId('User', row.id)).toBe(user.id);
  });

  it('accepts an explicit role', async () => {
    const result = await createUser({ email: freshEmail('admin'), name: 'Root', role: 'ADMIN' });
    expect(result.user.role).toBe('ADMIN');
  });

  it('returns EmailTakenError for the same email in another case, and writes nothing', async () => {
    const email = freshEmail('dup');
    await createUser({ email, name: 'First' });
    const before = await userCount();
    const result = await createUser({ email: email.toUpperCase(), name: 'Second' });
    expect(result).toEqual({
      __typename: 'EmailTakenError',
      email,
      message: expect.stringContaining(email),
    });
    expect(await userCount()).toBe(before);
  });

  it.each([
    ['not-an-email', 'email'],
    ['a@b', 'email'],
    ['two@@example.com', 'email'],
    [`${'x'.repeat(250)}@example.com`, 'email'],
    ['nul\u0000byte@example.com', 'email'],
  ])('rejects the email %j with a ValidationError on ["input","email"]', async (email, field) => {
    const before = await userCount();
    const result = await createUser({ email, name: 'Valid Name' });
    expect(result.__typename).toBe('ValidationError');
    expect(result.fieldErrors).toEqual([{ path: ['input', field], message: expect.any(String) }]);
    expect(await userCount()).toBe(before);
  });

  it.each([
    ['', 'empty'],
    ['    ', 'blank after trimming'],
    ['x'.repeat(101), '101 characters'],
    ['Null\u0000Byte', 'a NUL byte'],
  ])('rejects the name %j (%s)', async (name) => {
    const before = await userCount();
    const result = await createUser({ email: freshEmail(), name });
    expect(result.__typename).toBe('ValidationError');
    expect(result.fieldErrors).toEqual([{ path: ['input', 'name'], message: expect.any(String) }]);
    expect(await userCount()).toBe(before);
  });

  it('accepts a 100-character name (the boundary)', async () => {
    const result = await createUser({ email: freshEmail(), name: 'y'.repeat(100) });
    expect(result.__typename).toBe('CreateUserSuccess');
  });

  it('reports one FieldError per bad field', async () => {
    const result = await createUser({ email: 'nope', name: '' });
    expect(result.__typename).toBe('ValidationError');
    expect(result.fieldErrors.map((e: { path: string[] }) => e.path)).toEqual([
      ['input', 'email'],
      ['input', 'name'],
    ]);
  });

  it('lets exactly one of 20 concurrent creates of one email win', async () => {
    const email = freshEmail('race');
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => t.gql(CREATE, { input: { email: i % 2 ? email.toUpperCase() : email, name: `Racer ${i}` } })));
    for (const r of results) expect(r.errors).toBeUndefined();
    const kinds = results.map((r) => r.data!.createUser.__typename);
    expect(kinds.filter((k) => k === 'CreateUserSuccess')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'EmailTakenError')).toHaveLength(19);
    expect(await t.db.prisma.user.count({ where: { email } })).toBe(1);
  });

  it('the database itself refuses a second spelling of an email (CHECK + unique index)', async () => {
    const email = freshEmail('sql');
    await createUser({ email, name: 'Direct' });
    await expect(t.db.prisma.$executeRawUnsafe(`INSERT INTO "User" (email, name) VALUES ($1, 'X')`, email.toUpperCase())).rejects.toThrow();
  });
});

describe('updateUser', () => {
  it('changes the given fields, keeps the others and bumps version by one each time', async () => {
    const { user } = await createUser({ email: freshEmail(), name: 'Before' });
    const first = await t.gql(UPDATE, { input: { id: user.id, name: 'After' } });
    expect(first.data!.updateUser.__typename).toBe('UpdateUserSuccess');
    expect(first.data!.updateUser.user).toMatchObject({ name: 'After', email: user.email, version: 2 });
    expect(Date.parse(first.data!.updateUser.user.updatedAt)).toBeGreaterThanOrEqual(Date.parse(user.updatedAt));
    const second = await t.gql(UPDATE, { input: { id: user.id, role: 'ADMIN', email: ' NEW.' + user.email.toUpperCase() } });
    expect(second.data!.updateUser.user).toMatchObject({ role: 'ADMIN', version: 3, email: 'new.' + user.email });
  });

  it('applies the change when expectedVersion matches', async () => {
    const { user } = await createUser({ email: freshEmail(), name: 'Versioned' });
    const res = await t.gql(UPDATE, { input: { id: user.id, name: 'V2', expectedVersion: 1 } });
    expect(res.data!.updateUser.user.version).toBe(2);
  });

  it('returns VersionConflictError with the current version on a stale expectedVersion, writing nothing', async () => {
    const { user } = await createUser({ email: freshEmail(), name: 'Stale' });
    await t.gql(UPDATE, { input: { id: user.id, name: 'Moved on' } });
    const res = await t.gql(UPDATE, { input: { id: user.id, name: 'Lost update', expectedVersion: 1 } });
    expect(res.data!.updateUser).toMatchObject({ __typename: 'VersionConflictError', currentVersion: 2 });
    const row = await t.db.prisma.user.findUniqueOrThrow({ where: { email: user.email } });
    expect(row).toMatchObject({ name: 'Moved on', version: 2 });
  });

  it('lets exactly one of several concurrent updates at the same expectedVersion win', async () => {
    const { user } = await createUser({ email: freshEmail(), name: 'Contended' });
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => t.gql(UPDATE, { input: { id: user.id, name: `Writer ${i}`, expectedVersion: 1 } })));
    const kinds = results.map((r) => r.data!.updateUser.__typename);
    expect(kinds.filter((k) => k === 'UpdateUserSuccess')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'VersionConflictError')).toHaveLength(7);
    const row = await t.db.prisma.user.findUniqueOrThrow({ where: { email: user.email } });
    expect(row.version).toBe(2);
  });

  it('returns EmailTakenError when the new email belongs to someone else', async () => {
    const a = await createUser({ email: freshEmail('a'), name: 'A' });
    const b = await createUser({ email: freshEmail('b'), name: 'B' });
    const res = await t.gql(UPDATE, { input: { id: b.user.id, email: a.user.email.toUpperCase() } });
    expect(res.data!.updateUser).toEqual({ __typename: 'EmailTakenError', email: a.user.email });
    const row = await t.db.prisma.user.findUniqueOrThrow({ where: { email: b.user.email } });
    expect(row.version).toBe(1);
  });

  it('validates like create, one FieldError per bad field, writing nothing', async () => {
    const { user } = await createUser({ email: freshEmail(), name: 'Valid' });
    const res = await t.gql(UPDATE, { input: { id: user.id, email: 'bad', name: 'z'.repeat(101), expectedVersion: 0 } });
    expect(res.data!.updateUser.__typename).toBe('ValidationError');
    expect(res.data!.updateUser.fieldErrors.map((e: { path: string[] }) => e.path.join('.'))).toEqual(['input.email', 'input.name', 'input.expectedVersion']);
    const row = await t.db.prisma.user.findUniqueOrThrow({ where: { email: user.email } });
    expect(row).toMatchObject({ name: 'Valid', version: 1 });
  });

  it.each([
    ['a garbage ID', 'garbage!!'],
    ['a Team ID', toGlobalId('Team', '00000000-0000-4000-8000-000000000000')],
    ['a non-UUID inside a User ID', Buffer.from('User:123').toString('base64')],
    ['an unknown user', toGlobalId('User', '00000000-0000-4000-8000-000000000000')],
  ])('returns NotFoundError for %s', async (_label, id) => {
    const res = await t.gql(UPDATE, { input: { id, name: 'Nobody' } });
    expect(res.errors).toBeUndefined();
    expect(res.data!.updateUser).toEqual({ __typename: 'NotFoundError', id, message: expect.any(String) });
  });
});

describe('deleteUser', () => {
  it('deletes the user and their memberships', async () => {
    const { user } = await createUser({ email: freshEmail(), name: 'Leaving' });
    const row = await t.db.prisma.user.findUniqueOrThrow({ where: { email: user.email } });
    const team = await t.db.prisma.team.create({ data: { slug: `t-${row.id.slice(0, 8)}`, name: 'T' } });
    await t.db.prisma.membership.create({ data: { userId: row.id, teamId: team.id } });
    const res = await t.gql(DELETE, { id: user.id });
    expect(res.data!.deleteUser).toEqual({ __typename: 'DeleteUserSuccess', deletedUserId: user.id });
    expect(await t.db.prisma.user.findUnique({ where: { id: row.id } })).toBeNull();
    expect(await t.db.prisma.membership.count({ where: { userId: row.id } })).toBe(0);
    const again = await t.gql(DELETE, { id: user.id });
    expect(again.data!.deleteUser.__typename).toBe('NotFoundError');
  });

  it.each(['', 'garbage', toGlobalId('Team', '00000000-0000-4000-8000-000000000000')])('returns NotFoundError for the malformed or wrong-type ID %j', async (id) => {
    const res = await t.gql(DELETE, { id });
    expect(res.errors).toBeUndefined();
    expect(res.data!.deleteUser).toMatchObject({ __typename: 'NotFoundError', id });
  });
});

describe('lookups', () => {
  it('user, userByEmail, node and nodes find a user by global ID or email', async () => {
    const { user } = await createUser({ email: freshEmail('lookup'), name: 'Findable' });
    const res = await t.gql(
      `query ($id: ID!, $email: String!) {
        user(id: $id) { id name }
        userByEmail(email: $email) { id }
        node(id: $id) { __typename id ... on User { email } }
        nodes(ids: [$id, "garbage", $id]) { id }
      }`,
      { id: user.id, email: `  ${user.email.toUpperCase()} ` },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      user: { id: user.id, name: 'Findable' },
      userByEmail: { id: user.id },
      node: { __typename: 'User', id: user.id, email: user.email },
      nodes: [{ id: user.id }, null, { id: user.id }],
    });
  });

  it.each([
    ['garbage', 'not base64 at all ***'],
    ['empty', ''],
    ['wrong type', toGlobalId('Team', '00000000-0000-4000-8000-000000000000')],
    ['unknown type', Buffer.from('Widget:00000000-0000-4000-8000-000000000000').toString('base64')],
    ['non-UUID', Buffer.from("User:1' OR 1=1 --").toString('base64')],
    ['unknown user', toGlobalId('User', '00000000-0000-4000-8000-000000000000')],
  ])('returns null, not an error, for a %s ID', async (_label, id) => {
    const res = await t.gql(`query ($id: ID!) { user(id: $id) { id } node(id: $id) { id } nodes(ids: [$id]) { id } }`, { id });
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ user: null, node: null, nodes: [null] });
  });

  it('userByEmail returns null for an unknown or malformed email', async () => {
    const res = await t.gql(`{ a: userByEmail(email: "nobody@example.com") { id } b: userByEmail(email: "???") { id } }`);
    expect(res).toEqual({ data: { a: null, b: null } });
  });
});
