// Row 1's ceiling: the least a Node.js HTTP service can do with a `curl -T FILE` upload — node:http
// (no framework), drain the body and SHA-1 it with node:crypto as it arrives, answer the hex digest.
// Own process, 127.0.0.1, the port given as argv[2]; prints a line when listening.
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';

const server = createServer((req, res) => {
  const h = createHash('sha1');
  req.on('data', (chunk) => h.update(chunk));
  req.on('end', () => res.end(JSON.stringify({ sha1: h.digest('hex') })));
});
server.listen(Number(process.argv[2]), '127.0.0.1', () => process.stdout.write('ready\n'));
