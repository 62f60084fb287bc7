import { readFileSync } from 'node:fs';
import { getNamedType, isEnumType, isInputObjectType, isInterfaceType, isIntrospectionType, isObjectType, isSpecifiedScalarType, printSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { builder } from '../src/schema/builder.js';
import { schema } from '../src/schema/index.js';

describe('served schema', () => {
  it('matches the committed schema.graphql (run `npm run schema:print` after an API change)', () => {
    const committed = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');
    expect(committed).toBe(`${printSchema(schema)}\n`);
  });

  it('describes every type, field, argument, input field and enum value (they show in GraphiQL)', () => {
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (isIntrospectionType(type) || isSpecifiedScalarType(type)) continue;
      if (!type.description) missing.push(type.name);
      if (isObjectType(type) || isInterfaceType(type)) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
          for (const arg of field.args) if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
        }
      }
      if (isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) if (!field.description) missing.push(`${type.name}.${field.name}`);
      }
      if (isEnumType(type)) {
        for (const value of type.getValues()) if (!value.description) missing.push(`${type.name}.${value.name}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("serves connections' edges and pageInfo and edges' node without a resolver, as plugin-relay's own resolvers read them", () => {
    // The schema plugin-relay built, before plainConnectionFields: its resolvers of these fields must
    // read the property of the same name and nothing else, or dropping them would change answers.
    const built = builder.toSchema();
    const probe = { edges: Symbol('edges'), pageInfo: Symbol('pageInfo'), node: Symbol('node') };
    const plain: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || !type.getFields().pageInfo) continue;
      const edge = getNamedType(type.getFields().edges!.type);
      for (const [owner, name] of [
        [type.name, 'edges'],
        [type.name, 'pageInfo'],
        [edge.name, 'node'],
      ] as const) {
        const served = (schema.getType(owner) as typeof type).getFields()[name]!;
        const original = (built.getType(owner) as typeof type).getFields()[name]!;
        expect(served.resolve, `${owner}.${name}`).toBeUndefined();
        expect(original.resolve?.({ ...probe }, {}, {}, {} as never)).toBe(probe[name]);
        plain.push(`${owner}.${name}`);
      }
    }
    expect(plain).toHaveLength(12);
  });
});
