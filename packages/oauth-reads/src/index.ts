// What the token and authorize services read of the directory on every request.
export { isAssigned } from './assignments.js';
export { DirectoryCache, directoryCacheBounds } from './directory-cache.js';
export { loadServerConfig, type ServerConfig } from './server-config.js';
export { loadSubject, type SubjectReadResults, subjectFrom, subjectReads } from './subjects.js';
export {
  assertFresh,
  checkToken,
  currentBindingDigest,
  type FreshnessGuard,
  ProjectionsStaleError,
  projectionLag,
  readModelsFresh,
  stillValid,
  subjectTokenQuery,
  type ValidityQuery,
} from './token-validity.js';
