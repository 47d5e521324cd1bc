;; Module for test_wasm_api.c's deadline test of the whole-loop instructions:
;; a zeroed 256 MiB memory that one fused loop (I32_BYTE_LT_S_LOOP: leave at
;; a signed byte below -64, count i up to n) scans byte by byte. With n = 0
;; the count never ends the loop; the scan would trap at the memory's end
;; after 2^28 bytes, far later than the test's deadline, unless the loop
;; instruction failed to check the deadline as it goes.
(module
  (memory 4096)
  (func (export "scan") (param $p i32) (param $i i32) (param $n i32) (result i32)
    (block $bad
      (loop $next
        (br_if $bad (i32.lt_s (i32.load8_s (i32.add (local.get $p) (local.get $i))) (i32.const -64)))
        (br_if $next (i32.ne (local.get $n) (local.tee $i (i32.add (local.get $i) (i32.const 1)))))))
    (local.get $i)))
