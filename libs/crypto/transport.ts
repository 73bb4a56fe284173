import { randomBytes, scrypt as scryptCallback } from 'node:crypto';
import { SecretBox } from './envelope.js';

/**
 * How an export carries the secrets it holds (TOTP secrets, client secrets, signing keys,
 * recovery-code keys): sealed with a key derived from the operator's passphrase, in the clear
 * (only when asked for by name), or not at all. See docs/decisions/0024.
 */
export type SecretsMode = 'passphrase' | 'plaintext' | 'omit';

export interface TransportHeader {
  mode: SecretsMode;
  /** passphrase: scrypt parameters and a sealed check value, so a wrong passphrase fails first. */
  kdf?: { name: 'scrypt'; salt: string; n: number; r: number; p: number };
  check?: string;
  warning?: string;
}

const SCRYPT = { n: 2 ** 15, r: 8, p: 1 };
const CHECK = 'idp-tenant-transfer';
export const MIN_PASSPHRASE_LENGTH = 12;

function deriveKey(passphrase: string, salt: Buffer, n: number, r: number, p: number) {
  return new Promise<Buffer>((resolve, reject) =>
    scryptCallback(
      passphrase.normalize('NFKC'),
      salt,
      32,
      { N: n, r, p, maxmem: 256 * n * r },
      (err, key) => (err ? reject(err) : resolve(key)),
    ),
  );
}

export class TransportError extends Error {}

/** Seals and opens the secrets of one export document (AES-256-GCM, bound to the record by `aad`). */
export class TransportSecrets {
  private constructor(
    readonly header: TransportHeader,
    private readonly box: SecretBox | null,
  ) {}

  static async forExport(mode: SecretsMode, passphrase?: string): Promise<TransportSecrets> {
    if (mode === 'omit') return new TransportSecrets({ mode }, null);
    if (mode === 'plaintext') {
      return new TransportSecrets(
        {
          mode,
          warning:
            'This document carries secrets in the clear: anyone who reads it can sign tokens and pass second factors. Store it encrypted and delete it after import.',
        },
        null,
      );
    }
    if (!passphrase || passphrase.length < MIN_PASSPHRASE_LENGTH) {
      throw new TransportError(
        `a passphrase of at least ${MIN_PASSPHRASE_LENGTH} characters is required`,
      );
    }
    const salt = randomBytes(16);
    const box = new SecretBox(await deriveKey(passphrase, salt, SCRYPT.n, SCRYPT.r, SCRYPT.p));
    return new TransportSecrets(
      {
        mode,
        kdf: { name: 'scrypt', salt: salt.toString('base64url'), ...SCRYPT },
        check: box.seal(CHECK, 'check'),
      },
      box,
    );
  }

  static async forImport(header: TransportHeader, passphrase?: string): Promise<TransportSecrets> {
    if (header.mode === 'omit' || header.mode === 'plaintext')
      return new TransportSecrets(header, null);
    if (header.mode !== 'passphrase' || header.kdf?.name !== 'scrypt' || !header.check) {
      throw new TransportError('the document names an unknown way of carrying secrets');
    }
    if (!passphrase)
      throw new TransportError('this document carries sealed secrets: give its passphrase');
    const { salt, n, r, p } = header.kdf;
    if (![n, r, p].every(Number.isInteger) || n > 2 ** 20 || r > 32 || p > 16) {
      throw new TransportError('the document asks for key derivation parameters out of range');
    }
    const box = new SecretBox(await deriveKey(passphrase, Buffer.from(salt, 'base64url'), n, r, p));
    try {
      if (box.openString(header.check, 'check') !== CHECK) throw new Error('check');
    } catch {
      throw new TransportError('wrong passphrase for this document');
    }
    return new TransportSecrets(header, box);
  }

  /** Whether the document carries secrets at all. */
  get carriesSecrets(): boolean {
    return this.header.mode !== 'omit';
  }

  /** The form of a secret in the document; undefined when secrets are omitted. */
  wrap(plaintext: string, aad: string): string | undefined {
    if (this.header.mode === 'omit') return undefined;
    if (this.header.mode === 'plaintext') return plaintext;
    return this.box!.seal(plaintext, aad);
  }

  /** A secret of the document in the clear; undefined when it carries none. Throws on tampering. */
  unwrap(value: unknown, aad: string): string | undefined {
    if (value === undefined || value === null || this.header.mode === 'omit') return undefined;
    if (typeof value !== 'string') throw new TransportError(`secret ${aad} is not a string`);
    if (this.header.mode === 'plaintext') return value;
    try {
      return this.box!.openString(value, aad);
    } catch {
      throw new TransportError(`secret ${aad} does not open with this passphrase`);
    }
  }
}
