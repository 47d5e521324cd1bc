// sdk_client.mjs BASE_URL - drives Sluice's drop-in endpoint with the official
// @anthropic-ai/sdk: non-streaming, streaming (text events and the final
// message), a tool call, Sluice's fallbacks (and the x-sluice-provider header),
// and an error. Prints "ok: ..." lines; exits 1 on the
// first mismatch. Run by test_anthropic_sdk.sh.
import Anthropic from '@anthropic-ai/sdk';

const client = new Anthropic({ baseURL: process.argv[2], apiKey: 'client-key-not-forwarded', maxRetries: 0 });
const fail = (msg) => { console.log('FAIL: ' + msg); process.exit(1); };
const eq = (got, want, what) => { if (got !== want) fail(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`); };

const msg = await client.messages.create({
  model: 'mock/mock-1', max_tokens: 64, system: 'be brief',
  messages: [{ role: 'user', content: 'hello sdk' }],
});
eq(msg.type, 'message', 'type');
eq(msg.role, 'assistant', 'role');
eq(msg.content[0].type, 'text', 'content type');
eq(msg.content[0].text, 'echo: hello sdk', 'text');
eq(msg.stop_reason, 'end_turn', 'stop_reason');
if (!(msg.usage.output_tokens > 0)) fail('usage: ' + JSON.stringify(msg.usage));
console.log('ok: messages.create');

for (const model of ['mock/mock-1', 'anthropic/claude-x']) {
  const stream = client.messages.stream({
    model, max_tokens: 64, messages: [{ role: 'user', content: 'stream this please' }],
  });
  let text = '';
  stream.on('text', (t) => { text += t; });
  const final = await stream.finalMessage();
  eq(text, 'echo: stream this please', `${model} streamed text`);
  eq(final.content[0].text, 'echo: stream this please', `${model} final message`);
  eq(final.stop_reason, 'end_turn', `${model} final stop_reason`);
  console.log(`ok: messages.stream via ${model}`);
}

const tool = await client.messages.create({
  model: 'tooly/m', max_tokens: 64,
  tools: [{ name: 'get_weather', description: 'weather', input_schema: { type: 'object', properties: { text: { type: 'string' } } } }],
  messages: [{ role: 'user', content: 'paris' }],
});
eq(tool.stop_reason, 'tool_use', 'tool stop_reason');
const use = tool.content.find((b) => b.type === 'tool_use');
if (!use) fail('no tool_use block: ' + JSON.stringify(tool));
eq(use.name, 'get_weather', 'tool name');
eq(use.input.text, 'paris', 'tool input');
const toolStream = client.messages.stream({
  model: 'tooly/m', max_tokens: 64,
  tools: [{ name: 'get_weather', input_schema: { type: 'object' } }],
  messages: [{ role: 'user', content: 'rome' }],
});
const tfinal = await toolStream.finalMessage();
const tuse = tfinal.content.find((b) => b.type === 'tool_use');
if (!tuse || tuse.input.text !== 'rome') fail('streamed tool_use: ' + JSON.stringify(tfinal));
console.log('ok: tool_use (create and stream)');

// Sluice's "fallbacks" passes through the SDK as an extra body field.
const { data: fb, response: fbResp } = await client.messages.create({
  model: 'down/m', max_tokens: 16, fallbacks: ['mock/mock-1'],
  messages: [{ role: 'user', content: 'fall back' }],
}).withResponse();
eq(fbResp.headers.get('x-sluice-provider'), 'mock', 'x-sluice-provider after a fallback');
eq(fb.content[0].text, 'echo: fall back', 'fallback text');
eq(fb.extra_fields?.provider, 'mock', 'extra_fields.provider');
const fbStream = client.messages.stream({
  model: 'down/m', max_tokens: 16, fallbacks: ['anthropic/claude-x'],
  messages: [{ role: 'user', content: 'fall back streaming' }],
});
const fbFinal = await fbStream.finalMessage();
eq(fbFinal.content[0].text, 'echo: fall back streaming', 'streamed fallback text');
console.log('ok: fallbacks (create and stream), x-sluice-provider');

try {
  await client.messages.create({ model: 'nope/x', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] });
  fail('no error for an unknown model');
} catch (e) {
  if (!(e instanceof Anthropic.NotFoundError)) fail('expected NotFoundError, got ' + e);
  eq(e.status, 404, 'error status');
  eq(e.error?.error?.type, 'not_found_error', 'error type');
}
console.log('ok: errors surface as Anthropic.NotFoundError');
