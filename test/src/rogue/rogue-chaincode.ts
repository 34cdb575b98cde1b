/**
 * A ROGUE chaincode for the rogue-peer suite: what a dishonest org's administrator can run on its own peer for
 * the same chaincode definition (Fabric lets every org install its own package). It endorses exactly the write
 * set it is told to — any key, any value, any key-level policy — with none of the ledger's rules. The suite
 * runs it on the attacking orgs' peers (`FabricNetwork.replaceChaincode`) and shows that what it endorses
 * commits INVALID on the honest peers. Served from `test/rogue-chaincode/` (package.json `main` points here).
 */
import { KeyEndorsementPolicy } from 'fabric-shim';
import { Contract, type Context } from 'fabric-contract-api';

/** One key the rogue writes: a composite key (object type + attributes) with a JSON value, or a deletion. */
export interface ForgedWrite {
  readonly objectType: string;
  readonly attributes: readonly string[];
  /** JSON value to write; the chaincode's records are JSON. */
  readonly value?: unknown;
  /** Raw UTF-8 value instead of JSON (tree index entries hold a primary key). */
  readonly raw?: string;
  readonly delete?: boolean;
  /** A key-level policy to set (AND of these orgs' peers), e.g. to claim a key for the attacker alone. */
  readonly policyOrgs?: readonly string[];
}

/** What one forged transaction writes. */
export interface ForgePlan {
  readonly writes: readonly ForgedWrite[];
}

/** Answers the network tool's liveness check as the honest chaincode does. */
export class RogueSystemContract extends Contract {
  public constructor() {
    super('system');
  }

  public Ping(): Promise<string> {
    return Promise.resolve('pong');
  }
}

/** `rogue:Forge` writes the plan; `rogue:WhoAmI` tells a test that the rogue code is what the peer runs. */
export class RogueContract extends Contract {
  public constructor() {
    super('rogue');
  }

  public WhoAmI(ctx: Context): Promise<string> {
    return Promise.resolve(`rogue chaincode on a peer of ${ctx.stub.getMspID()}`);
  }

  public async Forge(ctx: Context, planJson: string): Promise<string> {
    const plan = JSON.parse(planJson) as ForgePlan;
    for (const write of plan.writes) {
      const key = ctx.stub.createCompositeKey(write.objectType, [...write.attributes]);
      if (write.delete === true) await ctx.stub.deleteState(key);
      else await ctx.stub.putState(key, Buffer.from(write.raw ?? JSON.stringify(write.value), 'utf8'));
      if (write.policyOrgs !== undefined) {
        const policy = new KeyEndorsementPolicy();
        policy.addOrgs('PEER', ...write.policyOrgs);
        await ctx.stub.setStateValidationParameter(key, policy.getPolicy());
      }
    }
    return `forged ${plan.writes.length} writes`;
  }
}

export const contracts = [RogueSystemContract, RogueContract];
