// Row 6's floor: a bare Fastify 5 app in its own process, one POST route that takes an
// application/octet-stream body and answers 10 fixed bytes (a TPM success header), no logger,
// on 127.0.0.1 and a port given as argv[2]. Measured with the same client as the service.
import Fastify from 'fastify';

const rsp = Buffer.from([0x00, 0xc4, 0, 0, 0, 10, 0, 0, 0, 0]);
const app = Fastify({ logger: false });
app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
app.post('/commands', async (_req, reply) => reply.type('application/octet-stream').send(rsp));
await app.listen({ host: '127.0.0.1', port: Number(process.argv[2]) });
process.stdout.write('ready\n');
