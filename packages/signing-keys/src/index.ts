export {
  decodeKeyEvent,
  encodeKeyEvent,
  type KeyEvent,
  type KeyEventType,
} from './events.js';
export {
  generateKeyMaterial,
  generateSealedKey,
  type KeyMaterial,
  rsaKeyParameters,
  sealKeyMaterial,
} from './generate.js';
export { grpcKeySource } from './grpc-key-source.js';
export {
  clientSecretPlace,
  KekConfigError,
  type KeyEncryptionKey,
  type KeyEncryptionKeys,
  keyPlace,
  newKekSetting,
  openClientSecret,
  openPrivateKey,
  parseKeks,
  readKekSetting,
  type SealedKey,
  sealClientSecret,
  sealPrivateKey,
  UnsealError,
  unsealPrivateKey,
} from './kek.js';
export { KeyPool, keyPoolKeys, poolPlace } from './key-pool.js';
export {
  KeyRing,
  type KeySource,
  keyRingBounds,
  NoSigningKeyError,
  storeKeySource,
} from './key-ring.js';
export { KeyWorkers } from './key-workers.js';
export { keysProjection, projectKeyEvent } from './projection.js';
export {
  keyReadModel,
  keysReadModelPrefix,
  loadServerKeys,
  orgServerId,
  type PublishedKey,
  type ServerKeysView,
  viewOfServerKeys,
  waitForSigningKeys,
} from './read-model.js';
export {
  decideServerKeys,
  evolveServerKeys,
  initialServerKeysState,
  type KeyRecord,
  type KeyStatus,
  type ServerKeysCommand,
  type ServerKeysState,
  SigningKeyError,
} from './server-keys.js';
export { keysWriteModel, readsKeyEvent, serverKeysStream } from './write-model.js';
