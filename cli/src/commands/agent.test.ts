import { expect } from 'chai';
import { CliError } from '../command';
import { agentCommands, parseAgentConfig } from './agent';

const VALID = {
  profile: 'connection.json',
  org: 'manufacturer',
  operator: 'operator',
  machineId: 'haas-1',
  dialect: 'rs274ngc',
  keys: { software: { signingKey: 'machine.key.pem', decryptionKey: 'machine-recipient.key.pem' } },
  controller: { kind: 'linuxcnc', make: 'Haas', model: 'VF-2SS', serial: 'S1', certifications: ['AS9100D'] },
  trustedRoots: ['oem-ca.pem'],
  journal: 'agent.journal',
};

function refusal(action: () => unknown): CliError {
  try {
    action();
  } catch (err) {
    expect(err).to.be.instanceOf(CliError);
    return err as CliError;
  }
  throw new Error('expected a refusal');
}

describe('threadseal agent run: configuration', () => {
  it('accepts a complete configuration, software or PKCS#11 keys', () => {
    expect(parseAgentConfig(VALID)).to.deep.include({ machineId: 'haas-1', dialect: 'rs274ngc' });
    const pkcs11 = {
      ...VALID,
      keys: {
        pkcs11: { library: '/usr/lib/x.so', token: 't', pinEnv: 'PIN', signingKey: 's', decryptionKey: 'd' },
      },
    };
    expect(parseAgentConfig(pkcs11).keys).to.deep.equal(pkcs11.keys);
  });

  it('names every missing or malformed setting at once, with exit code 2', () => {
    const err = refusal(() =>
      parseAgentConfig({ org: 'manufacturer', dialect: 'heidenhain', controller: { kind: 'fanuc' } }),
    );
    expect(err.exitCode).to.equal(2);
    for (const expected of [
      'profile is missing',
      'operator is missing',
      'machineId is missing',
      'dialect is missing',
      'trustedRoots is missing',
      'journal is missing',
      'keys is missing',
      'controller.kind must be "linuxcnc"',
      'controller.make is missing',
      'controller.serial is missing',
    ])
      expect(err.message).to.include(expected);
    expect(refusal(() => parseAgentConfig([])).message).to.include('must be a JSON object');
    const noPin = refusal(() =>
      parseAgentConfig({
        ...VALID,
        keys: { pkcs11: { library: 'x', token: 't', signingKey: 's', decryptionKey: 'd' } },
      }),
    );
    expect(noPin.message).to.include('keys.pkcs11.pinEnv is missing');
  });

  it('takes a Marlin printer on a serial device (dialect fff), and names what is wrong with one', () => {
    const printer = {
      ...VALID,
      dialect: 'fff',
      controller: { kind: 'marlin', device: '/dev/ttyUSB0', baudRate: 115200 },
    };
    expect(parseAgentConfig(printer).controller).to.deep.equal({
      kind: 'marlin',
      device: '/dev/ttyUSB0',
      baudRate: 115200,
    });
    expect(
      parseAgentConfig({ ...printer, controller: { kind: 'marlin', device: '/dev/pts/3' } }).controller,
    ).to.deep.equal({
      kind: 'marlin',
      device: '/dev/pts/3',
    });
    const err = refusal(() => parseAgentConfig({ ...VALID, controller: { kind: 'marlin', baudRate: 1234 } }));
    expect(err.exitCode).to.equal(2);
    expect(err.message).to.equal(
      'invalid agent configuration: controller.baudRate must be one of 9600, 19200, 38400, 57600, 115200, 230400, 250000 when given; dialect must be "fff" for a Marlin printer (controller.kind "marlin"); controller.device is missing (a non-empty string)',
    );
  });

  it('serve needs the queue folder as well, named with the rest', () => {
    const err = refusal(() => parseAgentConfig({ ...VALID, journal: undefined }, 'serve'));
    expect(err.exitCode).to.equal(2);
    expect(err.message).to.equal(
      'invalid agent configuration: journal is missing (a non-empty string); queue is missing (a non-empty string)',
    );
    expect(parseAgentConfig({ ...VALID, queue: 'jobs' }, 'serve').queue).to.equal('jobs');
  });

  it('agent serve and agent keys refuse to start without --config (exit 2)', async () => {
    const [, serve, keys] = agentCommands;
    for (const [command, args, message] of [
      [serve, [], 'missing --config'],
      [keys, [], 'missing --config'],
    ] as const) {
      let caught: unknown;
      try {
        await command?.run(args);
      } catch (err) {
        caught = err;
      }
      expect((caught as CliError).message).to.equal(message);
      expect((caught as CliError).exitCode).to.equal(2);
    }
  });

  it('refuses to run without the job flags, naming them', async () => {
    const [run] = agentCommands;
    let caught: unknown;
    try {
      await run?.run(['--config', 'agent.json']);
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(CliError);
    expect((caught as CliError).message).to.equal('missing --dsi, --license, --program, --part');
    expect((caught as CliError).exitCode).to.equal(2);
  });
});
