// A static file server on 127.0.0.1 for the browser tests: the built package under /pkg/ and the
// test pages under /tests/. Nothing else of the repository is served.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';

const ROOT = resolve(new URL('../..', import.meta.url).pathname);
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.wasm': 'application/wasm', '.json': 'application/json', '.css': 'text/css', '.ts': 'text/plain',
};
const ALLOWED = ['/pkg/', '/tests/browser/pages/', '/tests/fixtures/', '/tests/node_modules/socket.io/client-dist/'];

/** Serves the `allowed` path prefixes of the repository on 127.0.0.1 (`port` 0: any free one). */
export async function startServer(port = 0, { allowed = ALLOWED } = {}) {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
    if (!allowed.some((prefix) => path.startsWith(prefix))) {
      res.writeHead(404).end('not found');
      return;
    }
    try {
      const body = await readFile(join(ROOT, path));
      res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise((done) => server.listen(port, '127.0.0.1', done));
  const { port: actual } = server.address();
  return {
    url: `http://127.0.0.1:${actual}`,
    server,
    close: () => new Promise((done) => { server.closeAllConnections?.(); server.close(done); }),
  };
}
