// A tiny OpenAI-compatible upstream that streams tricky but valid SSE, for
// test_sse_relay.sh: events split across writes, CRLF line endings, comments,
// an event spread over several data: lines, an empty object, a chunk that
// already has extra_fields. Usage: node sse_upstream.mjs PORT
import http from 'node:http';

const chunk = (text) => JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: 'm',
  choices: [{ index: 0, delta: { content: text }, finish_reason: null }] });

http.createServer((req, res) => {
  req.resume();
  req.on('end', async () => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const pieces = [
      ': a comment line\n\n',
      'data: ' + chunk('one'),
      '\n\n',
      'data: ' + chunk(' two') + '\r\n\r\n',
      // one JSON object spread over three data: lines
      'data: {"id":"c1","object":"chat.completion.chunk",\ndata:  "choices":[{"index":0,"delta":{"content":" three"}}]\ndata: }\n\n',
      'event: message\ndata: {}\n\n',
      'data: {"id":"c1","choices":[{"index":0,"delta":{"content":" four"}}],"extra_fields":{"provider":"origin"}}\n\n',
      'data: [DONE]\n\n',
    ];
    for (const p of pieces) {
      // split every piece in two writes to exercise the incremental parser
      const mid = Math.floor(p.length / 2);
      res.write(p.slice(0, mid));
      await new Promise((r) => setTimeout(r, 5));
      res.write(p.slice(mid));
    }
    res.end();
  });
}).listen(Number(process.argv[2]), '127.0.0.1', () => console.log('listening'));
