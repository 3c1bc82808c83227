;; The risk report's two hot loops in WebAssembly SIMD (f64x2). The memory is the caller's: each
;; prepared input owns one, holding its covariance, return matrix and scratch, so nothing is copied
;; per report. Offsets are byte offsets of float64 arrays; loads may be unaligned.
;; lib/risk/wasm/report-kernels.wasm.ts holds these bytes assembled (npm run build:wasm).
(module
  (import "env" "memory" (memory 1))

  ;; out[0..t) = Σ_b w[live[b]] · M[live[b], 0..t) for a row-major n×t matrix M at $m, the rows
  ;; listed as i32 indices at $live ($count of them). Four rows per sweep, as report-kernels.ts.
  (func (export "series")
    (param $m i32) (param $w i32) (param $live i32) (param $count i32) (param $t i32) (param $out i32)
    (local $b i32) (local $k i32) (local $t2 i32) (local $row i32)
    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32)
    (local $w0 f64) (local $w1 f64) (local $w2 f64) (local $w3 f64)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (local $o i32) (local $end i32)
    ;; out = 0
    (memory.fill (local.get $out) (i32.const 0) (i32.shl (local.get $t) (i32.const 3)))
    (local.set $t2 (i32.and (local.get $t) (i32.const -2)))
    (local.set $row (i32.shl (local.get $t) (i32.const 3)))
    (block $done4
      (loop $rows4
        (br_if $done4 (i32.gt_s (i32.add (local.get $b) (i32.const 4)) (local.get $count)))
        (local.set $a0 (i32.add (local.get $m) (i32.mul (i32.load (i32.add (local.get $live) (i32.shl (local.get $b) (i32.const 2)))) (local.get $row))))
        (local.set $a1 (i32.add (local.get $m) (i32.mul (i32.load offset=4 (i32.add (local.get $live) (i32.shl (local.get $b) (i32.const 2)))) (local.get $row))))
        (local.set $a2 (i32.add (local.get $m) (i32.mul (i32.load offset=8 (i32.add (local.get $live) (i32.shl (local.get $b) (i32.const 2)))) (local.get $row))))
        (local.set $a3 (i32.add (local.get $m) (i32.mul (i32.load offset=12 (i32.add (local.get $live) (i32.shl (local.get $b) (i32.const 2)))) (local.get $row))))
        (local.set $w0 (f64.load (i32.add (local.get $w) (i32.shl (i32.load (i32.add (local.get $live) (i32.shl (local.get $b) (i32.const 2)))) (i32.const 3)))))
        (local.set $w1 (f64.load (i32.add (local.get $w) (i32.shl (i32.load offset=4 (i32.add (local.get $live) (i32.shl (local.get $b) (i32.const 2)))) (i32.const 3)))))
        (local.set $w2 (f64.load (i32.add (local.get $w) (i32.shl (i32.load offset=8 (i32.add (local.get $live) (i32.shl (local.get $b) (i32.const 2)))) (i32.const 3)))))
        (local.set $w3 (f64.load (i32.add (local.get $w) (i32.shl (i32.load offset=12 (i32.add (local.get $live) (i32.shl (local.get $b) (i32.const 2)))) (i32.const 3)))))
        (local.set $v0 (f64x2.splat (local.get $w0)))
        (local.set $v1 (f64x2.splat (local.get $w1)))
        (local.set $v2 (f64x2.splat (local.get $w2)))
        (local.set $v3 (f64x2.splat (local.get $w3)))
        ;; k in bytes, two lanes per step.
        (local.set $k (i32.const 0))
        (local.set $end (i32.shl (local.get $t2) (i32.const 3)))
        (block $vdone
          (loop $v
            (br_if $vdone (i32.ge_u (local.get $k) (local.get $end)))
            (local.set $o (i32.add (local.get $out) (local.get $k)))
            (v128.store (local.get $o)
              (f64x2.add (v128.load (local.get $o))
                (f64x2.add
                  (f64x2.add
                    (f64x2.mul (local.get $v0) (v128.load (i32.add (local.get $a0) (local.get $k))))
                    (f64x2.mul (local.get $v1) (v128.load (i32.add (local.get $a1) (local.get $k)))))
                  (f64x2.add
                    (f64x2.mul (local.get $v2) (v128.load (i32.add (local.get $a2) (local.get $k))))
                    (f64x2.mul (local.get $v3) (v128.load (i32.add (local.get $a3) (local.get $k))))))))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (br $v)))
        ;; An odd t leaves one element.
        (if (i32.ne (local.get $t2) (local.get $t))
          (then
            (local.set $o (i32.add (local.get $out) (local.get $k)))
            (f64.store (local.get $o)
              (f64.add (f64.load (local.get $o))
                (f64.add
                  (f64.add
                    (f64.mul (local.get $w0) (f64.load (i32.add (local.get $a0) (local.get $k))))
                    (f64.mul (local.get $w1) (f64.load (i32.add (local.get $a1) (local.get $k)))))
                  (f64.add
                    (f64.mul (local.get $w2) (f64.load (i32.add (local.get $a2) (local.get $k))))
                    (f64.mul (local.get $w3) (f64.load (i32.add (local.get $a3) (local.get $k))))))))))
        (local.set $b (i32.add (local.get $b) (i32.const 4)))
        (br $rows4)))
    ;; The last 0–3 rows one at a time.
    (block $done1
      (loop $rows1
        (br_if $done1 (i32.ge_s (local.get $b) (local.get $count)))
        (local.set $a0 (i32.add (local.get $m) (i32.mul (i32.load (i32.add (local.get $live) (i32.shl (local.get $b) (i32.const 2)))) (local.get $row))))
        (local.set $w0 (f64.load (i32.add (local.get $w) (i32.shl (i32.load (i32.add (local.get $live) (i32.shl (local.get $b) (i32.const 2)))) (i32.const 3)))))
        (local.set $v0 (f64x2.splat (local.get $w0)))
        (local.set $k (i32.const 0))
        (local.set $end (i32.shl (local.get $t2) (i32.const 3)))
        (block $vdone1
          (loop $v1
            (br_if $vdone1 (i32.ge_u (local.get $k) (local.get $end)))
            (local.set $o (i32.add (local.get $out) (local.get $k)))
            (v128.store (local.get $o)
              (f64x2.add (v128.load (local.get $o))
                (f64x2.mul (local.get $v0) (v128.load (i32.add (local.get $a0) (local.get $k))))))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (br $v1)))
        (if (i32.ne (local.get $t2) (local.get $t))
          (then
            (local.set $o (i32.add (local.get $out) (local.get $k)))
            (f64.store (local.get $o)
              (f64.add (f64.load (local.get $o))
                (f64.mul (local.get $w0) (f64.load (i32.add (local.get $a0) (local.get $k))))))))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $rows1))))

  ;; out[0..n) = Σw for a symmetric row-major n×n Σ at $c, reading its upper triangle only: four
  ;; rows at a time, each off-diagonal element feeding both (Σw)ᵢ (a dot product) and (Σw)ⱼ (an axpy).
  (func (export "symv") (param $c i32) (param $w i32) (param $n i32) (param $out i32)
    (local $i i32) (local $j i32) (local $row i32)
    (local $r0 i32) (local $r1 i32) (local $r2 i32) (local $r3 i32)
    (local $w0 f64) (local $w1 f64) (local $w2 f64) (local $w3 f64)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local $wj v128) (local $o i32) (local $jb i32) (local $endb i32) (local $x f64) (local $s f64)
    (memory.fill (local.get $out) (i32.const 0) (i32.shl (local.get $n) (i32.const 3)))
    (local.set $row (i32.shl (local.get $n) (i32.const 3)))
    (local.set $endb (i32.shl (local.get $n) (i32.const 3)))
    (block $done4
      (loop $rows4
        (br_if $done4 (i32.gt_s (i32.add (local.get $i) (i32.const 4)) (local.get $n)))
        ;; r_k = byte address of Σ[i+k, 0]
        (local.set $r0 (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $row))))
        (local.set $r1 (i32.add (local.get $r0) (local.get $row)))
        (local.set $r2 (i32.add (local.get $r1) (local.get $row)))
        (local.set $r3 (i32.add (local.get $r2) (local.get $row)))
        (local.set $jb (i32.shl (local.get $i) (i32.const 3)))
        (local.set $w0 (f64.load (i32.add (local.get $w) (local.get $jb))))
        (local.set $w1 (f64.load offset=8 (i32.add (local.get $w) (local.get $jb))))
        (local.set $w2 (f64.load offset=16 (i32.add (local.get $w) (local.get $jb))))
        (local.set $w3 (f64.load offset=24 (i32.add (local.get $w) (local.get $jb))))
        ;; The 4×4 diagonal block, whole, into lane 0 of the accumulators.
        (local.set $s0 (f64x2.replace_lane 0 (v128.const f64x2 0 0)
          (f64.add (f64.add (f64.mul (f64.load (i32.add (local.get $r0) (local.get $jb))) (local.get $w0))
                            (f64.mul (f64.load offset=8 (i32.add (local.get $r0) (local.get $jb))) (local.get $w1)))
                   (f64.add (f64.mul (f64.load offset=16 (i32.add (local.get $r0) (local.get $jb))) (local.get $w2))
                            (f64.mul (f64.load offset=24 (i32.add (local.get $r0) (local.get $jb))) (local.get $w3))))))
        (local.set $s1 (f64x2.replace_lane 0 (v128.const f64x2 0 0)
          (f64.add (f64.add (f64.mul (f64.load offset=8 (i32.add (local.get $r0) (local.get $jb))) (local.get $w0))
                            (f64.mul (f64.load offset=8 (i32.add (local.get $r1) (local.get $jb))) (local.get $w1)))
                   (f64.add (f64.mul (f64.load offset=16 (i32.add (local.get $r1) (local.get $jb))) (local.get $w2))
                            (f64.mul (f64.load offset=24 (i32.add (local.get $r1) (local.get $jb))) (local.get $w3))))))
        (local.set $s2 (f64x2.replace_lane 0 (v128.const f64x2 0 0)
          (f64.add (f64.add (f64.mul (f64.load offset=16 (i32.add (local.get $r0) (local.get $jb))) (local.get $w0))
                            (f64.mul (f64.load offset=16 (i32.add (local.get $r1) (local.get $jb))) (local.get $w1)))
                   (f64.add (f64.mul (f64.load offset=16 (i32.add (local.get $r2) (local.get $jb))) (local.get $w2))
                            (f64.mul (f64.load offset=24 (i32.add (local.get $r2) (local.get $jb))) (local.get $w3))))))
        (local.set $s3 (f64x2.replace_lane 0 (v128.const f64x2 0 0)
          (f64.add (f64.add (f64.mul (f64.load offset=24 (i32.add (local.get $r0) (local.get $jb))) (local.get $w0))
                            (f64.mul (f64.load offset=24 (i32.add (local.get $r1) (local.get $jb))) (local.get $w1)))
                   (f64.add (f64.mul (f64.load offset=24 (i32.add (local.get $r2) (local.get $jb))) (local.get $w2))
                            (f64.mul (f64.load offset=24 (i32.add (local.get $r3) (local.get $jb))) (local.get $w3))))))
        (local.set $v0 (f64x2.splat (local.get $w0)))
        (local.set $v1 (f64x2.splat (local.get $w1)))
        (local.set $v2 (f64x2.splat (local.get $w2)))
        (local.set $v3 (f64x2.splat (local.get $w3)))
        ;; j from i+4 (bytes), two columns per step while two remain.
        (local.set $j (i32.add (local.get $jb) (i32.const 32)))
        (block $vdone
          (loop $v
            (br_if $vdone (i32.gt_u (i32.add (local.get $j) (i32.const 16)) (local.get $endb)))
            (local.set $c0 (v128.load (i32.add (local.get $r0) (local.get $j))))
            (local.set $c1 (v128.load (i32.add (local.get $r1) (local.get $j))))
            (local.set $c2 (v128.load (i32.add (local.get $r2) (local.get $j))))
            (local.set $c3 (v128.load (i32.add (local.get $r3) (local.get $j))))
            (local.set $wj (v128.load (i32.add (local.get $w) (local.get $j))))
            (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (local.get $c0) (local.get $wj))))
            (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (local.get $c1) (local.get $wj))))
            (local.set $s2 (f64x2.add (local.get $s2) (f64x2.mul (local.get $c2) (local.get $wj))))
            (local.set $s3 (f64x2.add (local.get $s3) (f64x2.mul (local.get $c3) (local.get $wj))))
            (local.set $o (i32.add (local.get $out) (local.get $j)))
            (v128.store (local.get $o)
              (f64x2.add (v128.load (local.get $o))
                (f64x2.add
                  (f64x2.add (f64x2.mul (local.get $c0) (local.get $v0)) (f64x2.mul (local.get $c1) (local.get $v1)))
                  (f64x2.add (f64x2.mul (local.get $c2) (local.get $v2)) (f64x2.mul (local.get $c3) (local.get $v3))))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $v)))
        ;; One column may remain.
        (if (i32.lt_u (local.get $j) (local.get $endb))
          (then
            (local.set $x (f64.load (i32.add (local.get $w) (local.get $j))))
            (local.set $s0 (f64x2.replace_lane 0 (local.get $s0) (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64.mul (f64.load (i32.add (local.get $r0) (local.get $j))) (local.get $x)))))
            (local.set $s1 (f64x2.replace_lane 0 (local.get $s1) (f64.add (f64x2.extract_lane 0 (local.get $s1)) (f64.mul (f64.load (i32.add (local.get $r1) (local.get $j))) (local.get $x)))))
            (local.set $s2 (f64x2.replace_lane 0 (local.get $s2) (f64.add (f64x2.extract_lane 0 (local.get $s2)) (f64.mul (f64.load (i32.add (local.get $r2) (local.get $j))) (local.get $x)))))
            (local.set $s3 (f64x2.replace_lane 0 (local.get $s3) (f64.add (f64x2.extract_lane 0 (local.get $s3)) (f64.mul (f64.load (i32.add (local.get $r3) (local.get $j))) (local.get $x)))))
            (local.set $o (i32.add (local.get $out) (local.get $j)))
            (f64.store (local.get $o)
              (f64.add (f64.load (local.get $o))
                (f64.add
                  (f64.add (f64.mul (f64.load (i32.add (local.get $r0) (local.get $j))) (local.get $w0))
                           (f64.mul (f64.load (i32.add (local.get $r1) (local.get $j))) (local.get $w1)))
                  (f64.add (f64.mul (f64.load (i32.add (local.get $r2) (local.get $j))) (local.get $w2))
                           (f64.mul (f64.load (i32.add (local.get $r3) (local.get $j))) (local.get $w3))))))))
        ;; out[i..i+4) += the accumulators' two lanes.
        (local.set $o (i32.add (local.get $out) (local.get $jb)))
        (f64.store (local.get $o) (f64.add (f64.load (local.get $o))
          (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0)))))
        (f64.store offset=8 (local.get $o) (f64.add (f64.load offset=8 (local.get $o))
          (f64.add (f64x2.extract_lane 0 (local.get $s1)) (f64x2.extract_lane 1 (local.get $s1)))))
        (f64.store offset=16 (local.get $o) (f64.add (f64.load offset=16 (local.get $o))
          (f64.add (f64x2.extract_lane 0 (local.get $s2)) (f64x2.extract_lane 1 (local.get $s2)))))
        (f64.store offset=24 (local.get $o) (f64.add (f64.load offset=24 (local.get $o))
          (f64.add (f64x2.extract_lane 0 (local.get $s3)) (f64x2.extract_lane 1 (local.get $s3)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $rows4)))
    ;; The last 0–3 rows one at a time (scalar: at most three short rows).
    (block $done1
      (loop $rows1
        (br_if $done1 (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $r0 (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $row))))
        (local.set $jb (i32.shl (local.get $i) (i32.const 3)))
        (local.set $w0 (f64.load (i32.add (local.get $w) (local.get $jb))))
        (local.set $s (f64.mul (f64.load (i32.add (local.get $r0) (local.get $jb))) (local.get $w0)))
        (local.set $j (i32.add (local.get $jb) (i32.const 8)))
        (block $jdone
          (loop $jl
            (br_if $jdone (i32.ge_u (local.get $j) (local.get $endb)))
            (local.set $x (f64.load (i32.add (local.get $r0) (local.get $j))))
            (local.set $s (f64.add (local.get $s) (f64.mul (local.get $x) (f64.load (i32.add (local.get $w) (local.get $j))))))
            (local.set $o (i32.add (local.get $out) (local.get $j)))
            (f64.store (local.get $o) (f64.add (f64.load (local.get $o)) (f64.mul (local.get $x) (local.get $w0))))
            (local.set $j (i32.add (local.get $j) (i32.const 8)))
            (br $jl)))
        (local.set $o (i32.add (local.get $out) (local.get $jb)))
        (f64.store (local.get $o) (f64.add (f64.load (local.get $o)) (local.get $s)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows1))))
)
