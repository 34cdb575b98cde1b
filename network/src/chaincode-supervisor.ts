/**
 * Supervises one chaincode-as-a-service process: `node chaincode-supervisor.js <command> [args…]`.
 * Restarts the chaincode server when it exits on its own (back-off 0.5 s → 8 s, at most 10 restarts
 * in 5 minutes, then gives up so a crash loop shows in `network status`); SIGTERM/SIGINT stop the child
 * and then the supervisor.
 */
import { spawn, type ChildProcess } from 'node:child_process';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  process.stderr.write('usage: chaincode-supervisor <command> [args…]\n');
  process.exit(2);
}

let child: ChildProcess | undefined;
let stopping = false;
const restarts: number[] = [];
let backoffMs = 500;

function log(line: string): void {
  process.stdout.write(`[supervisor ${new Date().toISOString()}] ${line}\n`);
}

function start(cmd: string): void {
  const startedAt = Date.now();
  child = spawn(cmd, args, { stdio: 'inherit', env: process.env });
  log(`started chaincode server pid ${child.pid ?? '?'}`);
  child.on('exit', (code, sig) => {
    child = undefined;
    if (stopping) process.exit(0);
    log(`chaincode server exited (code ${code ?? 'none'}, signal ${sig ?? 'none'})`);
    const now = Date.now();
    while (restarts.length > 0 && (restarts[0] ?? 0) < now - 300_000) restarts.shift();
    if (restarts.length >= 10) {
      log('giving up: 10 restarts within 5 minutes');
      process.exit(1);
    }
    if (now - startedAt > 60_000) backoffMs = 500;
    restarts.push(now);
    setTimeout(() => {
      start(cmd);
    }, backoffMs);
    backoffMs = Math.min(backoffMs * 2, 8000);
  });
}

function stop(): void {
  stopping = true;
  if (!child) process.exit(0);
  child.kill('SIGTERM');
  setTimeout(() => child?.kill('SIGKILL'), 5000).unref();
}

process.on('SIGTERM', stop);
process.on('SIGINT', stop);
start(command);
