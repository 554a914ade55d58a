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
;;
;; tape(end, tape, stack, stackEnd) checks the whole text as JSON.parse would and records its
;; structure, for readers that build only the parts they look at (json-pick/tape.ts; the
;; entries are described there and at the function).
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
    (local.set $p (call $ws (local.get $p) (local.get $end)))
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

  ;; Set by $stringEnd: whether the string it read holds an escape.
  (global $escapes (mut i32) (i32.const 0))

  ;; The first byte at or after p that is not JSON whitespace, or end. Callers test the
  ;; byte first (compact JSON has none): a byte past the end reads the memory after the
  ;; text, harmlessly, as $ws itself stops at end.
  (func $ws (param $p i32) (param $end i32) (result i32)
    (local $b i32)
    (block $done
      (loop $space
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $b (i32.load8_u (local.get $p)))
        (br_if $done
          (i32.eqz
            (i32.or
              (i32.or (i32.eq (local.get $b) (i32.const 32)) (i32.eq (local.get $b) (i32.const 10)))
              (i32.or (i32.eq (local.get $b) (i32.const 13)) (i32.eq (local.get $b) (i32.const 9))))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $space)))
    (local.get $p))

  ;; The closing quote of the string whose opening quote is at q, or 0 where JSON.parse
  ;; refuses it (a control byte, an escape it does not know, the text ending first).
  ;; Sets $escapes. $firstSpecial's loop is written out here: V8 on Node 20 does not inline
  ;; wasm calls, and this runs for every string and again after each escape. (Taking a
  ;; block's special bytes from its bitmask in turn, rather than a reload per escape,
  ;; measured slower: 52 against 45 µs for a 100 KB agent turn.)
  (func $stringEnd (param $q i32) (param $end i32) (result i32)
    (local $c i32) (local $b i32) (local $m v128)
    (global.set $escapes (i32.const 0))
    (local.set $c (i32.add (local.get $q) (i32.const 1)))
    (loop $runs
      ;; c: the next byte of the string's content; find the first special one from it.
      (block $special
        (block $tail
          (loop $blocks
            (br_if $tail (i32.gt_u (i32.add (local.get $c) (i32.const 16)) (local.get $end)))
            (local.set $m (v128.load (local.get $c)))
            (local.set $m
              (v128.or
                (v128.or
                  (i8x16.eq (local.get $m) (i8x16.splat (i32.const 34)))
                  (i8x16.eq (local.get $m) (i8x16.splat (i32.const 92))))
                (i8x16.lt_u (local.get $m) (i8x16.splat (i32.const 32)))))
            (if (v128.any_true (local.get $m))
              (then
                (local.set $c (i32.add (local.get $c) (i32.ctz (i8x16.bitmask (local.get $m)))))
                (br $special)))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br $blocks)))
        ;; Fewer than 16 bytes left: byte by byte.
        (loop $bytes
          (br_if $special (i32.ge_u (local.get $c) (local.get $end)))
          (br_if $special (call $isSpecial (i32.load8_u (local.get $c))))
          (local.set $c (i32.add (local.get $c) (i32.const 1)))
          (br $bytes)))
      (if (i32.ge_u (local.get $c) (local.get $end)) (then (return (i32.const 0))))
      (local.set $b (i32.load8_u (local.get $c)))
      (if (i32.eq (local.get $b) (i32.const 34)) (then (return (local.get $c))))
      ;; A control byte, or a backslash as the text's last byte.
      (if (i32.or (i32.ne (local.get $b) (i32.const 92))
                  (i32.ge_u (i32.add (local.get $c) (i32.const 1)) (local.get $end)))
        (then (return (i32.const 0))))
      (global.set $escapes (i32.const 1))
      (local.set $b (i32.load8_u (i32.load8_u offset=1 (local.get $c))))
      (if (i32.eq (local.get $b) (i32.const 0xff)) (then (return (i32.const 0))))
      (if (i32.eq (local.get $b) (i32.const 0x80))
        (then
          (if (i32.lt_s (call $unicode (local.get $c) (local.get $end)) (i32.const 0)) (then (return (i32.const 0))))
          (local.set $c (i32.add (local.get $c) (i32.const 6))))
        (else (local.set $c (i32.add (local.get $c) (i32.const 2)))))
      (br $runs))
    (unreachable))

  ;; Whether b is '0'-'9'.
  (func $digit (param $b i32) (result i32)
    (i32.lt_u (i32.sub (local.get $b) (i32.const 48)) (i32.const 10)))

  ;; The first byte after p's run of digits (p itself if none).
  (func $digits (param $p i32) (param $end i32) (result i32)
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (br_if $done (i32.eqz (call $digit (i32.load8_u (local.get $p)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $each)))
    (local.get $p))

  ;; The end of the number that begins at p, or 0 where JSON's grammar refuses it:
  ;; -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
  (func $numberEnd (param $p i32) (param $end i32) (result i32)
    (local $q i32)
    (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 45)) (then (local.set $p (i32.add (local.get $p) (i32.const 1)))))
    (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const 0))))
    (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 48))
      (then (local.set $p (i32.add (local.get $p) (i32.const 1))))
      (else
        (local.set $q (call $digits (local.get $p) (local.get $end)))
        (if (i32.eq (local.get $q) (local.get $p)) (then (return (i32.const 0))))
        (local.set $p (local.get $q))))
    (if (i32.and (i32.lt_u (local.get $p) (local.get $end)) (i32.eq (i32.load8_u (local.get $p)) (i32.const 46)))
      (then
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (local.set $q (call $digits (local.get $p) (local.get $end)))
        (if (i32.eq (local.get $q) (local.get $p)) (then (return (i32.const 0))))
        (local.set $p (local.get $q))))
    ;; 'e' or 'E': no other byte ORed with 0x20 is 'e'.
    (if (i32.and (i32.lt_u (local.get $p) (local.get $end))
                 (i32.eq (i32.or (i32.load8_u (local.get $p)) (i32.const 32)) (i32.const 101)))
      (then
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (if (i32.lt_u (local.get $p) (local.get $end))
          (then
            (if (i32.or (i32.eq (i32.load8_u (local.get $p)) (i32.const 43)) (i32.eq (i32.load8_u (local.get $p)) (i32.const 45)))
              (then (local.set $p (i32.add (local.get $p) (i32.const 1)))))))
        (local.set $q (call $digits (local.get $p) (local.get $end)))
        (if (i32.eq (local.get $q) (local.get $p)) (then (return (i32.const 0))))
        (local.set $p (local.get $q))))
    (local.get $p))

  ;; The end of the literal (true, false, null) that begins at p, or 0 if none does.
  (func $literalEnd (param $p i32) (param $end i32) (result i32)
    (local $word i32)
    (if (i32.gt_u (i32.add (local.get $p) (i32.const 4)) (local.get $end)) (then (return (i32.const 0))))
    (local.set $word (i32.load (local.get $p)))
    ;; Little-endian: "true", "null", then "fals" followed by 'e'.
    (if (i32.or (i32.eq (local.get $word) (i32.const 0x65757274)) (i32.eq (local.get $word) (i32.const 0x6c6c756e)))
      (then (return (i32.add (local.get $p) (i32.const 4)))))
    (if (i32.and
          (i32.eq (local.get $word) (i32.const 0x736c6166))
          (i32.lt_u (i32.add (local.get $p) (i32.const 4)) (local.get $end)))
      (then
        (if (i32.eq (i32.load8_u offset=4 (local.get $p)) (i32.const 101))
          (then (return (i32.add (local.get $p) (i32.const 5)))))))
    (i32.const 0))

  ;; Writes the tape entry at `at` for the string at q whose closing quote is c.
  (func $stringEntry (param $at i32) (param $q i32) (param $c i32)
    (i32.store (local.get $at)
      (i32.or (i32.shl (i32.sub (local.get $q) (global.get $text)) (i32.const 3))
              (i32.add (i32.const 2) (global.get $escapes))))
    (i32.store offset=4 (local.get $at) (i32.sub (local.get $c) (global.get $text))))

  ;; A member's name at p, written as the tape entry at `at`, then its colon: where its
  ;; value begins (whitespace skipped), or 0 where JSON.parse refuses the text.
  (func $member (param $p i32) (param $end i32) (param $at i32) (result i32)
    (local $c i32)
    (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const 0))))
    (if (i32.ne (i32.load8_u (local.get $p)) (i32.const 34)) (then (return (i32.const 0))))
    (local.set $c (call $stringEnd (local.get $p) (local.get $end)))
    (if (i32.eqz (local.get $c)) (then (return (i32.const 0))))
    (call $stringEntry (local.get $at) (local.get $p) (local.get $c))
    (local.set $c (i32.add (local.get $c) (i32.const 1)))
    (if (i32.le_u (i32.load8_u (local.get $c)) (i32.const 32)) (then (local.set $c (call $ws (local.get $c) (local.get $end)))))
    (if (i32.ge_u (local.get $c) (local.get $end)) (then (return (i32.const 0))))
    (if (i32.ne (i32.load8_u (local.get $c)) (i32.const 58)) (then (return (i32.const 0))))
    (local.set $c (i32.add (local.get $c) (i32.const 1)))
    (if (i32.le_u (i32.load8_u (local.get $c)) (i32.const 32)) (then (local.set $c (call $ws (local.get $c) (local.get $end)))))
    (local.get $c))

  ;; tape(end, tape, stack): the text [text, end) checked as JSON.parse checks it, every
  ;; value recorded in order as a tape entry of two i32s: the value's offset in the text
  ;; shifted left by 3, ORed with its kind (0 object, 1 array, 2 string, 3 string holding
  ;; an escape, 4 number, 5 true, 6 false, 7 null); then, for an object or array, the
  ;; index of the first entry after its last one; for a string, its closing quote's
  ;; offset; for a number or literal, the offset just past it. An object's entries are its
  ;; members' names and values in turn. Returns the number of entries; -1 where
  ;; JSON.parse would refuse the text; -2 where, before any refusal, the entries would
  ;; reach `stack` or the open containers (an i32 each, from `stack`) reach `stackEnd`.
  (func (export "tape") (param $end i32) (param $tape i32) (param $stack i32) (param $stackEnd i32) (result i32)
    (local $p i32) (local $b i32) (local $n i32) (local $at i32) (local $q i32)
    (local $depth i32) (local $open i32) (local $kind i32)
    (local.set $p (call $ws (global.get $text) (local.get $end)))
    (loop $value
      ;; p: where a value must begin, whitespace skipped
      (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const -1))))
      (local.set $b (i32.load8_u (local.get $p)))
      (local.set $at (i32.add (local.get $tape) (i32.shl (local.get $n) (i32.const 3))))
      ;; An entry past the tape's room (a member's name takes the next entry too).
      (if (i32.ge_u (i32.add (local.get $at) (i32.const 8)) (local.get $stack)) (then (return (i32.const -2))))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (block $after
        (if (i32.eq (local.get $b) (i32.const 34))
          (then
            (local.set $q (call $stringEnd (local.get $p) (local.get $end)))
            (if (i32.eqz (local.get $q)) (then (return (i32.const -1))))
            (call $stringEntry (local.get $at) (local.get $p) (local.get $q))
            (local.set $p (i32.add (local.get $q) (i32.const 1)))
            (br $after)))
        (if (i32.or (i32.eq (local.get $b) (i32.const 123)) (i32.eq (local.get $b) (i32.const 91)))
          (then
            ;; '{' is 0x7b and '[' 0x5b: bit 5 tells them apart (kind 0 and 1).
            (local.set $kind (i32.eqz (i32.and (local.get $b) (i32.const 32))))
            (i32.store (local.get $at)
              (i32.or (i32.shl (i32.sub (local.get $p) (global.get $text)) (i32.const 3)) (local.get $kind)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (if (i32.le_u (i32.load8_u (local.get $p)) (i32.const 32)) (then (local.set $p (call $ws (local.get $p) (local.get $end)))))
            (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const -1))))
            ;; Empty: '}' is '{' + 2, ']' is '[' + 2.
            (if (i32.eq (i32.load8_u (local.get $p)) (i32.add (local.get $b) (i32.const 2)))
              (then
                (i32.store offset=4 (local.get $at) (local.get $n))
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (br $after)))
            (local.set $q (i32.add (local.get $stack) (i32.shl (local.get $depth) (i32.const 2))))
            (if (i32.ge_u (local.get $q) (local.get $stackEnd)) (then (return (i32.const -2))))
            (i32.store (local.get $q) (i32.sub (local.get $n) (i32.const 1)))
            (local.set $depth (i32.add (local.get $depth) (i32.const 1)))
            (if (i32.eqz (local.get $kind))
              (then
                (local.set $p (call $member (local.get $p) (local.get $end)
                  (i32.add (local.get $tape) (i32.shl (local.get $n) (i32.const 3)))))
                (if (i32.eqz (local.get $p)) (then (return (i32.const -1))))
                (local.set $n (i32.add (local.get $n) (i32.const 1)))))
            (br $value)))
        (if (i32.or (i32.eq (local.get $b) (i32.const 45)) (call $digit (local.get $b)))
          (then
            (local.set $q (call $numberEnd (local.get $p) (local.get $end)))
            (local.set $kind (i32.const 4)))
          (else
            (local.set $q (call $literalEnd (local.get $p) (local.get $end)))
            ;; 't' 5, 'f' 6, 'n' 7
            (local.set $kind
              (select (i32.const 5)
                (select (i32.const 6) (i32.const 7) (i32.eq (local.get $b) (i32.const 102)))
                (i32.eq (local.get $b) (i32.const 116))))))
        (if (i32.eqz (local.get $q)) (then (return (i32.const -1))))
        (i32.store (local.get $at)
          (i32.or (i32.shl (i32.sub (local.get $p) (global.get $text)) (i32.const 3)) (local.get $kind)))
        (i32.store offset=4 (local.get $at) (i32.sub (local.get $q) (global.get $text)))
        (local.set $p (local.get $q)))
      ;; After a value: the end of the text, a comma, or the close of its container.
      (loop $close
        (if (i32.le_u (i32.load8_u (local.get $p)) (i32.const 32)) (then (local.set $p (call $ws (local.get $p) (local.get $end)))))
        (if (i32.eqz (local.get $depth))
          (then (return (select (local.get $n) (i32.const -1) (i32.eq (local.get $p) (local.get $end))))))
        (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const -1))))
        (local.set $b (i32.load8_u (local.get $p)))
        (local.set $open
          (i32.add (local.get $tape)
            (i32.shl (i32.load (i32.add (local.get $stack) (i32.shl (i32.sub (local.get $depth) (i32.const 1)) (i32.const 2))))
                     (i32.const 3))))
        (local.set $kind (i32.and (i32.load (local.get $open)) (i32.const 7)))
        (if (i32.eq (local.get $b) (i32.const 44))
          (then
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (if (i32.le_u (i32.load8_u (local.get $p)) (i32.const 32)) (then (local.set $p (call $ws (local.get $p) (local.get $end)))))
            (if (i32.eqz (local.get $kind))
              (then
                ;; The name's entry and its value's, which $value checks again.
                (if (i32.ge_u (i32.add (i32.add (local.get $tape) (i32.shl (local.get $n) (i32.const 3))) (i32.const 16)) (local.get $stack))
                  (then (return (i32.const -2))))
                (local.set $p (call $member (local.get $p) (local.get $end)
                  (i32.add (local.get $tape) (i32.shl (local.get $n) (i32.const 3)))))
                (if (i32.eqz (local.get $p)) (then (return (i32.const -1))))
                (local.set $n (i32.add (local.get $n) (i32.const 1)))))
            (br $value)))
        ;; '}' closes an object (kind 0), ']' an array (kind 1).
        (if (i32.eqz (select
                       (i32.eq (local.get $b) (i32.const 125))
                       (i32.eq (local.get $b) (i32.const 93))
                       (i32.eqz (local.get $kind))))
          (then (return (i32.const -1))))
        (i32.store offset=4 (local.get $open) (local.get $n))
        (local.set $depth (i32.sub (local.get $depth) (i32.const 1)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $close)))
    (unreachable))
)
