// tls_proxy.js CERT KEY PORT [keep] - terminates TLS (HTTP/1.1 by ALPN) on an
// ephemeral 127.0.0.1 port and relays each connection's bytes to the plain
// server on 127.0.0.1:PORT (sluice-mockllm), so that the real mock answers
// over HTTPS. Prints "PORT <n>" once ready. Exits when stdin closes, unless
// "keep" is given (scripts that kill it themselves).
'use strict';
const fs = require('fs');
const net = require('net');
const tls = require('tls');

const [cert, key, target, keep] = process.argv.slice(2);
const opts = { cert: fs.readFileSync(cert), key: fs.readFileSync(key), ALPNProtocols: ['http/1.1'] };
const server = tls.createServer(opts, (client) => {
  const up = net.connect(Number(target), '127.0.0.1');
  const end = () => { client.destroy(); up.destroy(); };
  client.on('error', end);
  up.on('error', end);
  client.pipe(up);
  up.pipe(client);
});
server.on('tlsClientError', () => {}); // an untrusting client hangs up: expected
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`PORT ${server.address().port}\n`);
});
if (keep !== 'keep') {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}
