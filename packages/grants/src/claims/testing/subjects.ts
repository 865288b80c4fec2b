// Users, subjects and claim definitions the claims tests share.
import type { Claim } from '@gatehouse/contracts';
import type { TokenSubject, TokenUser } from '../subject.js';

/** A user whose profile has every attribute, as seed 000's example ID token shows them. */
export const john: TokenUser = {
  id: '00uid4BxXw6I6TV4m0g3',
  login: 'john.doe@example.com',
  lastUpdated: '2011-07-21T20:42:50.000Z',
  profile: {
    login: 'john.doe@example.com',
    email: 'john.doe@example.com',
    firstName: 'John',
    lastName: 'Doe',
    middleName: 'James',
    displayName: 'John Doe',
    nickName: 'Jimmy',
    profileUrl: 'http://profile.wordpress.com/john.doe',
    locale: 'en-US',
    timezone: 'America/Los_Angeles',
    primaryPhone: '+1 (425) 555-1212',
    streetAddress: '123 Hollywood Blvd.',
    city: 'Los Angeles',
    state: 'CA',
    zipCode: '90210',
    countryCode: 'US',
    emailVerified: true,
  },
  groups: [
    { id: '00gEveryone', name: 'Everyone' },
    { id: '00gEng', name: 'Engineering' },
    { id: '00gEngOps', name: 'eng-ops' },
    { id: '00gSales', name: 'Sales' },
  ],
};

/** Only what a profile requires. */
export const minimal: TokenUser = {
  id: '00uMinimal',
  login: 'min@example.com',
  lastUpdated: '2024-01-01T00:00:00.000Z',
  profile: {
    login: 'min@example.com',
    email: 'min@example.com',
    firstName: 'Min',
    lastName: 'Imal',
  },
  groups: [],
};

export const subjectOf = (user: TokenUser): TokenSubject => ({
  user,
  authTime: 1449624026,
  amr: ['pwd'],
});

export const claim = (name: string, more: Partial<Claim> = {}): Claim => ({
  id: `ocl-${name}`,
  name,
  status: 'ACTIVE',
  claimType: 'RESOURCE',
  valueType: 'EXPRESSION',
  value: '"value"',
  scopes: [],
  alwaysIncludeInToken: true,
  groupFilterType: '',
  ...more,
});

export const groupsClaim = (filter: string, type: string, more: Partial<Claim> = {}): Claim =>
  claim('groups', { valueType: 'GROUPS', value: filter, groupFilterType: type, ...more });

export const manyGroups = (count: number, prefix = 'team-') =>
  Array.from({ length: count }, (_, i) => ({ id: `00g${i}`, name: `${prefix}${i}` }));
