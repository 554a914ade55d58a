;; The string literals of a JSON text read one character per byte (latin1), found and
;; decoded sixteen bytes at a time. See latin1-json.ts for how the records are used.
;;
;; Memory, laid out by the caller: the escape table at [0, 256) (below); the text at
;; [text, end), `text` being exported; an output area at `out`, (end - text) + 32 bytes,
;; where escaped strings are written decoded; the records at `rec`.
;;
;; skim(end, out, rec, minLong, spacing) walks every string literal the way JSON.parse does. For each
;; string in value position whose raw content is at least minLong bytes and whose value it
;; could decode, it writes a record of four i32 addresses: the opening quote, the closing
;; quote, and [start, end) of the value's bytes (in the text when the string holds no
;; escape, else in the output area). It returns the number of records, or -1 where
;; JSON.parse might see the text otherwise: a control byte or a bad escape inside a string,
;; a string left open, or an escaped U+0000 (the caller's placeholders begin with that
;; character). It also gives up (-1) once strings come closer together than one per
;; `spacing` bytes on average past the first 4 KiB: in text that dense in small strings,
;; objects and keys, JSON.parse's own reading of the whole costs less than walking it twice.
;;
;; Decoded: \" \\ \/ \b \f \n \r \t and \u0001-\u007f, one byte each. A string holding
;; another \u escape is valid but not decoded here: no record, it stays in the text, and
;; the global `beyond` says one was seen (a skim that returned -1 may not have seen all).
;;
;; escapesBeyondAscii(end) answers that for a whole text, conservatively (further below):
;; what the caller asks when skim gave up early.
(module
  (memory (export "memory") 1)
  (global $text (export "text") i32 (i32.const 256))
  ;; Set by skim when a string holds a \u escape of U+0080 or above (see escapesBeyondAscii).
  (global $beyond (export "beyond") (mut i32) (i32.const 0))

  ;; What follows a backslash: the byte it stands for; 0x80 for 'u'; 0xff where JSON has no
  ;; such escape. Indexed by the byte after the backslash.
  (data (i32.const 0) "\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff"   ;; 0x00
                      "\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff"   ;; 0x10
                      "\ff\ff\22\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\2f"   ;; 0x20: " /
                      "\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff"   ;; 0x30
                      "\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff"   ;; 0x40
                      "\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\5c\ff\ff\ff"   ;; 0x50: \\
                      "\ff\ff\08\ff\ff\ff\0c\ff\ff\ff\ff\ff\ff\ff\0a\ff"   ;; 0x60: b f n
                      "\ff\ff\0d\ff\09\80\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff"   ;; 0x70: r t u
                      "\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff"   ;; 0x80
                      "\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff"
                      "\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff"
                      "\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff"
                      "\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff"
                      "\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff"
                      "\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff"
                      "\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff")

  ;; Whether a byte ends a run of plain string content: '"', '\\' or a control byte.
  (func $isSpecial (param $b i32) (result i32)
    (i32.or
      (i32.or (i32.eq (local.get $b) (i32.const 34)) (i32.eq (local.get $b) (i32.const 92)))
      (i32.lt_u (local.get $b) (i32.const 32))))

  ;; The first '"' at or after p, or end. Outside strings only structure lies between them.
  (func $nextQuote (param $p i32) (param $end i32) (result i32)
    (local $m v128)
    (block $tail
      (loop $blocks
        (br_if $tail (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $end)))
        (local.set $m (i8x16.eq (v128.load (local.get $p)) (i8x16.splat (i32.const 34))))
        (if (v128.any_true (local.get $m))
          (then (return (i32.add (local.get $p) (i32.ctz (i8x16.bitmask (local.get $m)))))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $blocks)))
    (block $end
      (loop $bytes
        (br_if $end (i32.ge_u (local.get $p) (local.get $end)))
        (br_if $end (i32.eq (i32.load8_u (local.get $p)) (i32.const 34)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $bytes)))
    (local.get $p))

  ;; The first special byte at or after p, or end.
  (func $firstSpecial (param $p i32) (param $end i32) (result i32)
    (local $v v128) (local $m v128)
    (block $tail
      (loop $blocks
        (br_if $tail (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $end)))
        (local.set $v (v128.load (local.get $p)))
        (local.set $m
          (v128.or
            (v128.or
              (i8x16.eq (local.get $v) (i8x16.splat (i32.const 34)))
              (i8x16.eq (local.get $v) (i8x16.splat (i32.const 92))))
            (i8x16.lt_u (local.get $v) (i8x16.splat (i32.const 32)))))
        (if (v128.any_true (local.get $m))
          (then (return (i32.add (local.get $p) (i32.ctz (i8x16.bitmask (local.get $m)))))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $blocks)))
    (block $end
      (loop $bytes
        (br_if $end (i32.ge_u (local.get $p) (local.get $end)))
        (br_if $end (call $isSpecial (i32.load8_u (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $bytes)))
    (local.get $p))

;; A hex digit's value, or -1.
  (func $hex (param $c i32) (result i32)
    (if (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10))
      (then (return (i32.sub (local.get $c) (i32.const 48)))))
    ;; 'A'-'F' and 'a'-'f': fold to lower case.
    (local.set $c (i32.or (local.get $c) (i32.const 32)))
    (if (i32.lt_u (i32.sub (local.get $c) (i32.const 97)) (i32.const 6))
      (then (return (i32.sub (local.get $c) (i32.const 87)))))
    (i32.const -1))

  ;; The code unit of the \uXXXX escape whose backslash is at c, or -1 if it is not one.
  (func $unicode (param $c i32) (param $end i32) (result i32)
    (local $v i32) (local $d i32) (local $i i32)
    (if (i32.gt_u (i32.add (local.get $c) (i32.const 6)) (local.get $end)) (then (return (i32.const -1))))
    (local.set $i (i32.const 2))
    (loop $digits
      (local.set $d (call $hex (i32.load8_u (i32.add (local.get $c) (local.get $i)))))
      (if (i32.lt_s (local.get $d) (i32.const 0)) (then (return (i32.const -1))))
      (local.set $v (i32.or (i32.shl (local.get $v) (i32.const 4)) (local.get $d)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $digits (i32.lt_u (local.get $i) (i32.const 6))))
    (local.get $v))

  ;; Whether the string that closed before p is a key: JSON whitespace, then ':'.
  (func $isKey (param $p i32) (param $end i32) (result i32)
    (local $b i32)
    (block $end
      (loop $space
        (br_if $end (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $b (i32.load8_u (local.get $p)))
        (br_if $end
          (i32.eqz
            (i32.or
              (i32.or (i32.eq (local.get $b) (i32.const 32)) (i32.eq (local.get $b) (i32.const 9)))
              (i32.or (i32.eq (local.get $b) (i32.const 10)) (i32.eq (local.get $b) (i32.const 13))))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $space)))
    (if (result i32) (i32.lt_u (local.get $p) (local.get $end))
      (then (i32.eq (i32.load8_u (local.get $p)) (i32.const 58)))
      (else (i32.const 0))))

  ;; Whether [text, end) holds a \u escape of U+0080 or above: a backslash, 'u', and not
  ;; "00" then '0'-'7'. Conservative as json-body.ts's escapesBeyondAscii, which it stands
  ;; in for on long bodies: an escaped backslash followed by "u00e9" counts too, and so does
  ;; a \u cut short by the end of the text.
  (func (export "escapesBeyondAscii") (param $end i32) (result i32)
    (local $p i32) (local $c i32) (local $bits i32) (local $d i32)
    (local.set $p (global.get $text))
    (block $tail
      (loop $blocks
        ;; 17 bytes: each lane's next byte is read too.
        (br_if $tail (i32.gt_u (i32.add (local.get $p) (i32.const 17)) (local.get $end)))
        (local.set $bits
          (i8x16.bitmask
            (v128.and
              (i8x16.eq (v128.load (local.get $p)) (i8x16.splat (i32.const 92)))
              (i8x16.eq (v128.load offset=1 (local.get $p)) (i8x16.splat (i32.const 117))))))
        (block $clear
          (loop $each
            (br_if $clear (i32.eqz (local.get $bits)))
            (local.set $c (i32.add (local.get $p) (i32.ctz (local.get $bits))))
            (if (call $beyondAt (local.get $c) (local.get $end)) (then (return (i32.const 1))))
            (local.set $bits (i32.and (local.get $bits) (i32.sub (local.get $bits) (i32.const 1))))
            (br $each)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $blocks)))
    (block $end
      (loop $bytes
        (br_if $end (i32.ge_u (i32.add (local.get $p) (i32.const 1)) (local.get $end)))
        (if (i32.and
              (i32.eq (i32.load8_u (local.get $p)) (i32.const 92))
              (i32.eq (i32.load8_u offset=1 (local.get $p)) (i32.const 117)))
          (then (if (call $beyondAt (local.get $p) (local.get $end)) (then (return (i32.const 1))))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $bytes)))
    (i32.const 0))

  ;; For the \u at c: whether its digits are not "00" then '0'-'7' (or the text ends first).
  (func $beyondAt (param $c i32) (param $end i32) (result i32)
    (if (i32.ge_u (i32.add (local.get $c) (i32.const 4)) (local.get $end)) (then (return (i32.const 1))))
    (i32.eqz
      (i32.and
        (i32.and
          (i32.eq (i32.load8_u offset=2 (local.get $c)) (i32.const 48))
          (i32.eq (i32.load8_u offset=3 (local.get $c)) (i32.const 48)))
        (i32.lt_u (i32.sub (i32.load8_u offset=4 (local.get $c)) (i32.const 48)) (i32.const 8)))))

  (func (export "skim") (param $end i32) (param $out i32) (param $rec i32) (param $minLong i32) (param $spacing i32) (result i32)
    (local $p i32) (local $q i32) (local $s i32) (local $c i32) (local $o i32) (local $b i32)
    (local $n i32) (local $v v128) (local $m v128) (local $seen i32)
    ;; 0: no escape yet; 1: decoded into the output area; 2: holds an escape not decoded
    (local $escaped i32)
    (local.set $p (global.get $text))
    (global.set $beyond (i32.const 0))
    (loop $strings
      (local.set $q (call $nextQuote (local.get $p) (local.get $end)))
      (if (i32.ge_u (local.get $q) (local.get $end)) (then (return (local.get $n))))
      (local.set $seen (i32.add (local.get $seen) (i32.const 1)))
      (if (i32.gt_u
            (i32.mul (local.get $seen) (local.get $spacing))
            (i32.add (i32.sub (local.get $q) (global.get $text)) (i32.const 4096)))
        (then (return (i32.const -1))))
      (local.set $s (i32.add (local.get $q) (i32.const 1)))
      (local.set $c (call $firstSpecial (local.get $s) (local.get $end)))
      (local.set $escaped (i32.const 0))
      (block $closed
        (loop $escapes
          ;; c: a special byte, or end for a string left open
          (if (i32.ge_u (local.get $c) (local.get $end)) (then (return (i32.const -1))))
          (local.set $b (i32.load8_u (local.get $c)))
          (br_if $closed (i32.eq (local.get $b) (i32.const 34)))
          (if (i32.ne (local.get $b) (i32.const 92)) (then (return (i32.const -1))))
          (if (i32.eqz (local.get $escaped))
            (then
              ;; The run before the first escape; later runs are copied as they are read.
              (memory.copy (local.get $out) (local.get $s) (i32.sub (local.get $c) (local.get $s)))
              (local.set $o (i32.add (local.get $out) (i32.sub (local.get $c) (local.get $s))))
              (local.set $escaped (i32.const 1))))
          ;; The escape at c (its second byte is inside the text: a string's last byte is its quote).
          (if (i32.ge_u (i32.add (local.get $c) (i32.const 1)) (local.get $end)) (then (return (i32.const -1))))
          (local.set $b (i32.load8_u (i32.load8_u offset=1 (local.get $c))))
          (if (i32.lt_u (local.get $b) (i32.const 0x80))
            (then
              (i32.store8 (local.get $o) (local.get $b))
              (local.set $o (i32.add (local.get $o) (i32.const 1)))
              (local.set $p (i32.add (local.get $c) (i32.const 2))))
            (else
              (if (i32.ne (local.get $b) (i32.const 0x80)) (then (return (i32.const -1))))
              (local.set $b (call $unicode (local.get $c) (local.get $end)))
              (if (i32.le_s (local.get $b) (i32.const 0)) (then (return (i32.const -1))))
              (if (i32.lt_u (local.get $b) (i32.const 0x80))
                (then
                  (i32.store8 (local.get $o) (local.get $b))
                  (local.set $o (i32.add (local.get $o) (i32.const 1))))
                (else
                  (local.set $escaped (i32.const 2))
                  (global.set $beyond (i32.const 1))))
              (local.set $p (i32.add (local.get $c) (i32.const 6)))))
          ;; The plain run after it, copied to o until the next special byte. Whole blocks
          ;; are stored before they are tested: the output area has room past its end.
          ;; $firstSpecial's loop with a store, written out here: V8 on Node 20 does not
          ;; inline wasm calls, and this runs once per escape.
          (block $found
            (loop $blocks
              (br_if $found
                (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $end)))
              (local.set $v (v128.load (local.get $p)))
              (v128.store (local.get $o) (local.get $v))
              (local.set $m
                (v128.or
                  (v128.or
                    (i8x16.eq (local.get $v) (i8x16.splat (i32.const 34)))
                    (i8x16.eq (local.get $v) (i8x16.splat (i32.const 92))))
                  (i8x16.lt_u (local.get $v) (i8x16.splat (i32.const 32)))))
              (if (v128.any_true (local.get $m))
                (then
                  (local.set $b (i32.ctz (i8x16.bitmask (local.get $m))))
                  (local.set $c (i32.add (local.get $p) (local.get $b)))
                  (local.set $o (i32.add (local.get $o) (local.get $b)))
                  (br $escapes)))
              (local.set $p (i32.add (local.get $p) (i32.const 16)))
              (local.set $o (i32.add (local.get $o) (i32.const 16)))
              (br $blocks)))
          ;; Fewer than 16 bytes left in the text: byte by byte.
          (local.set $c (call $firstSpecial (local.get $p) (local.get $end)))
          (memory.copy (local.get $o) (local.get $p) (i32.sub (local.get $c) (local.get $p)))
          (local.set $o (i32.add (local.get $o) (i32.sub (local.get $c) (local.get $p))))
          (br $escapes)))
      ;; c: the closing quote
      (if (i32.and
            (i32.ne (local.get $escaped) (i32.const 2))
            (i32.ge_u (i32.sub (local.get $c) (local.get $s)) (local.get $minLong)))
        (then
          (if (i32.eqz (call $isKey (i32.add (local.get $c) (i32.const 1)) (local.get $end)))
            (then
              (i32.store (local.get $rec) (local.get $q))
              (i32.store offset=4 (local.get $rec) (local.get $c))
              (if (local.get $escaped)
                (then
                  (i32.store offset=8 (local.get $rec) (local.get $out))
                  (i32.store offset=12 (local.get $rec) (local.get $o))
                  (local.set $out (local.get $o)))
                (else
                  (i32.store offset=8 (local.get $rec) (local.get $s))
                  (i32.store offset=12 (local.get $rec) (local.get $c))))
              (local.set $rec (i32.add (local.get $rec) (i32.const 16)))
              (local.set $n (i32.add (local.get $n) (i32.const 1)))))))
      (local.set $p (i32.add (local.get $c) (i32.const 1)))
      (br $strings))
    (unreachable))
)
