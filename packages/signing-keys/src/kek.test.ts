import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  KekConfigError,
  newKekSetting,
  openPrivateKey,
  parseKeks,
  readKekSetting,
  sealPrivateKey,
  UnsealError,
  unsealPrivateKey,
} from './kek.js';

describe('key-encryption key', () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });

  it('seals a private key so that only its place and a configured KEK open it', () => {
    const keks = parseKeks(newKekSetting('kek-1'));
    const sealed = sealPrivateKey(der, keks, 'acme/default/kid1');
    expect(sealed.kekId).toBe('kek-1');
    expect(Buffer.from(sealed.ciphertext).includes(der.subarray(40, 72))).toBe(false);
    expect(unsealPrivateKey(sealed, keks, 'acme/default/kid1').equals(der)).toBe(true);
    expect(() => unsealPrivateKey(sealed, keks, 'globex/default/kid1')).toThrow(UnsealError);
    // One byte flipped (setting it to a value could leave it as it was, 1 time in 256).
    const flipped = Buffer.from(sealed.ciphertext);
    flipped[0] = flipped[0]! ^ 0xff;
    const tampered = { ...sealed, ciphertext: flipped };
    expect(() => unsealPrivateKey(tampered, keks, 'acme/default/kid1')).toThrow(UnsealError);
    expect(() =>
      unsealPrivateKey(sealed, parseKeks(newKekSetting('kek-1')), 'acme/default/kid1'),
    ).toThrow(UnsealError);
    expect(openPrivateKey(sealed, keks, 'acme/default/kid1').asymmetricKeyType).toBe('rsa');
  });

  it('rotates the KEK: the first entry seals, the older ones still open what they sealed', () => {
    const old = newKekSetting('kek-1');
    const sealedBefore = sealPrivateKey(der, parseKeks(old), 'p');
    const both = parseKeks(`${newKekSetting('kek-2')},${old}`);
    expect(sealPrivateKey(der, both, 'p').kekId).toBe('kek-2');
    expect(unsealPrivateKey(sealedBefore, both, 'p').equals(der)).toBe(true);
    expect(() => unsealPrivateKey(sealedBefore, parseKeks(newKekSetting('kek-2')), 'p')).toThrow(
      /no key-encryption key with id "kek-1"/,
    );
  });

  it('refuses a malformed setting with a message that names the problem', () => {
    expect(() => parseKeks('')).toThrow(KekConfigError);
    expect(() => parseKeks('justakey')).toThrow(/id:base64key/);
    expect(() => parseKeks(`k:${Buffer.alloc(16).toString('base64')}`)).toThrow(/32 bytes/);
    const one = newKekSetting('k');
    expect(() => parseKeks(`${one},${one}`)).toThrow(/given twice/);
  });

  it('reads GATEHOUSE_KEK as a setting, naming the variable when it is missing or malformed', () => {
    expect(readKekSetting({ GATEHOUSE_KEK: newKekSetting('k1') }).current.id).toBe('k1');
    expect(() => readKekSetting({})).toThrow(/^GATEHOUSE_KEK: is required/);
    expect(() => readKekSetting({ GATEHOUSE_KEK: 'k1:short' })).toThrow(
      /^GATEHOUSE_KEK: .*32 bytes/,
    );
  });
});
