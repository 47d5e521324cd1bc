// A hello-world Sluice / Bifrost WASM plugin in AssemblyScript.
//
// The host writes each hook's input JSON into memory it gets from our
// `malloc`, calls the hook with (ptr, len), and reads the output JSON from the
// packed (ptr << 32 | len) we return, then calls `free` on both buffers.

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

export function init(configPtr: u32, configLen: u32): i32 {
  const config = readString(configPtr, configLen);
  if (config.includes("\"greeting\":\"bonjour\"")) greeting = "bonjour";
  return 0;
}

export function http_pre_hook(inputPtr: u32, inputLen: u32): u64 {
  const input = readString(inputPtr, inputLen);
  if (input.includes("as-abort")) {
    throw new Error("boom from assemblyscript");
  }
  return writeString(
    '{"context":{"as_greeting":"' + greeting + '","as_input_bytes":' + inputLen.toString() +
      '},"request":null,"response":null,"has_response":false,"error":""}'
  );
}

// An LLM-level hook that only adds context: when a plugin earlier in the
// chain short-circuits in its pre_hook, this one does not run (and its value
// is missing from the context).
export function pre_hook(inputPtr: u32, inputLen: u32): u64 {
  return writeString('{"context":{"as_pre":"' + greeting + '"},"has_short_circuit":false,"error":""}');
}

export function http_post_hook(inputPtr: u32, inputLen: u32): u64 {
  return writeString('{"context":{"as_post":true},"error":""}');
}

export function cleanup(): i32 {
  return 0;
}
