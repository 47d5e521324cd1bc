;; tests/plugin/hostile/malloc0.wat - a plugin whose allocator fails by
;; returning 0 (C's NULL), for tests/plugin/test_plugin_malloc0.sh. It is a
;; template: the test replaces @GOOD@ with how many calls of malloc succeed
;; before it starts returning 0 (0: already init's config buffer; 1: init
;; succeeds, the first hook's input buffer fails). The host must refuse the
;; 0 (it would copy the input over whatever lives at address 0); were the
;; hook called anyway it would answer "{}" (no change).
(module
  (memory (export "memory") 1)
  (global $calls (mut i32) (i32.const 0))
  (data (i32.const 0) "data the host must not overwrite")
  (data (i32.const 60000) "{}")
  (func (export "malloc") (param $n i32) (result i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (if (result i32) (i32.gt_u (global.get $calls) (i32.const @GOOD@))
      (then (i32.const 0))
      (else (i32.const 4096))))
  (func (export "free") (param $p i32))
  (func (export "init") (param $p i32) (param $n i32) (result i32) (i32.const 0))
  (func (export "http_pre_hook") (param $p i32) (param $n i32) (result i64)
    (i64.or (i64.shl (i64.const 60000) (i64.const 32)) (i64.const 2))))
