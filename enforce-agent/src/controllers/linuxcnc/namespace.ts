/**
 * How a LinuxCNC instance is boxed (docs/controllers.md): `unshare` gives it its own mount, IPC, network
 * and PID namespaces; this script is PID 1 there. It brings up loopback only (no other interface exists in a
 * new network namespace, so nothing LinuxCNC opens is reachable from the host), mounts private tmpfs over
 * /tmp, /dev/shm and /var/tmp (so the world-writable places are memory), copies the generated configuration
 * in from the host staging dir (reached through the cwd, which the /tmp mount hides afterwards), binds the
 * host's socket dir at /tmp/ts/run, and runs LinuxCNC as the unprivileged controller user. When LinuxCNC
 * exits this script exits, and the kernel kills whatever is left in the PID namespace.
 *
 * Arguments: $1 the host dir (holding stage/ and run/), $2 the controller user.
 */
export const NAMESPACE_INIT = `set -eu
host="$1"; user="$2"
ip link set lo up
cd "$host/stage"
mount -t tmpfs -o size=64m,mode=1777,nosuid,nodev tmpfs /tmp
mkdir -m 0700 /tmp/ts /tmp/ts/config /tmp/ts/home /tmp/ts/run /tmp/ts/jobs
mount --bind "$host/run" /tmp/ts/run
mount -t tmpfs -o size=16m,mode=1777,nosuid,nodev tmpfs /dev/shm
mount -t tmpfs -o size=16m,mode=1777,nosuid,nodev tmpfs /var/tmp
cp -a . /tmp/ts/config/
cd /tmp/ts/config
chown -R "$user:" /tmp/ts
chmod 0500 threadseal_linuxcnc_bridge.py
echo "THREADSEAL-NAMESPACE-READY"
setpriv --reuid="$user" --regid="$user" --init-groups -- env HOME=/tmp/ts/home TMPDIR=/tmp/ts linuxcnc -r /tmp/ts/config/threadseal.ini
`;

/**
 * The command line that starts {@link NAMESPACE_INIT}. Both \`setpriv --pdeathsig KILL\` matter: the outer
 * one kills \`unshare\` when the agent dies, the inner one kills PID 1 of the namespace when \`unshare\`
 * dies, which takes every process of the namespace with it; so a killed agent leaves no LinuxCNC behind.
 */
export function namespaceCommand(hostDir: string, user: string): readonly [string, ...string[]] {
  return [
    'setpriv',
    '--pdeathsig',
    'KILL',
    '--',
    'unshare',
    '--mount',
    '--ipc',
    '--net',
    '--pid',
    '--fork',
    '--mount-proc',
    '--propagation',
    'private',
    '--',
    'setpriv',
    '--pdeathsig',
    'KILL',
    '--',
    '/bin/sh',
    '-c',
    NAMESPACE_INIT,
    'threadseal-linuxcnc-init',
    hostDir,
    user,
  ];
}
