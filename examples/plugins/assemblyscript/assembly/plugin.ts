// A Sluice / Bifrost WASM plugin in AssemblyScript, with json-as for typed
// JSON (the @json classes below; unknown keys in the input are skipped).
//
// The host writes each hook's input JSON into memory it gets from our
// `malloc`, calls the hook with (ptr, len), and reads the output JSON from the
// packed (ptr << 32 | len) we return, then calls `free` on both buffers.
//
// Built with `--runtime stub`: no garbage collector, memory is never given
// back (the host replaces an instance that grew past 3/4 of its memory cap).
// Note: json-as 1.6.0 compiles an entry file named assembly/index.ts into an
// empty module, hence plugin.ts.
import { JSON } from "json-as";

@json
class Config {
  greeting: string = "hello";
}

@json
class HttpRequest {
  method: string = "";
  path: string = "";
}

@json
class HttpPreIn {
  request: HttpRequest = new HttpRequest();
}

@json
class ChatRequest {
  provider: string = "";
  model: string = "";
}

@json
class ChatRequestUnion {
  chat_request: ChatRequest = new ChatRequest();
}

@json
class PreIn {
  request: ChatRequestUnion = new ChatRequestUnion();
}

// Memory for the host: from AssemblyScript's own heap.
export function malloc(size: u32): u32 {
  return u32(heap.alloc(usize(size)));
}

export function free(ptr: u32): void {
  heap.free(usize(ptr));
}

function readString(ptr: u32, len: u32): string {
  return String.UTF8.decodeUnsafe(usize(ptr), usize(len));
}

// Copies s into a malloc'd buffer the host frees after reading it.
function writeString(s: string): u64 {
  const bytes = String.UTF8.encode(s);
  const len = u32(bytes.byteLength);
  const ptr = malloc(len);
  memory.copy(usize(ptr), changetype<usize>(bytes), usize(len));
  return (u64(ptr) << 32) | u64(len);
}

let greeting: string = "hello";

export function get_name(): u64 {
  return writeString("as-hello");
}

// The entry's "config" object, e.g. {"greeting": "bonjour"}.
export function init(configPtr: u32, configLen: u32): i32 {
  greeting = JSON.parse<Config>(readString(configPtr, configLen)).greeting;
  return 0;
}

export function http_pre_hook(inputPtr: u32, inputLen: u32): u64 {
  const input = JSON.parse<HttpPreIn>(readString(inputPtr, inputLen));
  if (input.request.path.includes("as-abort")) {
    // Reaches the host through env.abort: the hook fails (logged, fail-open).
    throw new Error("boom from assemblyscript");
  }
  return writeString(
    '{"context":{"as_greeting":' + JSON.stringify(greeting) + ',"as_input_bytes":' + inputLen.toString() +
      ',"as_method":' + JSON.stringify(input.request.method) +
      '},"request":null,"response":null,"has_response":false,"error":""}'
  );
}

// An LLM-level hook that only adds context: when a plugin earlier in the
// chain short-circuits in its pre_hook, this one does not run (and its values
// are missing from the context).
export function pre_hook(inputPtr: u32, inputLen: u32): u64 {
  const input = JSON.parse<PreIn>(readString(inputPtr, inputLen));
  return writeString(
    '{"context":{"as_pre":' + JSON.stringify(greeting) + ',"as_model":' +
      JSON.stringify(input.request.chat_request.model) + '},"has_short_circuit":false,"error":""}'
  );
}

export function http_post_hook(inputPtr: u32, inputLen: u32): u64 {
  return writeString('{"context":{"as_post":true},"error":""}');
}

export function cleanup(): i32 {
  return 0;
}
