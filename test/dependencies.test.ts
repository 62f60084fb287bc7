import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);

describe('dependencies', () => {
  // GraphQL Armor 2.x declares graphql ^16 and npm would give each rule its own copy; package.json's
  // overrides hand them ours. One graphql per process: one GraphQLError class and Kind table for the
  // validation rules, and ~1.5 MiB less of an idle replica's heap than two extra copies of graphql 16.
  it.each(['@escape.tech/graphql-armor-max-depth', '@escape.tech/graphql-armor-max-aliases'])('%s runs on our graphql', (name) => {
    const fromArmor = createRequire(require.resolve(`${name}/package.json`)).resolve('graphql');
    expect(fromArmor).toBe(require.resolve('graphql'));
  });
});
