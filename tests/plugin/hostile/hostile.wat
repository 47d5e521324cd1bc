;; tests/plugin/hostile/hostile.wat - a Bifrost-ABI plugin that misbehaves on
;; purpose, for tests/plugin/test_hostile_load.sh. It is a template: the test
;; replaces @MINE@ with an ASCII digit code. init fails once the realtime
;; clock (ns) passes the number made of the digits of its config, e.g.
;; {"deadline_ns": 1764300000000000000} (no digits: never); the deadline is in
;; the config, not the module, so a compiled module stays cached across runs.
;; http_pre_hook answers "{}" (no change) unless
;; the first 512 bytes of its input contain "HOSTILE-<MINE>", e.g. from a
;; request header; then it does behaviour MINE:
;;   1 loop forever            2 trap (unreachable)      3 grow memory to the cap,
;;   4 output pointer outside memory                       touching every page
;;   5 output length of 2 GiB  6 invalid JSON output     7 recurse without end
;;   8 WASI proc_exit(3)       9 trap (with a deadline in the config: every later init fails)
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (memory (export "memory") 2)
  (global $heap i32 (i32.const 65536))
  (global $top (mut i32) (i32.const 65536))
  (global $live (mut i32) (i32.const 0))
  (global $mine i32 (i32.const @MINE@))
  (global $deadline (mut i64) (i64.const 0))
  (data (i32.const 1024) "{}")
  (data (i32.const 1040) "{\"context\": nope")

  ;; A bump allocator that starts over when nothing is live.
  (func $malloc (export "malloc") (param $n i32) (result i32)
    (local $p i32) (local $end i32)
    (local.set $p (global.get $top))
    (local.set $end (i32.and (i32.add (i32.add (local.get $p) (local.get $n)) (i32.const 7)) (i32.const -8)))
    (if (i32.gt_u (local.get $end) (i32.mul (memory.size) (i32.const 65536)))
      (then
        (if (i32.eq (memory.grow (i32.add (i32.shr_u (local.get $n) (i32.const 16)) (i32.const 1))) (i32.const -1))
          (then (return (i32.const 0))))))
    (global.set $top (local.get $end))
    (global.set $live (i32.add (global.get $live) (i32.const 1)))
    (local.get $p))
  ;; Static outputs (below the heap) are not counted.
  (func (export "free") (param $p i32)
    (if (i32.lt_u (local.get $p) (global.get $heap)) (then (return)))
    (global.set $live (i32.sub (global.get $live) (i32.const 1)))
    (if (i32.eqz (global.get $live)) (then (global.set $top (global.get $heap)))))

  (func (export "init") (param $p i32) (param $n i32) (result i32)
    (local $c i32) (local $end i32)
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (block $done
      (loop $digits
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $c (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)))
        (if (i32.lt_u (local.get $c) (i32.const 10))
          (then (global.set $deadline (i64.add (i64.mul (global.get $deadline) (i64.const 10))
                                               (i64.extend_i32_u (local.get $c))))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $digits)))
    (if (i64.eqz (global.get $deadline)) (then (return (i32.const 0))))
    (drop (call $clock (i32.const 0) (i64.const 1) (i32.const 512)))
    (i64.gt_u (i64.load (i32.const 512)) (global.get $deadline)))

  ;; The digit after "HOSTILE-" in the first 512 bytes, or 0.
  (func $marker (param $p i32) (param $n i32) (result i32)
    (local $i i32) (local $end i32)
    (if (i32.gt_u (local.get $n) (i32.const 512)) (then (local.set $n (i32.const 512))))
    (if (i32.lt_u (local.get $n) (i32.const 9)) (then (return (i32.const 0))))
    (local.set $end (i32.add (local.get $p) (i32.sub (local.get $n) (i32.const 9))))
    (local.set $i (local.get $p))
    (loop $scan
      ;; "HOSTILE-" as a little-endian i64
      (if (i64.eq (i64.load (local.get $i)) (i64.const 0x2d454c4954534f48))
        (then (return (i32.load8_u offset=8 (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $scan (i32.le_u (local.get $i) (local.get $end))))
    (i32.const 0))

  (func $recurse (param $d i32) (result i32)
    (i32.add (call $recurse (i32.add (local.get $d) (i32.const 1))) (i32.const 1)))

  (func $pack (param $ptr i32) (param $len i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32)) (i64.extend_i32_u (local.get $len))))

  (func (export "http_pre_hook") (param $p i32) (param $n i32) (result i64)
    (local $page i32) (local $i i32)
    (if (i32.ne (call $marker (local.get $p) (local.get $n)) (global.get $mine))
      (then (return (call $pack (i32.const 1024) (i32.const 2)))))
    (block $b9 (block $b8 (block $b7 (block $b6 (block $b5 (block $b4 (block $b3 (block $b2 (block $b1
      (br_table $b1 $b1 $b2 $b3 $b4 $b5 $b6 $b7 $b8 $b9 $b1 (i32.sub (global.get $mine) (i32.const 48))))
      ;; 1: forever
      (loop $forever (br $forever)))
      ;; 2
      unreachable)
      ;; 3: grow 1 MiB at a time and write into every new 64 KiB page, until
      ;; the cap refuses (1 MiB steps: the interpreter checks its deadline
      ;; every 2048 back-edges, so page-sized steps under ASan, whose realloc
      ;; copies, would cost O(n^2) before the first check)
      (block $full
        (loop $grow
          (local.set $page (memory.grow (i32.const 16)))
          (br_if $full (i32.eq (local.get $page) (i32.const -1)))
          (local.set $i (i32.const 0))
          (loop $touch
            (i32.store8 (i32.mul (i32.add (local.get $page) (local.get $i)) (i32.const 65536)) (i32.const 1))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $touch (i32.lt_u (local.get $i) (i32.const 16))))
          (br $grow)))
      (return (call $pack (i32.const 1024) (i32.const 2))))
      ;; 4
      (return (call $pack (i32.const 0xfff00000) (i32.const 64))))
      ;; 5
      (return (call $pack (i32.const 1024) (i32.const 0x80000000))))
      ;; 6
      (return (call $pack (i32.const 1040) (i32.const 16))))
      ;; 7
      (return (i64.extend_i32_u (call $recurse (i32.const 0)))))
      ;; 8
      (call $proc_exit (i32.const 3))
      (return (call $pack (i32.const 1024) (i32.const 2))))
    ;; 9
    unreachable)
)
