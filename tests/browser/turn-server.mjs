// coturn on 127.0.0.1, for the tests and the benchmark that relay media through a real TURN
// server: Debian's `coturn` (installed by tests/install-toolchain.sh), one long-term user,
// relaying on 127.0.0.1 only.
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';

/** A free UDP port on 127.0.0.1 (TURN listens on UDP and TCP of one port). */
export async function freePort() {
  const socket = createSocket('udp4');
  await new Promise((done) => socket.bind(0, '127.0.0.1', done));
  const { port } = socket.address();
  await new Promise((done) => socket.close(done));
  return port;
}

/**
 * coturn on 127.0.0.1:`port` with one user, its files in `dir`; `ready` resolves once it
 * listens, `stop()` kills it as a crash would.
 */
export function startTurn(port, dir, { username, credential }) {
  const args = [
    '-n', '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', `--listening-port=${port}`,
    '--lt-cred-mech', `--user=${username}:${credential}`, '--realm=peercall.test', `--userdb=${join(dir, 'turndb')}`,
    `--pidfile=${join(dir, 'turnserver.pid')}`, '--allow-loopback-peers', '--no-cli', '--no-tls', '--no-dtls',
    '--fingerprint', '--log-file=stdout', '--simple-log',
  ];
  const child = spawn('turnserver', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  const ready = new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`turnserver did not start:\n${output}`)), 10000);
    child.on('error', (error) => { clearTimeout(timer); fail(new Error(`turnserver: ${error.message} (is coturn installed?)`)); });
    const poll = setInterval(() => {
      if (/Total General servers/.test(output)) { clearTimeout(timer); clearInterval(poll); done(); }
    }, 50);
  });
  return {
    ready,
    get running() { return child.exitCode === null && child.signalCode === null; },
    get log() { return output; },
    stop: () => new Promise((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once('exit', done);
      child.kill('SIGKILL');
    }),
  };
}
