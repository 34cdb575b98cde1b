import { join } from 'node:path';
import { identityFiles } from './identities';
import { runCommandAsync } from './processes';
import { identityDir, orgOf, type NetworkPlan, type PeerNode } from './plan';
import { ThreadsealError } from '@threadseal/ledger-model';

/** Environment for the `peer` CLI acting as an org identity (the org admin by default) against one peer. */
export function peerCliEnv(plan: NetworkPlan, peer: PeerNode, identity = 'admin'): Record<string, string> {
  const org = orgOf(plan, peer);
  return {
    // The peer CLI reads core.yaml even as a client; the peer's own generated one is the right one.
    FABRIC_CFG_PATH: peer.dir,
    CORE_PEER_LOCALMSPID: org.mspId,
    CORE_PEER_MSPCONFIGPATH: identityFiles(identityDir(org, identity)).mspDir,
    CORE_PEER_ADDRESS: `${peer.host}:${peer.port}`,
    CORE_PEER_TLS_ENABLED: 'true',
    CORE_PEER_TLS_ROOTCERT_FILE: org.tlsCaCert,
    FABRIC_LOGGING_SPEC: 'WARNING',
  };
}

/** Flags that point the `peer` CLI at the first orderer over TLS. */
export function ordererFlags(plan: NetworkPlan): string[] {
  const o = plan.orderers[0];
  if (!o) throw new ThreadsealError('INTERNAL', 'the description has no orderer');
  return ['-o', `${o.host}:${o.port}`, '--tls', '--cafile', plan.ordererOrg.tlsCaCert];
}

/** Runs the `peer` CLI as the org admin of `peer`. */
export function peerCli(
  plan: NetworkPlan,
  peer: PeerNode,
  args: readonly string[],
  what: string,
): Promise<string> {
  return runCommandAsync(join(plan.binDir, 'peer'), args, {
    env: peerCliEnv(plan, peer),
    what: `${what} (${peer.id})`,
  });
}
