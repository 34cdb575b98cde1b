import { gzipSync } from 'node:zlib';
import { ThreadsealError } from '@threadseal/ledger-model';

/** One regular file of a tar archive. */
export interface TarEntry {
  readonly name: string;
  readonly content: Buffer;
}

function header(name: string, size: number): Buffer {
  if (Buffer.byteLength(name) > 100)
    throw new ThreadsealError('INTERNAL', `tar entry name too long: ${name}`);
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100); // mode
  h.write('0000000\0', 108); // uid
  h.write('0000000\0', 116); // gid
  h.write(size.toString(8).padStart(11, '0') + '\0', 124);
  h.write('00000000000\0', 136); // mtime 0: archives are byte-for-byte reproducible
  h.write('        ', 148); // checksum placeholder (spaces while summing)
  h.write('0', 156); // regular file
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return h;
}

/** A deterministic gzipped ustar archive (the format Fabric chaincode packages use). */
export function tarGz(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(
      header(e.name, e.content.length),
      e.content,
      Buffer.alloc((512 - (e.content.length % 512)) % 512),
    );
  }
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts), { level: 9 });
}
