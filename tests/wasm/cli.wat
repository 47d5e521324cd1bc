;; Module for test_cli.sh: typed arguments and results, traps.
(module
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "mix") (param i64 f32 f64) (result i64 f32 f64)
    (i64.mul (local.get 0) (i64.const 2)) (f32.mul (local.get 1) (f32.const 2)) (f64.neg (local.get 2)))
  (func (export "boom") (unreachable))
  (func (export "div") (param i32 i32) (result i32) (i32.div_u (local.get 0) (local.get 1)))
)
