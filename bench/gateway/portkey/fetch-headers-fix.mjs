// Preload for @portkey-ai/gateway 1.15.2 on Node 20 (node --import this-file).
//
// Portkey adds headers to the Response that fetch() returned; Node's undici marks
// those headers immutable, so every streaming request fails with
// "TypeError: immutable" and a 500 (Portkey issues #1389 and #1550). This wraps
// fetch to hand back the same response (same body stream, status and headers)
// with a mutable copy of its headers. Nothing else changes; the benchmark says
// that the Portkey rows run with it.
const realFetch = globalThis.fetch;
globalThis.fetch = async (...args) => {
  const res = await realFetch(...args);
  return new Response(res.body, {
    status: res.status,
    statusText: res.statusText,
    headers: new Headers(res.headers),
  });
};
