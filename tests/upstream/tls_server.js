// tls_server.js CERT KEY [h1] - TLS server for test_upstream.
// Listens on 127.0.0.1 (ephemeral port), prints "PORT <n>" once ready.
// By default speaks only h2 (no HTTP/1.1 fallback), so any successful request
// proves ALPN negotiated h2; with "h1" it is an HTTPS/1.1-only server instead
// (ALPN offers http/1.1 only). Exits when stdin closes (the test ended or died).
//   /stall     200, "x", then nothing (the response never ends)
//   /json...   200 {"path":...}
//   /big       1 MiB, byte i = (i*7 + floor(i/251)) & 255 (as test_server.h)
//   /sessions  200 <number of TLS sessions (connections) accepted so far>
'use strict';
const http2 = require('http2');
const https = require('https');
const fs = require('fs');

const [cert, key, mode] = process.argv.slice(2);
const tls = { cert: fs.readFileSync(cert), key: fs.readFileSync(key) };
let sessions = 0;

function h1(req, res) {
  if (req.url.startsWith('/json')) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ path: req.url }));
  } else if (req.url === '/stall') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('x');
  } else {
    res.writeHead(404);
    res.end('no');
  }
}

const server = mode === 'h1' ? https.createServer(tls, h1) : http2.createSecureServer(tls);
server.on('secureConnection', () => { sessions++; });
server.on('stream', (stream, headers) => {
  const path = headers[':path'];
  if (path === '/stall') {
    stream.respond({ ':status': 200 });
    stream.write('x');
  } else if (path.startsWith('/json')) {
    stream.respond({ ':status': 200, 'content-type': 'application/json' });
    stream.end(JSON.stringify({ path }));
  } else if (path === '/big') {
    const n = 1024 * 1024;
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = (i * 7 + Math.floor(i / 251)) & 255;
    stream.respond({ ':status': 200, 'content-length': String(n) });
    stream.end(b);
  } else if (path === '/sessions') {
    stream.respond({ ':status': 200 });
    stream.end(String(sessions));
  } else {
    stream.respond({ ':status': 404 });
    stream.end('no');
  }
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`PORT ${server.address().port}\n`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
