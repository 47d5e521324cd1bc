;; Edge cases of the inlining of tiny leaf functions (src/wasm/inline.c): the
;; callees below are inline candidates, and each assertion fails if the
;; inlined code differs from a real call. Run by tests/wasm/test_fusion.sh.
(module
  (memory 1)
  (global $g (mut i32) (i32.const 0))
  (func $sub (param i32 i32) (result i32) (i32.sub (local.get 0) (local.get 1)))
  (func $sub3 (param i32 i32 i32) (result i32)
    (i32.sub (i32.sub (local.get 0) (local.get 1)) (local.get 2)))
  (func $id (param i32) (result i32) (local.get 0))
  (func $ld (param i32) (result i32) (i32.load offset=4 (local.get 0)))
  (func $st (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func $fadd (param f64 f64) (result f64) (f64.add (local.get 0) (local.get 1)))
  (func $bump (result i32) (global.set $g (i32.add (global.get $g) (i32.const 1))) (global.get $g))
  ;; `return` with an extra value below the result: not inlinable
  (func $extra (param i32) (result i32) (i32.const 1) (local.get 0) (return))
  (func $ret (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)) (return))
  ;; trampolines (inlining nests) and a non-candidate at the end of the chain
  (func $big (param i32 i32) (result i32)
    (block (result i32) (br_if 0 (i32.const -1) (i32.eqz (local.get 1)))
      (drop) (i32.div_u (local.get 0) (local.get 1))))
  (func $t1 (param i32 i32) (result i32) (call $big (local.get 0) (local.get 1)))
  (func $t2 (param i32 i32) (result i32) (call $t1 (local.get 0) (local.get 1)))
  (func $t3 (param i32 i32) (result i32) (call $t2 (local.get 1) (local.get 0)))
  ;; a kept argument inside an inlined body whose own arguments were forwarded
  (func $tk (param i32 i32) (result i32)
    (call $sub3 (i32.add (local.get 0) (i32.const 7)) (local.get 0) (local.get 1)))
  ;; recursion through candidates cannot expand forever
  (func $rec (call $rec))
  (func $ping (call $pong))
  (func $pong (call $ping))

  ;; forwarded local.gets: argument order (two separate, LOCAL_GET2)
  (func (export "fwd2") (param i32 i32) (result i32) (call $sub (local.get 0) (local.get 1)))
  (func (export "fwd3") (param i32 i32) (result i32)
    (call $sub3 (local.get 0) (local.get 1) (i32.const 100)))
  ;; only trailing local.gets are forwarded: the first argument is local 0's
  ;; value before the tee changed it
  (func (export "fwd_then_tee") (param i32) (result i32)
    (call $sub (local.get 0) (local.tee 0 (i32.const 5))))
  ;; one computed argument stays on the stack; the body reads it there and
  ;; the result replaces it (below it: a value the caller still needs)
  (func (export "kept") (param i32 i32) (result i32)
    (i32.sub (i32.const 1000) (call $sub (i32.mul (local.get 0) (i32.const 3)) (local.get 1))))
  (func (export "kept_first_fwd") (param i32 i32) (result i32)
    (call $sub3 (local.get 1) (local.get 0) (i32.mul (local.get 0) (i32.const 2))))
  ;; constant arguments become constants in the body
  (func (export "konst") (param i32) (result i32)
    (i32.add (call $sub (local.get 0) (i32.const 3)) (call $sub (i32.const 50) (local.get 0))))
  (func (export "konst_kept") (param i32) (result i32)
    (call $sub3 (i32.mul (local.get 0) (i32.const 2)) (i32.const 5) (local.get 0)))
  (func (export "fconst") (result f64) (call $fadd (f64.const 0.25) (f64.const 0.5)))
  ;; two computed arguments stay on the stack; one branch instruction moves
  ;; the result down over them
  (func (export "two_kept") (param i32 i32) (result i32)
    (i32.sub (i32.const 1000)
      (call $sub (i32.add (local.get 0) (i32.const 1)) (i32.add (local.get 1) (i32.const 2)))))
  ;; identity with a kept argument, then the caller's local.set/tee
  (func (export "id_kept") (param i32) (result i32) (local i32)
    (local.set 1 (call $id (i32.add (local.get 0) (i32.const 1))))
    (i32.add (local.get 1) (call $id (local.get 0))))
  ;; loads and stores in the body; a trap inside it is the callee's trap
  (func (export "ldst") (param i32 i32) (result i32)
    (call $st (i32.add (local.get 0) (i32.const 4)) (local.get 1))
    (i32.add (i32.const 7) (call $ld (local.get 0))))
  (func (export "ld") (param i32) (result i32) (call $ld (local.get 0)))
  ;; a zero-result body with its kept argument dropped: the value below survives
  (func (export "st_kept") (param i32 i32) (result i32)
    (i32.const 42)
    (call $st (i32.add (local.get 0) (i32.const 0)) (local.get 1))
    (i32.add (i32.load (local.get 0))))
  (func (export "fadd") (param f64) (result f64) (call $fadd (local.get 0) (f64.const 0.5)))
  (func (export "bump2") (result i32) (i32.add (call $bump) (i32.mul (call $bump) (i32.const 10))))
  (func (export "extra") (param i32) (result i32) (i32.sub (i32.const 100) (call $extra (local.get 0))))
  (func (export "ret") (param i32) (result i32) (i32.sub (i32.const 100) (call $ret (local.get 0))))
  (func (export "tramp") (param i32 i32) (result i32) (call $t3 (local.get 0) (local.get 1)))
  (func (export "tramp_zero") (param i32) (result i32) (call $t2 (local.get 0) (i32.const 0)))
  ;; branches after an inlined call: heights count the forwarded arguments again
  (func (export "br_after") (param i32 i32) (result i32)
    (block (result i32)
      (i32.const 9)
      (call $sub (local.get 0) (local.get 1))
      (br_if 0 (local.get 0))
      (drop))
    (i32.const 1) (i32.add))
  (func (export "nested_kept") (param i32 i32) (result i32)
    (i32.sub (i32.const 1000) (call $tk (local.get 0) (local.get 1))))
  (func (export "rec") (call $rec))
  (func (export "pingpong") (call $ping))
)

(assert_return (invoke "fwd2" (i32.const 10) (i32.const 3)) (i32.const 7))
(assert_return (invoke "fwd3" (i32.const 10) (i32.const 3)) (i32.const -93))
(assert_return (invoke "fwd_then_tee" (i32.const 10)) (i32.const 5))
(assert_return (invoke "kept" (i32.const 10) (i32.const 3)) (i32.const 973))
(assert_return (invoke "kept_first_fwd" (i32.const 10) (i32.const 3)) (i32.const -27))
(assert_return (invoke "konst" (i32.const 10)) (i32.const 47))
(assert_return (invoke "konst_kept" (i32.const 10)) (i32.const 5))
(assert_return (invoke "fconst") (f64.const 0.75))
(assert_return (invoke "two_kept" (i32.const 10) (i32.const 3)) (i32.const 994))
(assert_return (invoke "id_kept" (i32.const 10)) (i32.const 21))
(assert_return (invoke "ldst" (i32.const 100) (i32.const 5)) (i32.const 12))
(assert_trap (invoke "ld" (i32.const 65532)) "out of bounds memory access")
(assert_return (invoke "st_kept" (i32.const 200) (i32.const 9)) (i32.const 51))
(assert_return (invoke "fadd" (f64.const 1.25)) (f64.const 1.75))
(assert_return (invoke "bump2") (i32.const 21))
(assert_return (invoke "extra" (i32.const 7)) (i32.const 93))
(assert_return (invoke "ret" (i32.const 7)) (i32.const 92))
(assert_return (invoke "tramp" (i32.const 3) (i32.const 12)) (i32.const 4))
(assert_return (invoke "tramp_zero" (i32.const 3)) (i32.const -1))
(assert_return (invoke "tramp" (i32.const 3) (i32.const 0)) (i32.const 0))
(assert_return (invoke "br_after" (i32.const 10) (i32.const 3)) (i32.const 8))
(assert_return (invoke "br_after" (i32.const 0) (i32.const 3)) (i32.const 10))
(assert_return (invoke "nested_kept" (i32.const 30) (i32.const 3)) (i32.const 996))
(assert_exhaustion (invoke "rec") "call stack exhausted")
(assert_exhaustion (invoke "pingpong") "call stack exhausted")

;; the arguments of an inlined call are type-checked
(assert_invalid
  (module (func $f (param i32) (result i32) (local.get 0))
          (func (result i32) (call $f (i64.const 1))))
  "type mismatch")
;; an invalid candidate makes the module invalid
(assert_invalid
  (module (func $f (param i32) (result i32) (i64.add (local.get 0) (local.get 0)))
          (func (result i32) (call $f (i32.const 1))))
  "type mismatch")
