// Helpers for test_mockllm.sh (node, no packages). Usage:
//   node sse.js json FILE EXPR      prints EXPR evaluated with `d` = parsed FILE
//   node sse.js isjson FILE         exit 0 if FILE is valid JSON, 1 if not
//   node sse.js openai FILE         checks an OpenAI event stream, prints the text
//                                   (a tool call: "NAME|ARGUMENTS")
//   node sse.js anthropic FILE      checks an Anthropic event stream, prints the text
//                                   (a tool_use block: "NAME|INPUT JSON")
//   node sse.js badsse FILE         exit 0 if some data: line is not JSON (nor [DONE])
// A failed check prints why on stderr and exits 1.
'use strict';
const fs = require('fs');
const [, , mode, file, expr] = process.argv;
const text = fs.readFileSync(file, 'utf8');

function die(msg) {
  process.stderr.write(`sse.js ${mode}: ${msg}\n`);
  process.exit(1);
}

// Splits an SSE body into events [{event, data}].
function events(body) {
  const out = [];
  for (const block of body.split('\n\n')) {
    if (!block.trim()) continue;
    const ev = { event: null, data: [] };
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) ev.event = line.slice(7);
      else if (line.startsWith('data: ')) ev.data.push(line.slice(6));
    }
    ev.data = ev.data.join('\n');
    out.push(ev);
  }
  return out;
}

if (mode === 'json') {
  const d = JSON.parse(text);
  const v = eval(expr);
  console.log(typeof v === 'object' ? JSON.stringify(v) : String(v));
} else if (mode === 'isjson') {
  try { JSON.parse(text); } catch (e) { process.exit(1); }
} else if (mode === 'openai') {
  const evs = events(text);
  if (!evs.length) die('no events');
  if (evs[evs.length - 1].data !== '[DONE]') die('last event is not [DONE]');
  let content = '', usage = null, finish = null, tool = null;
  evs.slice(0, -1).forEach((ev, i) => {
    const c = JSON.parse(ev.data);
    if (c.object !== 'chat.completion.chunk') die(`chunk ${i}: object ${c.object}`);
    if (c.usage) usage = c.usage;
    for (const ch of c.choices) {
      if (i === 0 && ch.delta.role !== 'assistant') die('first chunk lacks role assistant');
      if (ch.delta.content) content += ch.delta.content;
      for (const tc of ch.delta.tool_calls || []) {
        if (tc.index !== 0) die('tool call index');
        if (tc.function.name) tool = tc.function.name;
        content += tc.function.arguments;
      }
      if (ch.finish_reason) finish = ch.finish_reason;
    }
  });
  if (finish !== (tool ? 'tool_calls' : 'stop')) die(`finish_reason ${finish}`);
  if (process.env.WANT_USAGE && !usage) die('no usage chunk');
  if (!process.env.WANT_USAGE && usage) die('usage chunk not asked for');
  if (usage) console.error(`usage ${JSON.stringify(usage)}`);
  process.stdout.write(tool ? `${tool}|${content}` : content);
} else if (mode === 'anthropic') {
  const evs = events(text);
  const names = evs.map(e => e.event);
  let content = '', tool = null;
  evs.forEach(ev => {
    const d = JSON.parse(ev.data);
    if (d.type !== ev.event) die(`event ${ev.event} carries type ${d.type}`);
    if (ev.event === 'content_block_start' && d.content_block.type === 'tool_use')
      tool = d.content_block.name;
    if (ev.event === 'content_block_delta') {
      if (d.delta.type !== (tool ? 'input_json_delta' : 'text_delta')) die('delta type');
      content += tool ? d.delta.partial_json : d.delta.text;
    }
    if (ev.event === 'message_delta' &&
        (d.delta.stop_reason !== (tool ? 'tool_use' : 'end_turn') || !d.usage.output_tokens))
      die('message_delta lacks stop_reason/usage');
  });
  const order = names.filter((n, i) => n !== 'content_block_delta' || names[i - 1] !== 'content_block_delta');
  const want = ['message_start', 'content_block_start', 'ping', 'content_block_delta',
                'content_block_stop', 'message_delta', 'message_stop'];
  if (JSON.stringify(order) !== JSON.stringify(want)) die(`event order ${order.join(',')}`);
  process.stdout.write(tool ? `${tool}|${content}` : content);
} else if (mode === 'badsse') {
  const bad = events(text).some(ev => {
    if (ev.data === '[DONE]') return false;
    try { JSON.parse(ev.data); return false; } catch (e) { return true; }
  });
  process.exit(bad ? 0 : 1);
} else {
  die('unknown mode');
}
