/**
 * A fake Fabric gateway for the client's unit tests: a real gRPC server on 127.0.0.1 (random port)
 * implementing the `gateway.Gateway` service of @hyperledger/fabric-protos, so the client under test goes
 * through fabric-gateway and grpc-js unchanged. Each test scripts what the "peer" answers; the fake records
 * every call and checks every signature against the certificate in the request.
 */
import { verify, X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { common, gateway, google, msp, peer } from '@hyperledger/fabric-protos';

/** A transaction invocation as the fake decoded it from a signed proposal. */
export interface Invocation {
  readonly transactionId: string;
  readonly chaincode: string;
  readonly name: string;
  readonly args: readonly string[];
  readonly transient: Readonly<Record<string, string>>;
  readonly mspId: string;
  /** The orgs the client asked to endorse (Endorse) or to evaluate on (Evaluate). */
  readonly orgs: readonly string[];
}

/** A refusal as a peer gateway sends it: a gRPC status with one detail per endorsing node. */
export interface Refusal {
  readonly code: grpc.status;
  readonly message: string;
  readonly details?: readonly {
    readonly mspId: string;
    readonly address?: string;
    readonly message: string;
  }[];
}

/** What the fake answers to one call: a result, or a refusal. */
export type Answer<T> = T | { readonly refuse: Refusal };

/** The scripted behaviour; each handler defaults to success. */
export interface FakeGatewayScript {
  /** The chaincode's result for an endorsement (default: `{}`). */
  endorse?: (
    call: Invocation,
  ) => Answer<{ readonly result: string }> | Promise<Answer<{ readonly result: string }>>;
  submit?: (transactionId: string) => Answer<Record<string, never>>;
  /** Validation code and block of a transaction (default: VALID in the next block). */
  commitStatus?: (transactionId: string) => { readonly code: number; readonly blockNumber: bigint };
  /** The result of an evaluate other than qscc GetChainInfo (default: `{}`). */
  evaluate?: (
    call: Invocation,
  ) => Answer<{ readonly result: string }> | Promise<Answer<{ readonly result: string }>>;
  /** The height qscc GetChainInfo reports (default: one past the newest block committed). */
  height?: () => bigint;
  /** The chaincode events streamed to a reader, one entry per block; the stream then ends. */
  chaincodeEvents?: () => readonly {
    readonly blockNumber: bigint;
    readonly events: readonly {
      readonly transactionId: string;
      readonly name: string;
      readonly payload: string;
    }[];
  }[];
}

export interface FakeGateway {
  /** `127.0.0.1:<port>` */
  readonly address: string;
  /** Every call in arrival order: method and decoded invocation or transaction id. */
  readonly calls: { readonly method: string; readonly call?: Invocation; readonly transactionId?: string }[];
  script: FakeGatewayScript;
  /** An insecure gRPC client to the fake; the caller closes it. */
  newClient(): grpc.Client;
  stop(): Promise<void>;
}

/** The part of google-protobuf's `Map` used here. */
interface ProtoMap {
  forEach(callback: (value: Uint8Array | string, key: string) => void): void;
}

/** The part of google-protobuf's `Any` used here. */
interface ProtoAny {
  setTypeUrl(url: string): void;
  setValue(value: Uint8Array): void;
}

function decodeSignedProposal(signed: peer.SignedProposal, orgs: readonly string[]): Invocation {
  const proposalBytes = signed.getProposalBytes_asU8();
  const proposal = peer.Proposal.deserializeBinary(proposalBytes);
  const header = common.Header.deserializeBinary(proposal.getHeader_asU8());
  const channelHeader = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
  const signatureHeader = common.SignatureHeader.deserializeBinary(header.getSignatureHeader_asU8());
  const creator = msp.SerializedIdentity.deserializeBinary(signatureHeader.getCreator_asU8());
  const certificate = new X509Certificate(creator.getIdBytes_asU8());
  if (!verify('sha256', proposalBytes, certificate.publicKey, signed.getSignature_asU8())) {
    throw new Error(`proposal ${channelHeader.getTxId()} is not signed by the key of its creator`);
  }
  const payload = peer.ChaincodeProposalPayload.deserializeBinary(proposal.getPayload_asU8());
  const spec = peer.ChaincodeInvocationSpec.deserializeBinary(payload.getInput_asU8()).getChaincodeSpec();
  const [name = '', ...args] = (spec?.getInput()?.getArgsList_asU8() ?? []).map((a) =>
    Buffer.from(a).toString('utf8'),
  );
  const transient: Record<string, string> = {};
  // google-protobuf's own types are not installed: the two protobuf helpers used here are named locally.
  const transientMap = payload.getTransientmapMap() as unknown as ProtoMap;
  transientMap.forEach((value, key) => {
    transient[key] =
      typeof value === 'string'
        ? Buffer.from(value, 'base64').toString('utf8')
        : Buffer.from(value).toString('utf8');
  });
  return {
    transactionId: channelHeader.getTxId(),
    chaincode: spec?.getChaincodeId()?.getName() ?? '',
    name,
    args,
    transient,
    mspId: creator.getMspid(),
    orgs,
  };
}

function chaincodeResponse(result: Uint8Array): peer.Response {
  const response = new peer.Response();
  response.setStatus(200);
  response.setPayload(result);
  return response;
}

/** The prepared transaction fabric-gateway expects back from Endorse: the chaincode result inside. */
function preparedTransaction(call: Invocation, channel: string, result: Uint8Array): common.Envelope {
  const action = new peer.ChaincodeAction();
  action.setResponse(chaincodeResponse(result));
  const responsePayload = new peer.ProposalResponsePayload();
  responsePayload.setExtension$(action.serializeBinary());
  const endorsed = new peer.ChaincodeEndorsedAction();
  endorsed.setProposalResponsePayload(responsePayload.serializeBinary());
  const actionPayload = new peer.ChaincodeActionPayload();
  actionPayload.setAction(endorsed);
  const txAction = new peer.TransactionAction();
  txAction.setPayload(actionPayload.serializeBinary());
  const transaction = new peer.Transaction();
  transaction.setActionsList([txAction]);
  const channelHeader = new common.ChannelHeader();
  channelHeader.setChannelId(channel);
  channelHeader.setTxId(call.transactionId);
  const header = new common.Header();
  header.setChannelHeader(channelHeader.serializeBinary());
  const payload = new common.Payload();
  payload.setHeader(header);
  payload.setData(transaction.serializeBinary());
  const envelope = new common.Envelope();
  envelope.setPayload(payload.serializeBinary());
  return envelope;
}

/** A gRPC error carrying gateway ErrorDetails, encoded as a peer's gateway encodes them. */
function serviceError(refusal: Refusal): Partial<grpc.StatusObject> {
  const status = new google.rpc.Status();
  status.setCode(refusal.code);
  status.setMessage(refusal.message);
  for (const d of refusal.details ?? []) {
    const detail = new gateway.ErrorDetail();
    detail.setMspId(d.mspId);
    detail.setAddress(d.address ?? `peer0.${d.mspId.toLowerCase()}:7051`);
    detail.setMessage(d.message);
    const any = status.addDetails() as unknown as ProtoAny;
    any.setTypeUrl('type.googleapis.com/gateway.ErrorDetail');
    any.setValue(detail.serializeBinary());
  }
  const metadata = new grpc.Metadata();
  metadata.set('grpc-status-details-bin', Buffer.from(status.serializeBinary()));
  return { code: refusal.code, details: refusal.message, metadata };
}

function isRefusal<T>(answer: Answer<T>): answer is { readonly refuse: Refusal } {
  return typeof answer === 'object' && answer !== null && 'refuse' in answer;
}

const utf8 = (text: string): Uint8Array => Buffer.from(text, 'utf8');

/** Starts a fake gateway serving `channel`; stop it after the tests. */
export async function startFakeGateway(channel: string): Promise<FakeGateway> {
  const server = new grpc.Server();
  let newestBlock = 0n;
  const fake = {
    address: '',
    calls: [] as FakeGateway['calls'][number][],
    script: {} as FakeGatewayScript,
  };
  const reply = <T>(callback: grpc.sendUnaryData<T>, run: () => Promise<T | { refuse: Refusal }>): void => {
    run().then(
      (answer) => {
        if (isRefusal(answer)) callback(serviceError(answer.refuse), null);
        else callback(null, answer);
      },
      (err: unknown) => {
        callback({ code: grpc.status.INTERNAL, details: (err as Error).message }, null);
      },
    );
  };
  const implementation: gateway.IGatewayServer = {
    endorse: (call, callback) => {
      reply(callback, async () => {
        const signed = call.request.getProposedTransaction();
        if (!signed) throw new Error('no proposed transaction');
        const invocation = decodeSignedProposal(signed, call.request.getEndorsingOrganizationsList());
        fake.calls.push({ method: 'Endorse', call: invocation });
        const answer = await (fake.script.endorse?.(invocation) ?? { result: '{}' });
        if (isRefusal(answer)) return answer;
        const response = new gateway.EndorseResponse();
        response.setPreparedTransaction(preparedTransaction(invocation, channel, utf8(answer.result)));
        return response;
      });
    },
    submit: (call, callback) => {
      reply(callback, () => {
        const transactionId = call.request.getTransactionId();
        fake.calls.push({ method: 'Submit', transactionId });
        const answer = fake.script.submit?.(transactionId) ?? {};
        return Promise.resolve(isRefusal(answer) ? answer : new gateway.SubmitResponse());
      });
    },
    commitStatus: (call, callback) => {
      reply(callback, () => {
        const request = gateway.CommitStatusRequest.deserializeBinary(call.request.getRequest_asU8());
        const transactionId = request.getTransactionId();
        fake.calls.push({ method: 'CommitStatus', transactionId });
        const status = fake.script.commitStatus?.(transactionId) ?? {
          code: peer.TxValidationCode.VALID,
          blockNumber: newestBlock + 1n,
        };
        if (status.blockNumber > newestBlock) newestBlock = status.blockNumber;
        const response = new gateway.CommitStatusResponse();
        response.setResult(status.code as peer.TxValidationCodeMap[keyof peer.TxValidationCodeMap]);
        response.setBlockNumber(Number(status.blockNumber));
        return Promise.resolve(response);
      });
    },
    evaluate: (call, callback) => {
      reply(callback, async () => {
        const signed = call.request.getProposedTransaction();
        if (!signed) throw new Error('no proposed transaction');
        const invocation = decodeSignedProposal(signed, call.request.getTargetOrganizationsList());
        fake.calls.push({ method: 'Evaluate', call: invocation });
        const response = new gateway.EvaluateResponse();
        if (invocation.chaincode === 'qscc' && invocation.name === 'GetChainInfo') {
          const info = new common.BlockchainInfo();
          info.setHeight(Number(fake.script.height?.() ?? newestBlock + 1n));
          response.setResult(chaincodeResponse(info.serializeBinary()));
          return response;
        }
        const answer = await (fake.script.evaluate?.(invocation) ?? { result: '{}' });
        if (isRefusal(answer)) return answer;
        response.setResult(chaincodeResponse(utf8(answer.result)));
        return response;
      });
    },
    chaincodeEvents: (call) => {
      const request = gateway.ChaincodeEventsRequest.deserializeBinary(call.request.getRequest_asU8());
      fake.calls.push({ method: 'ChaincodeEvents' });
      for (const block of fake.script.chaincodeEvents?.() ?? []) {
        const response = new gateway.ChaincodeEventsResponse();
        response.setBlockNumber(Number(block.blockNumber));
        response.setEventsList(
          block.events.map((e) => {
            const event = new peer.ChaincodeEvent();
            event.setChaincodeId(request.getChaincodeId());
            event.setTxId(e.transactionId);
            event.setEventName(e.name);
            event.setPayload(utf8(e.payload));
            return event;
          }),
        );
        call.write(response);
      }
      call.end();
    },
  };
  server.addService(gateway.GatewayService, implementation);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => {
      if (err) reject(err);
      else resolve(p);
    });
  });
  fake.address = `127.0.0.1:${port}`;
  return Object.assign(fake, {
    newClient: () => new grpc.Client(fake.address, grpc.credentials.createInsecure()),
    stop: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => {
          resolve();
        });
      }),
  });
}
