import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { Transform, type Readable, type Writable } from 'node:stream';
import { TransferFormatError, type TransferRecord } from '../../libs/tenancy/index.js';

/** What one import may read (bytes): far above any tenant seen, well below what hurts a process. */
export const MAX_IMPORT_BYTES = 2 ** 31;

/** The records of an NDJSON stream, one per non-empty line, with their line numbers. */
export async function* readRecords(
  input: Readable,
  maxBytes = MAX_IMPORT_BYTES,
): AsyncGenerator<{ line: number; record: TransferRecord }> {
  let seen = 0;
  const counted = input.pipe(
    new Transform({
      transform(chunk: Buffer, _enc, done) {
        seen += chunk.length;
        if (seen > maxBytes)
          done(new TransferFormatError(`the document is over ${maxBytes} bytes`));
        else done(null, chunk);
      },
    }),
  );
  input.on('error', (err) => counted.destroy(err));
  const lines = createInterface({ input: counted, crlfDelay: Infinity });
  let line = 0;
  for await (const text of lines) {
    line += 1;
    if (!text.trim()) continue;
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch {
      throw new TransferFormatError(`line ${line} is not JSON`);
    }
    if (
      !record ||
      typeof record !== 'object' ||
      typeof (record as TransferRecord).type !== 'string'
    ) {
      throw new TransferFormatError(`line ${line} is not a record (an object with a type)`);
    }
    yield { line, record: record as TransferRecord };
  }
}

/** Writes one line, waiting while the reader is behind; fails when the reader went away. */
export async function writeLine(out: Writable, record: TransferRecord): Promise<void> {
  if (out.destroyed) throw new Error('the reader went away');
  if (out.write(`${JSON.stringify(record)}\n`)) return;
  const closed = once(out, 'close').then(() => {
    throw new Error('the reader went away');
  });
  await Promise.race([once(out, 'drain'), closed]);
}
