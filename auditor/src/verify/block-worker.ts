// A block-verifying worker (node:worker_threads). It receives batches of blocks packed in one transferred
// buffer, decodes each block as the replay's own thread does (`decodeBlock`) and verifies every signature
// it carries under its identity's key (DER, low-S, P-256/SHA-256), and answers with only the verdicts, one
// byte per signature in block order, and each block's data hash: the replay decodes the block again
// (cheap) and takes these verdicts instead of verifying. It decides nothing that depends on the state or
// the configuration: the replay judges identities, policies and versions in block order.
import { parentPort } from 'node:worker_threads';
import { decodeBlock, RecordingChecker, SignatureChecker } from '../block/decoded-block';
import { packVerdicts, unpackBlocks, type BlockBatchMessage } from './block-batch';

const port = parentPort;
if (!port) throw new TypeError('block-worker must run in a worker thread');

const checker = new SignatureChecker();

port.on('message', (message: BlockBatchMessage) => {
  const blocks = unpackBlocks(message).map((block) => {
    const recording = new RecordingChecker(checker);
    const decoded = decodeBlock(block, recording);
    return { verdicts: Uint8Array.from(recording.verdicts), dataHash: decoded.dataHash };
  });
  const { message: answer, transfer } = packVerdicts(message.batch, blocks);
  port.postMessage(answer, transfer);
});
