import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { BrowserContext } from 'playwright-core';
import type { DsiTree } from '@threadseal/ledger-model';
import { tlsCaller } from '../auth/tls-caller';
import { createApp, type GatewayApp } from '../http/app';
import { listenMutualTls } from '../server';
import { FakeLedger } from '../testing/fake-ledger';
import { hasOpenssl, OpensslCa } from '../testing/openssl-pki';

const CHROMIUM = '/usr/bin/chromium';
const DSI = 'a'.repeat(64);
const AT = '2026-06-01T10:00:00.000Z';

function licence(
  licenseId: string,
  parentId: string | null,
  holderMsp: string,
  quantity: number,
  allocated: number,
  sublicensed: number,
) {
  return {
    license: {
      licenseId,
      dsiId: DSI,
      parentId,
      ancestry: parentId ? [parentId] : [],
      grantorMsp: parentId ? 'ManufacturerMSP' : 'OemMSP',
      holderMsp,
      grant: {
        quantity,
        mode: 'manufacturing',
        validFrom: AT,
        validUntil: AT,
        maySublicense: true,
        scrapAllowance: 0,
      },
      terms: null,
      termsHash: 'b'.repeat(64),
      confidential: null,
      issuedAt: AT,
      issuedTxId: `tx-${licenseId}`,
    },
    balance: { licenseId, sublicensed, allocated, scrapAllowanceAllocated: 0 },
    revocation: { licenseId, revoked: false, revokedAt: null, revokedBy: null, reason: null },
    remaining: quantity - allocated - sublicensed,
  };
}

/** The tree of a DSI: OEM 20 → manufacturer floor 12 (3 machines × 4) + subcontractor 8; `consumed` on M1. */
function tree(consumed: number): DsiTree {
  const allocation = (licenseId: string, machineId: string, holderMsp: string, used: number) => ({
    licenseId,
    machineId,
    dsiId: DSI,
    holderMsp,
    quantity: 4,
    consumed: used,
    scrapCredited: 0,
    scrapAllowance: 0,
  });
  return {
    dsi: {
      dsiId: DSI,
      ownerMsp: 'OemMSP',
      partNumber: 'BRKT-7731',
      revision: 'C',
      title: 'Wing bracket',
      fileDigests: [],
      ownerCertFingerprint: 'c'.repeat(64),
      status: 'active',
      supersedes: null,
      supersededBy: null,
      revokedReason: null,
      registeredAt: AT,
      updatedAt: AT,
    },
    licenses: [
      licence('L-ROOT', null, 'ManufacturerMSP', 20, 0, 20),
      licence('L-FLOOR', 'L-ROOT', 'ManufacturerMSP', 12, 12, 0),
      licence('L-SUB', 'L-ROOT', 'SubcontractorMSP', 8, 8, 0),
    ],
    allocations: [
      allocation('L-FLOOR', 'M1', 'ManufacturerMSP', consumed),
      allocation('L-FLOOR', 'M2', 'ManufacturerMSP', 4),
      allocation('L-FLOOR', 'M3', 'ManufacturerMSP', 0),
      allocation('L-SUB', 'S1', 'SubcontractorMSP', 2),
      allocation('L-SUB', 'S2', 'SubcontractorMSP', 0),
    ],
    machines: [],
    builds: [],
    parts: [],
  } as unknown as DsiTree;
}

describe('the dashboard in headless Chromium (fake ledger)', function () {
  this.timeout(120_000);
  const cleanups: (() => void | Promise<void>)[] = [];
  let ledger: FakeLedger;
  let gateway: GatewayApp;
  let url: string;
  let context: BrowserContext;
  let shots: string;

  before(async function () {
    if (!existsSync(CHROMIUM) || !hasOpenssl()) {
      console.log(`    skipped: needs ${CHROMIUM} (apt-get install chromium) and the openssl command line`);
      this.skip();
    }
    const ca = new OpensslCa('oem-ca');
    cleanups.push(() => {
      ca.dispose();
    });
    const viewer = ca.client('viewer', { role: 'engineer' });
    const serverTls = ca.server();
    ledger = new FakeLedger();
    ledger.reads.set('trace:GetDsiTree', tree(1));
    const org = { name: 'oem', mspId: 'OemMSP', caCertificatePem: ca.certPem };
    gateway = createApp({ org, ledger, authenticate: tlsCaller(org), log: () => undefined });
    cleanups.push(() => {
      gateway.close();
    });
    const server: Server = await listenMutualTls(gateway, {
      cert: serverTls.certPem,
      key: serverTls.keyPem,
      clientCa: ca.certPem,
      host: '127.0.0.1',
      port: 0,
    });
    cleanups.push(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const profile = mkdtempSync(join(tmpdir(), 'threadseal-chromium-'));
    shots = mkdtempSync(join(tmpdir(), 'threadseal-dashboard-'));
    cleanups.push(() => {
      rmSync(profile, { recursive: true, force: true });
    });
    const { chromium } = await import('playwright-core');
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      // The browser presents the viewer's certificate to the gateway, as a user's browser would.
      clientCertificates: [
        { origin: url, cert: Buffer.from(viewer.certPem), key: Buffer.from(viewer.keyPem) },
      ],
      ignoreHTTPSErrors: true,
      viewport: { width: 1280, height: 900 },
    });
    cleanups.push(() => context.close());
  });

  after(async function () {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('draws the licence tree with granted / allocated / consumed / remaining per licence and machine, and a screenshot shows it', async function () {
    const page = await context.newPage();
    await page.goto(`${url}/dashboard?dsiId=${DSI}`);
    await page.waitForSelector('svg#tree g.node[data-kind="machine"]');
    // Runs in the page: typed structurally, this workspace compiles without the DOM library.
    const nodes = await page.$$eval(
      'svg#tree g.node',
      (gs: { getAttribute(name: string): string | null }[]) =>
        gs.map((g) => ({
          kind: g.getAttribute('data-kind'),
          id: g.getAttribute('data-id'),
          granted: g.getAttribute('data-granted'),
          allocated: g.getAttribute('data-allocated'),
          consumed: g.getAttribute('data-consumed'),
          remaining: g.getAttribute('data-remaining'),
        })),
    );
    const byId = new Map(nodes.map((n) => [n.id, n]));
    expect(nodes.filter((n) => n.kind === 'license')).to.have.length(3);
    expect(nodes.filter((n) => n.kind === 'machine')).to.have.length(5);
    expect(byId.get('L-ROOT')).to.include({ granted: '20', allocated: '0', consumed: '7', remaining: '0' });
    expect(byId.get('L-FLOOR')).to.include({ granted: '12', allocated: '12', consumed: '5', remaining: '0' });
    expect(byId.get('L-SUB')).to.include({ granted: '8', allocated: '8', consumed: '2', remaining: '0' });
    expect(byId.get('M1')).to.include({ allocated: '4', consumed: '1', remaining: '3' });
    expect(await page.textContent('svg#tree')).to.include('granted 12 · allocated 12');
    const file = join(shots, 'dashboard-tree.png');
    await page.locator('svg#tree').screenshot({ path: file });
    const png = readFileSync(file);
    expect(png.subarray(1, 4).toString('latin1')).to.equal('PNG');
    expect(statSync(file).size).to.be.greaterThan(10_000);
    console.log(`    screenshot of the tree: ${file} (${statSync(file).size} bytes)`);
    await page.close();
  });

  it('redraws when a build of the DSI completes (server-sent event)', async function () {
    const page = await context.newPage();
    await page.goto(`${url}/dashboard?dsiId=${DSI}`);
    await page.waitForSelector('#live[data-connected="true"]');
    await page.waitForSelector('svg#tree g.node[data-id="M1"][data-consumed="1"]');
    ledger.reads.set('trace:GetDsiTree', tree(2));
    ledger.emit({
      name: 'BuildCompleted',
      payload: { buildId: 'b2', dsiId: DSI, licenseId: 'L-FLOOR', machineId: 'M1', partId: 'SN-2' },
    } as never);
    await page.waitForSelector('svg#tree g.node[data-id="M1"][data-consumed="2"][data-remaining="2"]');
    expect(await page.getAttribute('#live', 'data-updates')).to.equal('1');
    await page.close();
  });

  it('looks up a part: genuine, and where it comes from', async function () {
    ledger.reads.set('trace:GetPart', {
      partId: 'SN-1',
      buildId: 'b1',
      dsiId: DSI,
      licenseId: 'L-FLOOR',
      machineId: 'M1',
      producerMsp: 'ManufacturerMSP',
      processRecordDigest: 'd'.repeat(64),
      producedAt: AT,
    });
    ledger.reads.set('build:Get', { buildId: 'b1', status: 'completed', partId: 'SN-1', dsiId: DSI });
    ledger.reads.set('dsi:Get', tree(1).dsi);
    const page = await context.newPage();
    await page.goto(`${url}/dashboard`);
    await page.fill('#part-id', 'SN-1');
    await page.click('#part-form button');
    await page.waitForSelector('#part-result .genuine');
    expect(await page.textContent('#part-result')).to.match(
      /Genuine: SN-1.*made by ManufacturerMSP on M1 under licence L-FLOOR from DSI BRKT-7731 rev C/,
    );
    await page.close();
  });
});
