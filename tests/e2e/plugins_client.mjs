// End-to-end: the official `openai` npm client against the gateway running
// the example plugins of every language in one chain (config order):
//   native-example (C .so), rust-hello (Rust), c-guard (freestanding C, SDK),
//   c-policy (C on wasi-libc, SDK), as-hello (AssemblyScript)
// in front of sluice-mockllm. Every hook's effect is checked where a client
// (or the upstream, through /mock/last) can see it.
// Env: SLUICE_URL (gateway), MOCK_URL (sluice-mockllm).
import OpenAI from 'openai';
import assert from 'node:assert/strict';

const base = { baseURL: `${process.env.SLUICE_URL}/v1`, apiKey: 'sk-unused', maxRetries: 0 };
const client = new OpenAI({ ...base, defaultHeaders: { 'x-team': 'red' } });
const anonymous = new OpenAI(base);
const ask = (text) => [{ role: 'user', content: text }];
const upstream = async () => (await fetch(`${process.env.MOCK_URL}/mock/last`)).json();
const contextOf = (response) => JSON.parse(response.headers.get('x-sluice-context'));
// The error a request fails with (the test fails if it succeeds).
async function failure(promise) {
  try { await promise; } catch (e) { return e; }
  assert.fail('expected the request to fail');
}

// 1. A plain request through all the hooks.
{
  const { data, response } = await client.chat.completions
    .create({ model: 'up/gpt-x', messages: ask('hello from node') }).withResponse();
  assert.equal(data.choices[0].message.content, 'echo: hello from node');
  const up = await upstream();
  assert.equal(up.headers['x-plugin-trail'], 'native-example,rust-hello,c-guard', 'http_pre_hook order');
  assert.equal(up.headers['x-native-plugin'], 'bonjour');
  assert.equal(up.headers['x-rust-plugin'], 'salut');
  assert.equal(up.headers['x-team-verified'], 'red');
  assert.equal(up.headers['x-team'], undefined, 'c-guard removed the header it checked');
  console.log('ok: http_pre_hooks ran in config order; headers added and removed reach the upstream');

  assert.deepEqual(data.sluice_policy, { mark: 'checked', team: 'red' });
  assert.deepEqual(data.rust_mark, { greeting: 'salut', saw_policy_mark: true });
  console.log('ok: post_hooks marked the response, in reverse order (c-policy before rust-hello)');

  assert.equal(response.headers.get('x-post-trail'), 'c-guard,rust-hello,native-example', 'http_post_hook order');
  assert.equal(response.headers.get('x-team'), 'red', 'c-guard read its context value back');
  const ctx = contextOf(response);
  for (const [k, v] of Object.entries({ team: 'red', c_guard: 'passed', c_policy: 'passed', as_pre: 'bonjour',
    as_greeting: 'bonjour', as_model: 'gpt-x', as_method: 'POST', native_model: 'up/gpt-x', rust_saw_model: 'gpt-x', 'from-http-pre': 'rust-wasm',
    rust_greeting: 'salut', as_post: true, native_saw_content_type: 'application/json', rust_post: true })) {
    assert.deepEqual(ctx[k], v, `context ${k}`);
  }
  assert.match(ctx.request_id, /./);
  console.log('ok: http_post_hooks in reverse order; context values of every plugin carried to the end');
}

// 2. c-guard rewrites the body: the model alias becomes the configured model.
{
  const r = await client.chat.completions.create({ model: 'fast', messages: ask('alias please') });
  assert.equal(r.choices[0].message.content, 'echo: alias please');
  const up = await upstream();
  assert.equal(up.body.model, 'gpt-rewritten');
  assert.deepEqual(up.body.messages, ask('alias please'));
  console.log('ok: http_pre_hook rewrote the request body (model alias -> up/gpt-rewritten)');
}

// 3. HTTP-level short-circuit: no x-team header -> 401 from c-guard (3rd).
{
  const caught = await failure(anonymous.chat.completions.create({ model: 'up/gpt-x', messages: ask('no team 401') }));
  assert.ok(caught instanceof OpenAI.AuthenticationError, `expected AuthenticationError, got ${caught}`);
  assert.equal(caught.status, 401);
  assert.equal(caught.code, 'missing_team');
  assert.match(caught.message, /missing header x-team/);
  assert.equal(caught.headers['x-post-trail'], 'rust-hello,native-example',
    'only the http_post_hooks of the plugins before the short-circuiting one run');
  assert.ok(!JSON.stringify(await upstream()).includes('no team 401'), 'the upstream was not called');
  console.log('ok: http_pre_hook short-circuit answered 401 (openai.AuthenticationError), later hooks skipped');
}

// 4. LLM-level short-circuit with a response: c-policy (4th) mocks "canned".
{
  const { data, response } = await client.chat.completions
    .create({ model: 'up/canned', messages: ask('canned marker') }).withResponse();
  assert.equal(data.id, 'chatcmpl-c-policy');
  assert.equal(data.choices[0].message.content, 'canned answer from c-policy');
  assert.ok(!JSON.stringify(await upstream()).includes('canned marker'), 'the provider was not called');
  assert.deepEqual(data.sluice_policy, { mark: 'checked', team: 'red' }, 'post_hook of the short-circuiting plugin ran');
  assert.equal(data.rust_mark.saw_policy_mark, true, 'post_hooks of the plugins before it ran');
  const ctx = contextOf(response);
  assert.equal(ctx.c_policy, 'mocked');
  assert.equal(ctx.as_pre, undefined, 'pre_hook of the plugin after the short-circuit did not run');
  assert.equal(ctx.native_model, 'up/canned');
  console.log('ok: pre_hook short-circuit with a mock response; later pre_hooks skipped, post_hooks k..0 ran');
}

// 5. LLM-level short-circuit with an error: c-policy allows 1 "scarce" request.
{
  const r = await client.chat.completions.create({ model: 'up/scarce', messages: ask('first scarce') });
  assert.equal(r.choices[0].message.content, 'echo: first scarce');
  const caught = await failure(client.chat.completions.create({ model: 'up/scarce', messages: ask('second scarce') }));
  assert.ok(caught instanceof OpenAI.RateLimitError, `expected RateLimitError, got ${caught}`);
  assert.equal(caught.status, 429);
  assert.equal(caught.code, 'rate_limited');
  assert.equal(caught.type, 'rate_limit_error');
  assert.match(caught.message, /rate limit of 1 requests reached for up\/scarce/);
  assert.ok(!JSON.stringify(await upstream()).includes('second scarce'), 'the provider was not called');
  console.log('ok: pre_hook error short-circuit answered 429 (openai.RateLimitError)');
}

// 6. Streaming: c-policy upper-cases chunks and drops the " from" one; the
//    native plugin (first, so its chunk hook runs last) tags every chunk.
{
  const s = await client.chat.completions.create({ model: 'up/gpt-x', messages: ask('hello from node'), stream: true });
  let text = '';
  let chunks = 0;
  for await (const ch of s) {
    chunks++;
    assert.equal(ch.native, true, 'native chunk hook tag');
    text += ch.choices[0]?.delta?.content ?? '';
  }
  assert.equal(text, 'ECHO: HELLO NODE');
  assert.equal(chunks, 4, 'five chunks from the upstream, one skipped');
  console.log('ok: stream chunks edited (upper case), one skipped, tagged by a second plugin');
}
