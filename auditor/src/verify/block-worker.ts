// A block-decoding worker (node:worker_threads). It receives batches of blocks packed in one transferred
// buffer, decodes each block as the replay's own thread would (`decodeBlock`: hashes, envelopes,
// read-write sets, and whether each signature verifies under its identity's key — DER, low-S,
// P-256/SHA-256) and sends the decoded blocks back with the buffer transferred again, so their byte
// fields are views, not copies. It decides nothing that depends on the state or the configuration: the
// replay judges identities, policies and versions in block order.
import { parentPort } from 'node:worker_threads';
import { decodeBlock, SignatureChecker } from '../block/decoded-block';
import { unpackBlocks, type BlockBatchMessage, type DecodedBatchMessage } from './block-batch';

const port = parentPort;
if (!port) throw new TypeError('block-worker must run in a worker thread');

const checker = new SignatureChecker();

port.on('message', (message: BlockBatchMessage) => {
  const blocks = unpackBlocks(message).map((block) => decodeBlock(block, checker));
  const answer: DecodedBatchMessage = { batch: message.batch, blocks };
  port.postMessage(answer, [message.bytes.buffer as ArrayBuffer]);
});
