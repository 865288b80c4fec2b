export { type DpopNonceOptions, DpopNonces } from './nonces.js';
export {
  accessTokenHash,
  type DpopProofDeps,
  type DpopRequest,
  dpopHeaderOf,
  dpopIatToleranceSeconds,
  dpopSigningAlgorithms,
  type VerifiedDpopProof,
  verifyDpopProof,
} from './proof.js';
