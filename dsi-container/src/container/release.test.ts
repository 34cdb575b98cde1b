/**
 * Key release: the key-release service (recipient A here) seals a DSI's content keys to one machine for one
 * build; the machine opens the DSI with that release and its own key, and with nothing else.
 */
import { generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import type { ReleaseStanza } from '@threadseal/ledger-model';
import { softwareRecipientKey } from '../keys/software';
import { AEAD, sealBase } from '../crypto/hpke';
import { open } from './open';
import { releaseContext } from './open';
import { releaseKeys } from './release';
import {
  collect,
  expectCode,
  pem,
  protectBytes,
  recipientA,
  recipientB,
  testBytes,
  trustedRoots,
} from '../testing/fixtures';

const machinePair = () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    key: softwareRecipientKey(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()),
    pem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
};

const FILES = [
  { name: 'part.gcode', source: testBytes(300, 3) },
  { name: 'part.step', source: testBytes(130, 4) },
];

async function openWith(
  bytes: Buffer,
  key: ReturnType<typeof recipientA>,
  release: { buildId: string; stanza: ReleaseStanza },
) {
  const opened = await open(bytes, key, { trustedRoots: trustedRoots(), release });
  try {
    return await Promise.all(opened.files.map((f) => collect(f.stream())));
  } finally {
    await opened.close();
  }
}

async function refusal(action: Promise<unknown>): Promise<unknown> {
  try {
    await action;
  } catch (err) {
    return err;
  }
  throw new Error('expected a refusal');
}

describe('key release to one machine for one build', () => {
  it('opens for the machine with the release of its build, and yields exactly the protected files', async () => {
    const { bytes } = await protectBytes({ files: FILES });
    const machine = machinePair();
    const stanza = await releaseKeys(bytes, recipientA(), machine.pem, 'build-1', {
      trustedRoots: trustedRoots(),
    });
    expect(stanza.type).to.equal('hpke-p256-sha256-aes256gcm-build');
    const files = await openWith(bytes, machine.key, { buildId: 'build-1', stanza });
    expect(files).to.deep.equal(FILES.map((f) => f.source));
  });

  it('is useless without the release: the machine is no recipient of the container itself', async () => {
    const { bytes } = await protectBytes({ files: FILES });
    const machine = machinePair();
    expectCode(await refusal(open(bytes, machine.key, { trustedRoots: trustedRoots() })), 'NOT_A_RECIPIENT');
  });

  it('opens for no other build, no other machine and no other DSI', async () => {
    const { bytes } = await protectBytes({ files: FILES });
    const { bytes: otherDsi } = await protectBytes({ files: FILES, revision: 'D' });
    const machine = machinePair();
    const stanza = await releaseKeys(bytes, recipientA(), machine.pem, 'build-1', {
      trustedRoots: trustedRoots(),
    });
    const r = (buildId: string, key = machine.key, dsi = bytes) =>
      refusal(openWith(dsi, key, { buildId, stanza }));
    expectCode(await r('build-2'), 'WRAP_MISMATCH', 'another build');
    expectCode(await r('build-1', machinePair().key), 'NOT_A_RECIPIENT', 'another machine');
    expectCode(await r('build-1', recipientA()), 'NOT_A_RECIPIENT', 'the release service itself');
    expectCode(await r('build-1', machine.key, otherDsi), 'WRAP_MISMATCH', 'another DSI');
  });

  it("refuses a forged release: keys sealed to the machine's key that the owner did not commit to", async () => {
    const { bytes, dsiId } = await protectBytes({ files: FILES });
    const machine = machinePair();
    const genuine = await releaseKeys(bytes, recipientA(), machine.pem, 'build-1', {
      trustedRoots: trustedRoots(),
    });
    const { info, aad } = releaseContext(dsiId, 'build-1');
    const forged = sealBase(AEAD.aes256gcm, machine.key.publicKey, info, aad, Buffer.alloc(64, 1));
    const stanza: ReleaseStanza = {
      ...genuine,
      enc: forged.enc.toString('base64'),
      wrappedKeys: forged.ciphertext.toString('base64'),
    };
    const err = expectCode(
      await refusal(openWith(bytes, machine.key, { buildId: 'build-1', stanza })),
      'WRAP_MISMATCH',
    );
    expect(err.message).to.match(/does not match the signed key commitment/);
    const truncated = { ...genuine, wrappedKeys: Buffer.alloc(16).toString('base64') };
    expectCode(
      await refusal(openWith(bytes, machine.key, { buildId: 'build-1', stanza: truncated })),
      'WRAP_MISMATCH',
    );
  });

  it('releases nothing when the service is no recipient, the DSI fails verification, or the machine key is no P-256 key', async () => {
    const { bytes } = await protectBytes({ files: FILES });
    const machine = machinePair();
    const options = { trustedRoots: trustedRoots() };
    expectCode(await refusal(releaseKeys(bytes, recipientB(), machine.pem, 'b', options)), 'NOT_A_RECIPIENT');
    const tampered = Buffer.from(bytes);
    tampered.writeUInt8((tampered.at(-5) ?? 0) ^ 1, tampered.length - 5);
    expectCode(
      await refusal(releaseKeys(tampered, recipientA(), machine.pem, 'b', options)),
      'DIGEST_MISMATCH',
    );
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
      type: 'spki',
      format: 'pem',
    });
    expectCode(
      await refusal(releaseKeys(bytes, recipientA(), rsa.toString(), 'b', options)),
      'UNSUPPORTED_KEY',
    );
    expectCode(
      await refusal(
        releaseKeys(bytes, recipientA(), machine.pem, 'b', { trustedRoots: [pem('rogue-ca.cert.pem')] }),
      ),
      'UNTRUSTED_SIGNER',
    );
  });
});
