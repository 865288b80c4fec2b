import { describe, expect, it } from 'vitest';
import { parseReplicaCounts, replicaCountsFrom } from './replica-counts.js';
import { parseReplicaAddress, replicaLabel } from './stack.js';

describe('--replicas', () => {
  it('reads service=count pairs', () => {
    expect(parseReplicaCounts('token=2,userinfo=2, projector=3', '--replicas')).toEqual({
      token: 2,
      userinfo: 2,
      projector: 3,
    });
  });

  it('sets every service with all=N, a named service overriding it', () => {
    expect(parseReplicaCounts('all=2,token=3', '--replicas')).toEqual({
      admin: 2,
      projector: 2,
      keys: 2,
      token: 3,
      authorize: 2,
      userinfo: 2,
    });
  });

  it.each([
    [
      'tokens=2',
      '--replicas: no service "tokens" (one of admin, projector, keys, token, authorize, userinfo, or all)',
    ],
    ['token=0', '--replicas: token=0 is not a count of replicas from 1 to 16'],
    ['token=17', '--replicas: token=17 is not a count of replicas from 1 to 16'],
    ['token=two', '--replicas: token=two is not a count of replicas from 1 to 16'],
    ['token=1.5', '--replicas: token=1.5 is not a count of replicas from 1 to 16'],
    ['token', '--replicas: "token" is not service=count (e.g. token=2)'],
  ])('refuses %j clearly', (text, message) => {
    expect(() => parseReplicaCounts(text, '--replicas')).toThrow(message);
  });

  it('takes the command line first, then GATEHOUSE_STACK_REPLICAS', () => {
    const env = { GATEHOUSE_STACK_REPLICAS: 'userinfo=2' };
    expect(replicaCountsFrom(['--replicas', 'token=2'], env)).toEqual({ token: 2 });
    expect(replicaCountsFrom(['--replicas=token=3'], env)).toEqual({ token: 3 });
    expect(replicaCountsFrom([], env)).toEqual({ userinfo: 2 });
    expect(replicaCountsFrom([], {})).toEqual({});
    expect(() => replicaCountsFrom([], { GATEHOUSE_STACK_REPLICAS: 'token=x' })).toThrow(
      /^GATEHOUSE_STACK_REPLICAS: token=x/,
    );
    expect(() => replicaCountsFrom(['--replicas'], {})).toThrow('--replicas: give service=count');
    expect(() => replicaCountsFrom(['--replica', 'token=2'], {})).toThrow(
      'unknown argument "--replica"',
    );
  });
});

describe('replica addresses', () => {
  it('names replica 1 after its service, the others with their number', () => {
    expect(replicaLabel('token', 1)).toBe('token');
    expect(replicaLabel('token', 2)).toBe('token-2');
  });

  it('reads a service (every replica), a label, or a service and a number', () => {
    expect(parseReplicaAddress('token')).toEqual({ service: 'token' });
    expect(parseReplicaAddress('token-2')).toEqual({ service: 'token', replica: 2 });
    expect(parseReplicaAddress('token-1')).toEqual({ service: 'token', replica: 1 });
    expect(parseReplicaAddress({ service: 'userinfo', replica: 2 })).toEqual({
      service: 'userinfo',
      replica: 2,
    });
    expect(() => parseReplicaAddress('tokens-2' as never)).toThrow('names no service or replica');
  });
});
