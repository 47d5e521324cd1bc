// End-to-end: the official `openai` npm client against the Sluice gateway.
// Env: SLUICE_URL (gateway base URL), SLUICE_UPSTREAM_MODEL (a model served
// by an OpenAI-compatible provider pointed at sluice-mockllm).
import OpenAI from 'openai';
import assert from 'node:assert/strict';

const client = new OpenAI({ baseURL: `${process.env.SLUICE_URL}/v1`, apiKey: 'sk-client-unused', maxRetries: 0 });
const messages = [{ role: 'user', content: 'hello from node' }];

async function nonStream(model) {
  const r = await client.chat.completions.create({ model, messages });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices[0].message.content, 'echo: hello from node');
  assert.equal(r.choices[0].finish_reason, 'stop');
  return r;
}

async function stream(model) {
  const s = await client.chat.completions.create({ model, messages, stream: true });
  let text = '';
  let chunks = 0;
  for await (const ch of s) {
    chunks++;
    text += ch.choices[0]?.delta?.content ?? '';
  }
  assert.equal(text, 'echo: hello from node');
  assert.ok(chunks >= 2, `expected several chunks, got ${chunks}`);
}

for (const model of ['mock/mock-1', process.env.SLUICE_UPSTREAM_MODEL].filter(Boolean)) {
  const r = await nonStream(model);
  console.log(`ok: non-streaming ${model} (provider ${r.extra_fields?.provider})`);
  await stream(model);
  console.log(`ok: streaming ${model}`);
}

await assert.rejects(
  client.chat.completions.create({ model: 'nope/none', messages }),
  (e) => e instanceof OpenAI.NotFoundError && e.status === 404 && e.code === 'model_not_found' &&
         e.type === 'invalid_request_error',
);
await assert.rejects(
  client.chat.completions.create({ model: 'mock/mock-1', messages: [] }),
  (e) => e instanceof OpenAI.BadRequestError && /at least one message/.test(e.message),
);
console.log('ok: errors surface as openai.APIError subclasses');
