;; Edge cases of the interpreter's superinstructions (src/wasm/compile.c):
;; each function is written so that the compiler fuses it, and each assertion
;; fails if the fused form differs from the plain instructions. Run by
;; tests/wasm/test_fusion.sh (wast2json + sluice-wasm spec).
(module
  (memory 1)
  (data (i32.const 0) "\01\02\03\80\ff")

  ;; load with an i32.add of two locals as the address: the sum wraps at 32 bits
  (func (export "load_lla") (param i32 i32) (result i32)
    (i32.load8_u (i32.add (local.get 0) (local.get 1))))
  (func (export "load_lla_tee") (param i32 i32) (result i32) (local i32)
    (i32.add (local.tee 2 (i32.load8_u (i32.add (local.get 0) (local.get 1)))) (local.get 2)))
  (func (export "load_lla_set") (param i32 i32) (result i32) (local i32)
    (local.set 2 (i32.load8_s offset=1 (i32.add (local.get 0) (local.get 1))))
    (local.get 2))
  ;; stack top + constant as the address: wraps before the offset is added
  (func (export "load_sca") (param i32) (result i32)
    (i32.load8_u offset=1 (i32.add (i32.mul (local.get 0) (i32.const 1)) (i32.const -1))))

  ;; local.get a; x.tee a; store: the address is a's value before the tee
  (func (export "store_tee_same") (param i32 i32) (result i32)
    (i32.store (local.get 0) (local.tee 0 (i32.add (local.get 1) (i32.const 1))))
    (i32.add (i32.load (i32.const 16)) (i32.mul (local.get 0) (i32.const 1000))))
  (func (export "store_tee_other") (param i32 i32) (result i32) (local i32)
    (i32.store (local.get 0) (local.tee 2 (i32.add (local.get 1) (i32.const 1))))
    (i32.add (i32.load (local.get 0)) (local.get 2)))

  ;; local.get a; x; store -> x; store_LS a: x reads a too, or is a constant
  ;; or a global; the store's value is x's result, its address a's value
  (global $gs (mut i64) (i64.const 0x1122334455667788))
  (func (export "store_ls") (param i32) (result i64)
    (i32.store offset=4 (local.get 0) (i32.const 0x55))
    (i32.store (local.get 0) (i32.load offset=4 (local.get 0)))
    (i64.store8 offset=8 (local.get 0) (i64.const 0x1ff))
    (i64.store offset=16 (local.get 0) (global.get $gs))
    (i64.add (i64.add (i64.load (local.get 0)) (i64.load offset=8 (local.get 0)))
             (i64.load offset=16 (local.get 0))))

  ;; branches decided by a local, a load or a compare, with and without i32.eqz
  (func (export "br_local") (param i32 i32) (result i32)
    (block (br_if 0 (local.get 0)) (return (i32.const 1)))
    (block (br_if 0 (i32.eqz (local.get 1))) (return (i32.const 2)))
    (if (local.get 1) (then (return (i32.const 3))))
    (if (i32.eqz (local.get 0)) (then (return (i32.const 4))))
    (i32.const 5))
  (func (export "br_load") (param i32) (result i32)
    (block (br_if 0 (i32.load (local.get 0))) (return (i32.const 1)))
    (block (br_if 0 (i32.eqz (i32.load offset=1 (local.get 0)))) (return (i32.const 2)))
    (i32.const 3))
  (func (export "br_load8_sca") (param i32) (result i32)
    (block (br_if 0 (i32.load8_u offset=1 (i32.add (i32.mul (local.get 0) (i32.const 1)) (i32.const 2))))
      (return (i32.const 1)))
    (i32.const 2))
  (func (export "br_cmp_eqz") (param i32 i32) (result i32)
    (block (br_if 0 (i32.eqz (i32.lt_u (local.get 0) (local.get 1)))) (return (i32.const 1)))
    (if (i32.eqz (i32.gt_s (local.get 0) (i32.const 7))) (then (return (i32.const 2))))
    (i32.const 3))

  ;; two local = local + k in a row: in order (the second reads what the
  ;; first wrote), wrapping at 32 bits
  (func (export "add_set2") (param i32) (result i32) (local i32 i32)
    (local.set 1 (i32.add (local.get 0) (i32.const 1)))
    (local.set 2 (i32.add (local.get 1) (i32.const 2)))
    (local.set 1 (i32.add (local.get 2) (i32.const 4)))
    (local.set 2 (i32.add (local.get 1) (i32.const -1)))
    (i32.add (i32.mul (local.get 1) (i32.const 1000)) (local.get 2)))
  ;; ... and the second one from a local.tee that a compare-branch reads
  (func (export "bump_loop") (param i32) (result i32) (local i32 i32)
    (loop
      (local.set 1 (i32.add (local.get 1) (i32.const 3)))
      (br_if 0 (i32.lt_u (local.tee 2 (i32.add (local.get 2) (i32.const 1))) (local.get 0))))
    (i32.add (i32.mul (local.get 1) (i32.const 1000)) (local.get 2)))

  ;; x.tee t; local.get y; op: operand order, and y == t
  (func (export "tee_sub") (param i32 i32) (result i32) (local i32)
    (i32.add (i32.sub (local.tee 2 (i32.add (local.get 0) (i32.const 5))) (local.get 1))
             (i32.mul (local.get 2) (i32.const 100))))
  (func (export "tee_sub_self") (param i32) (result i32)
    (i32.sub (local.tee 0 (i32.add (local.get 0) (i32.const 5))) (local.get 0)))
  (func (export "tee_lt") (param i32 i32) (result i32) (local i32)
    (block (br_if 0 (i32.lt_u (local.tee 2 (i32.add (local.get 0) (i32.const 1))) (local.get 1)))
           (return (i32.const -1)))
    (local.get 2))

  ;; x << k >> k (arithmetic) is a sign extension only when both k match
  (func (export "ext8") (param i32 i32) (result i32)
    (i32.shr_s (i32.shl (i32.xor (local.get 0) (local.get 1)) (i32.const 24)) (i32.const 24)))
  (func (export "ext16") (param i32 i32) (result i32)
    (i32.shr_s (i32.shl (i32.xor (local.get 0) (local.get 1)) (i32.const 16)) (i32.const 16)))
  (func (export "ext_mismatch") (param i32 i32) (result i32)
    (i32.shr_s (i32.shl (i32.xor (local.get 0) (local.get 1)) (i32.const 24)) (i32.const 16)))
  (func (export "ext8_tee") (param i32 i32) (result i32) (local i32)
    (i32.add (local.tee 2 (i32.shr_s (i32.shl (i32.xor (local.get 0) (local.get 1)) (i32.const 24))
                                     (i32.const 24)))
             (local.get 2)))
  (func (export "ext32_i64") (param i64 i64) (result i64)
    (i64.shr_s (i64.shl (i64.xor (local.get 0) (local.get 1)) (i64.const 32)) (i64.const 32)))

  ;; two local.get that the following call does not fuse: pushed in order
  (func $sub (param i32 i32) (result i32) (i32.sub (local.get 0) (local.get 1)))
  (func (export "get2_call") (param i32 i32) (result i32) (call $sub (local.get 0) (local.get 1)))

  ;; const + local.set (f64 bits kept), local copy + br back to a loop
  (func (export "copy_loop") (param i32) (result i32) (local i32 i32 f64 i32)
    (local.set 3 (f64.const 2.5))
    (loop $l
      (local.set 4 (i32.add (local.get 1) (i32.const 1)))
      (local.set 2 (i32.add (local.get 2) (local.get 1)))
      (if (i32.lt_u (local.get 4) (local.get 0)) (then (local.set 1 (local.get 4)) (br $l))))
    (i32.add (local.get 2) (i32.trunc_f64_s (f64.mul (local.get 3) (f64.const 2)))))
)

(assert_return (invoke "load_lla" (i32.const 1) (i32.const 2)) (i32.const 0x80))
(assert_return (invoke "load_lla" (i32.const 0xffffffff) (i32.const 4)) (i32.const 0x80))
(assert_trap (invoke "load_lla" (i32.const 65535) (i32.const 1)) "out of bounds memory access")
(assert_return (invoke "load_lla_tee" (i32.const 0xfffffffe) (i32.const 6)) (i32.const 0x1fe))
(assert_return (invoke "load_lla_set" (i32.const 0xffffffff) (i32.const 3)) (i32.const -128))
(assert_return (invoke "load_sca" (i32.const 1)) (i32.const 2))
(assert_trap (invoke "load_sca" (i32.const 0)) "out of bounds memory access")
(assert_return (invoke "store_tee_same" (i32.const 16) (i32.const 41)) (i32.const 42042))
(assert_return (invoke "store_tee_other" (i32.const 32) (i32.const 9)) (i32.const 20))
(assert_return (invoke "store_ls" (i32.const 64)) (i64.const 0x11223399556678dc))
(assert_return (invoke "br_local" (i32.const 0) (i32.const 0)) (i32.const 1))
(assert_return (invoke "br_local" (i32.const 1) (i32.const 1)) (i32.const 2))
(assert_return (invoke "br_local" (i32.const 1) (i32.const 0)) (i32.const 5))
(assert_return (invoke "br_local" (i32.const -1) (i32.const 0)) (i32.const 5))
(assert_return (invoke "br_load" (i32.const 0)) (i32.const 2))
(assert_return (invoke "br_load" (i32.const 4)) (i32.const 3))
(assert_return (invoke "br_load" (i32.const 8)) (i32.const 1))
(assert_trap (invoke "br_load" (i32.const 65533)) "out of bounds memory access")
(assert_return (invoke "br_load8_sca" (i32.const 0xffffffff)) (i32.const 2))
(assert_return (invoke "br_load8_sca" (i32.const 3)) (i32.const 1))
(assert_trap (invoke "br_load8_sca" (i32.const 65533)) "out of bounds memory access")
(assert_return (invoke "br_cmp_eqz" (i32.const 5) (i32.const 3)) (i32.const 2))
(assert_return (invoke "br_cmp_eqz" (i32.const 9) (i32.const 3)) (i32.const 3))
(assert_return (invoke "br_cmp_eqz" (i32.const 1) (i32.const 3)) (i32.const 1))
(assert_return (invoke "add_set2" (i32.const 10)) (i32.const 17016))
(assert_return (invoke "add_set2" (i32.const -5)) (i32.const 2001))
(assert_return (invoke "bump_loop" (i32.const 5)) (i32.const 15005))
(assert_return (invoke "bump_loop" (i32.const 0)) (i32.const 3001))
(assert_return (invoke "tee_sub" (i32.const 10) (i32.const 3)) (i32.const 1512))
(assert_return (invoke "tee_sub_self" (i32.const 7)) (i32.const 0))
(assert_return (invoke "tee_lt" (i32.const 1) (i32.const 5)) (i32.const 2))
(assert_return (invoke "tee_lt" (i32.const 5) (i32.const 1)) (i32.const -1))
(assert_return (invoke "ext8" (i32.const 0x80) (i32.const 0)) (i32.const -128))
(assert_return (invoke "ext8" (i32.const 0x17f) (i32.const 0)) (i32.const 127))
(assert_return (invoke "ext16" (i32.const 0x18000) (i32.const 0)) (i32.const -32768))
(assert_return (invoke "ext_mismatch" (i32.const 0x80) (i32.const 0)) (i32.const -32768))
(assert_return (invoke "ext8_tee" (i32.const 0xff) (i32.const 0)) (i32.const -2))
(assert_return (invoke "ext32_i64" (i64.const 0x180000000) (i64.const 0)) (i64.const -2147483648))
(assert_return (invoke "get2_call" (i32.const 10) (i32.const 3)) (i32.const 7))
(assert_return (invoke "copy_loop" (i32.const 10)) (i32.const 50))
(assert_return (invoke "copy_loop" (i32.const 1)) (i32.const 5))
