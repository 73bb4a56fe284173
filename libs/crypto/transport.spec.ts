import { TransportSecrets } from './transport.js';

describe('TransportSecrets', () => {
  it('seals with a passphrase, opens only with it, and binds each secret to its record', async () => {
    const out = await TransportSecrets.forExport('passphrase', 'correct horse battery');
    const sealed = out.wrap('s3cret', 'client:web')!;
    expect(sealed).not.toContain('s3cret');
    expect(out.header).toMatchObject({ mode: 'passphrase', kdf: { name: 'scrypt' } });

    const back = await TransportSecrets.forImport(out.header, 'correct horse battery');
    expect(back.unwrap(sealed, 'client:web')).toBe('s3cret');
    expect(() => back.unwrap(sealed, 'client:other')).toThrow(/does not open/);
    await expect(TransportSecrets.forImport(out.header, 'wrong horse battery')).rejects.toThrow(
      /wrong passphrase/,
    );
    await expect(TransportSecrets.forImport(out.header)).rejects.toThrow(/give its passphrase/);
  });

  it('refuses a short passphrase and carries nothing when secrets are omitted', async () => {
    await expect(TransportSecrets.forExport('passphrase', 'short')).rejects.toThrow(/at least/);
    const omit = await TransportSecrets.forExport('omit');
    expect(omit.carriesSecrets).toBe(false);
    expect(omit.wrap('x', 'a')).toBeUndefined();
    const plain = await TransportSecrets.forExport('plaintext');
    expect(plain.wrap('x', 'a')).toBe('x');
    expect(plain.header.warning).toMatch(/in the clear/);
  });

  it('refuses key derivation parameters that would exhaust the importer', async () => {
    const out = await TransportSecrets.forExport('passphrase', 'correct horse battery');
    const greedy = { ...out.header, kdf: { ...out.header.kdf!, n: 2 ** 24 } };
    await expect(TransportSecrets.forImport(greedy, 'correct horse battery')).rejects.toThrow(
      /out of range/,
    );
  });
});
