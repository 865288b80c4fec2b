import { hostname } from 'node:os';
import { ConfigError } from '@gatehouse/config';
import { describe, expect, it } from 'vitest';
import { followerGroupId, replicaId } from './consumer-identity.js';

describe('consumer identity', () => {
  it('names a replica by GATEHOUSE_REPLICA_ID, else by host and process', () => {
    expect(replicaId({ GATEHOUSE_REPLICA_ID: 'token-2' })).toBe('token-2');
    expect(replicaId({})).toBe(`${hostname().replace(/[^A-Za-z0-9._-]/g, '-')}-${process.pid}`);
    for (const bad of ['-x', 'a b', 'x'.repeat(65), 'tok/en'])
      expect(() => replicaId({ GATEHOUSE_REPLICA_ID: bad })).toThrow(ConfigError);
  });

  it("gives a process's followers of one name stable, distinct group ids in opening order", () => {
    const env = { GATEHOUSE_REPLICA_ID: 'userinfo-1' };
    const name = `cache-${Math.random().toString(36).slice(2)}`;
    expect(followerGroupId(name, env)).toBe(`${name}.userinfo-1.1`);
    expect(followerGroupId(name, env)).toBe(`${name}.userinfo-1.2`);
    expect(followerGroupId(`${name}-other`, env)).toBe(`${name}-other.userinfo-1.1`);
  });
});
