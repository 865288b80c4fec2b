import { describe, expect, it } from 'vitest';
import { readProfile } from './profile.js';
import {
  type CustomSchema,
  decideUserSchema,
  evolveUserSchema,
  initialUserSchemaState,
  readCustomSchemaUpdate,
} from './schema.js';

const fields = (problems: { field: string }[]) => problems.map((p) => p.field);
const update = (input: unknown, current: CustomSchema = initialUserSchemaState) =>
  readCustomSchemaUpdate(input, current);

describe('the user profile schema', () => {
  const withTeam = update({
    properties: {
      team: { title: 'Team', type: 'string', minLength: 2, maxLength: 10, required: true },
      tier: { title: 'Tier', type: 'integer', enum: [1, 2, 3] },
      skills: { title: 'Skills', type: 'array', items: { type: 'string' } },
    },
  }).custom!;

  it('merges properties, removes those given as null, and keeps required in step', () => {
    expect(withTeam.required).toEqual(['team']);
    const next = update(
      { properties: { tier: null, vip: { title: 'VIP', type: 'boolean' } } },
      withTeam,
    ).custom!;
    expect(Object.keys(next.properties)).toEqual(['skills', 'team', 'vip']);
    const dropped = update({ properties: { team: null } }, next).custom!;
    expect(dropped.required).toEqual([]);
  });

  it('refuses base names, bad types and contradictory bounds', () => {
    const { problems } = update({
      properties: {
        email: { title: 'Email', type: 'string' },
        shoe: { title: 'Shoe', type: 'float' },
        code: { title: 'Code', type: 'string', minLength: 5, maxLength: 2 },
        list: { title: 'List', type: 'array', items: { type: 'integer' } },
        '9lives': { title: 'Lives', type: 'string' },
        flag: { type: 'boolean' },
      },
      required: ['nothere'],
    });
    expect(fields(problems)).toEqual([
      'definitions.custom.properties.email',
      'definitions.custom.properties.shoe.type',
      'definitions.custom.properties.code.minLength',
      'definitions.custom.properties.list.items.type',
      'definitions.custom.properties.9lives',
      'definitions.custom.properties.flag.title',
      'definitions.custom.required',
    ]);
  });

  it('given a schema, when it is updated, then one event; the same again: none', () => {
    const [event] = decideUserSchema(
      { kind: 'UpdateUserSchema', custom: withTeam },
      initialUserSchemaState,
    );
    expect(event!.type).toBe('gatehouse.events.v1.UserSchemaUpdated');
    const state = evolveUserSchema(initialUserSchemaState, event!);
    expect(state).toEqual(withTeam);
    expect(decideUserSchema({ kind: 'UpdateUserSchema', custom: withTeam }, state)).toEqual([]);
  });

  it('checks users custom values against it', () => {
    const base = { login: 'a@b.co', email: 'a@b.co', firstName: 'A', lastName: 'B' };
    const ok = readProfile({ ...base, team: 'core', tier: 2, skills: ['ts'] }, undefined, withTeam);
    expect(ok.problems).toEqual([]);
    expect(JSON.parse(ok.profile!.customJson!)).toEqual({ skills: ['ts'], team: 'core', tier: 2 });
    const bad = readProfile(
      { ...base, team: 'x', tier: 7, skills: 'ts', shoeSize: 9 },
      undefined,
      withTeam,
    );
    expect(bad.problems).toEqual([
      { field: 'profile.team', message: 'must be at least 2 characters' },
      { field: 'profile.tier', message: 'must be one of 1, 2, 3' },
      { field: 'profile.skills', message: 'must be a list of strings' },
      { field: 'profile.shoeSize', message: "Property name 'shoeSize' is not defined in profile" },
    ]);
    expect(fields(readProfile(base, undefined, withTeam).problems)).toEqual(['profile.team']);
    // a partial update keeps the custom values it does not name, and null clears one
    const updated = readProfile({ tier: null }, ok.profile, withTeam).profile!;
    expect(JSON.parse(updated.customJson!)).toEqual({ skills: ['ts'], team: 'core' });
  });
});
