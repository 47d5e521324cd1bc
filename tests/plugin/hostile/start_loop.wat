;; tests/plugin/hostile/start_loop.wat - a plugin whose start function never
;; returns, for tests/plugin/test_plugin_start_loop.sh. The start function runs
;; while the host instantiates the module, before any hook: the plugin's
;; timeout_ms must bound it too, so loading fails instead of hanging.
(module
  (memory (export "memory") 1)
  (func $spin (loop $l (br $l)))
  (start $spin)
  (func (export "malloc") (param $n i32) (result i32) (i32.const 4096))
  (func (export "free") (param $p i32))
  (func (export "http_pre_hook") (param $p i32) (param $n i32) (result i64) (i64.const 0)))
